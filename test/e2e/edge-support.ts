/**
 * Support for the edge end-to-end tests: certificates generated at run time (@peculiar/x509 into
 * memory, PFX via the openssl CLI into a temp dir), a recording HTTPS backend, the seed's gateway
 * as ARM JSON, and a small HTTPS client with full control over SNI, Host and client certificates.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { resourceIdOf, type ArmResource } from '../../src/model/resources.js';
import assert from 'node:assert/strict';
import { generateCertificate, parseCertificates, writePkcs12, type GeneratedCertificate } from '../../src/pki/index.js';
import { DiagnosticBag } from '../../src/core/diagnostics.js';
import { memoryLogger } from '../../src/core/logger.js';
import { MutableAddressBook } from '../../src/model/network.js';
import { adaptApplicationGateway } from '../../src/config/resources/applicationGateway.js';
import { startApplicationGateway, type RunningEdge } from '../../src/edge/index.js';

export const fixtures = resolve(import.meta.dirname, '../fixtures/bosma-certificates');
export const fixture = (name: string): Buffer => readFileSync(join(fixtures, name));
export const PFX_PASSWORD = 'P@ssw0rd';

export interface GeneratedCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly generated: GeneratedCertificate;
}

/** A certificate made at run time with src/pki's generator (ECDSA P-256). */
export async function generate(
  subject: string,
  options: { issuer?: GeneratedCert; ca?: boolean; dns?: string[]; clientAuth?: boolean; serverAuth?: boolean; notBefore?: Date; notAfter?: Date } = {},
): Promise<GeneratedCert> {
  const eku: ('serverAuth' | 'clientAuth')[] = [];
  if (options.clientAuth) eku.push('clientAuth');
  if (options.serverAuth || options.dns) eku.push('serverAuth');
  const generated = await generateCertificate({
    subject,
    keyAlgorithm: 'ec-p256',
    notBefore: options.notBefore ?? new Date(Date.now() - 3600_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 30 * 86400_000),
    ...(options.ca ? { ca: {} } : {}),
    ...(eku.length ? { extendedKeyUsage: eku } : {}),
    ...(options.dns ? { dnsNames: options.dns } : {}),
    ...(options.issuer ? { issuer: { certificate: options.issuer.generated.certificate, privateKey: options.issuer.generated.privateKey } } : {}),
  });
  return { certPem: generated.certificate.toPem(), keyPem: generated.privateKeyPem, generated };
}

/** A PFX (base64) as Azure stores sslCertificates. */
export function pfxBase64(leaf: GeneratedCert, chain: readonly GeneratedCert[], password = PFX_PASSWORD): string {
  return writePkcs12([leaf.generated.certificate.der, ...chain.map((c) => c.generated.certificate.der)], leaf.generated.privateKey, password).toString('base64');
}

/** Everything a seed-like test needs, generated once per test file. */
export interface TestPki {
  /** Signs the gateway's frontend certificate (clients trust it). */
  readonly frontendCa: GeneratedCert;
  readonly frontend: GeneratedCert;
  readonly frontendPfx: string;
  /** Gatehouse's platform CA stand-in: signs the backend's certificate. */
  readonly platformCa: GeneratedCert;
  readonly backend: GeneratedCert;
  /** A CA nobody trusts, and a client it issued. */
  readonly otherCa: GeneratedCert;
  readonly otherClient: GeneratedCert;
}

export const APIM_HOST = 'apim-gh.azure-api.net';
export const FRONT_HOST = 'apim-sample.dev';

export async function makeTestPki(extraFrontNames: string[] = []): Promise<TestPki> {
  const frontendCa = await generate('CN=Gatehouse Test Frontend CA', { ca: true });
  const frontend = await generate(`CN=${FRONT_HOST}`, { issuer: frontendCa, dns: [FRONT_HOST, ...extraFrontNames] });
  const platformCa = await generate('CN=Gatehouse Test Platform CA', { ca: true });
  const backend = await generate(`CN=${APIM_HOST}`, { issuer: platformCa, dns: [APIM_HOST] });
  const otherCa = await generate('CN=Some Other CA', { ca: true });
  const otherClient = await generate('CN=Other Client', { issuer: otherCa, clientAuth: true });
  return { frontendCa, frontend, frontendPfx: pfxBase64(frontend, [frontendCa]), platformCa, backend, otherCa, otherClient };
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly servername: string | undefined;
  readonly body: string;
}

export interface Backend {
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Header values (all copies, any case) of the last request to a path. */
  header(name: string, request?: RecordedRequest): string[];
  close(): Promise<void>;
}

/** An HTTPS backend like API Management: /status-0123456789abcdef answers 200; everything else echoes. */
export interface BackendAnswer {
  status?: number;
  body?: string;
  delayMs?: number;
}

export async function startBackend(pki: TestPki, options: { delayMs?: number; statusPath?: string; plain?: boolean; name?: string; respond?: (req: http.IncomingMessage) => BackendAnswer | undefined } = {}): Promise<Backend> {
  const requests: RecordedRequest[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const rec: RecordedRequest = { method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, servername: (req.socket as tls.TLSSocket).servername || undefined, body };
      if (req.url !== (options.statusPath ?? '/status-0123456789abcdef')) requests.push(rec);
      const answer = options.respond?.(req);
      const send = () => {
        if (res.destroyed) return;
        const body = Buffer.from(answer?.body ?? JSON.stringify({ url: req.url, method: req.method }));
        res.writeHead(answer?.status ?? 200, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'X-Backend': options.name ?? 'yes', Server: 'backend' });
        res.end(body);
      };
      const delay = answer?.delayMs ?? (req.url !== (options.statusPath ?? '/status-0123456789abcdef') ? options.delayMs : undefined);
      if (delay) setTimeout(send, delay);
      else send();
    });
  };
  const server = options.plain ? http.createServer(handler) : https.createServer({ key: pki.backend.keyPem, cert: pki.backend.certPem + pki.platformCa.certPem }, handler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    header(name, request) {
      const r = request ?? requests[requests.length - 1];
      if (!r) return [];
      const out: string[] = [];
      for (let i = 0; i < r.rawHeaders.length; i += 2) if (r.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(r.rawHeaders[i + 1]!);
      return out;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const GW = 'agw-validate-client-certificate';
const id = (kind: string, name: string) => resourceIdOf(`Microsoft.Network/applicationGateways/${kind}`, `${GW}/${name}`);

/** The seed's application gateway (spec: seed sections "Deploy Application Gateway" … "Plugging the security hole"). */
export function seedGateway(pki: TestPki, options: { defaultRewriteRules?: boolean; enableHttp2?: boolean; verifyClientCertIssuerDN?: boolean; verifyClientAuthMode?: 'Strict' | 'Passthrough'; trustedChain?: string; backendAddress?: string } = {}): ArmResource {
  const httpsRule: Record<string, unknown> = {
    priority: 10,
    ruleType: 'Basic',
    httpListener: { id: id('httpListeners', 'https-listener') },
    backendAddressPool: { id: id('backendAddressPools', 'apim-gateway-backend-pool') },
    backendHttpSettings: { id: id('backendHttpSettingsCollection', 'apim-gateway-backend-settings') },
  };
  if (options.defaultRewriteRules !== false) httpsRule.rewriteRuleSet = { id: id('rewriteRuleSets', 'default-rewrite-rules') };
  const clientAuthConfiguration: Record<string, unknown> = { verifyClientCertIssuerDN: options.verifyClientCertIssuerDN ?? true };
  if (options.verifyClientAuthMode) clientAuthConfiguration.verifyClientAuthMode = options.verifyClientAuthMode;
  return {
    type: 'Microsoft.Network/applicationGateways',
    name: GW,
    apiVersion: '2023-05-01',
    id: resourceIdOf('Microsoft.Network/applicationGateways', GW),
    location: 'westeurope',
    properties: {
      sku: { name: 'Standard_v2', tier: 'Standard_v2' },
      enableHttp2: options.enableHttp2 ?? false,
      autoscaleConfiguration: { minCapacity: 0, maxCapacity: 2 },
      gatewayIPConfigurations: [{ name: 'agw-subnet-ip-config', properties: { subnet: { id: resourceIdOf('Microsoft.Network/virtualNetworks/subnets', 'vnet/agw') } } }],
      frontendIPConfigurations: [{ name: 'agw-public-frontend-ip', properties: { publicIPAddress: { id: resourceIdOf('Microsoft.Network/publicIPAddresses', 'pip-agw-validate-client-certificate') } } }],
      frontendPorts: [
        { name: 'port-https', properties: { port: 443 } },
        { name: 'port-mtls', properties: { port: 53029 } },
      ],
      sslCertificates: [{ name: 'agw-ssl-certificate', properties: { data: pki.frontendPfx, password: PFX_PASSWORD } }],
      trustedClientCertificates: [{ name: 'intermediate-ca-with-root-ca', properties: { data: options.trustedChain ?? fixture('dev-intermediate-ca-with-root-ca.cer').toString('utf8') } }],
      sslProfiles: [
        {
          name: 'mtls-ssl-profile',
          properties: {
            clientAuthConfiguration,
            trustedClientCertificates: [{ id: id('trustedClientCertificates', 'intermediate-ca-with-root-ca') }],
          },
        },
      ],
      httpListeners: [
        {
          name: 'https-listener',
          properties: {
            protocol: 'Https',
            hostName: FRONT_HOST,
            frontendIPConfiguration: { id: id('frontendIPConfigurations', 'agw-public-frontend-ip') },
            frontendPort: { id: id('frontendPorts', 'port-https') },
            sslCertificate: { id: id('sslCertificates', 'agw-ssl-certificate') },
          },
        },
        {
          name: 'mtls-listener',
          properties: {
            protocol: 'Https',
            hostName: FRONT_HOST,
            frontendIPConfiguration: { id: id('frontendIPConfigurations', 'agw-public-frontend-ip') },
            frontendPort: { id: id('frontendPorts', 'port-mtls') },
            sslCertificate: { id: id('sslCertificates', 'agw-ssl-certificate') },
            sslProfile: { id: id('sslProfiles', 'mtls-ssl-profile') },
          },
        },
      ],
      backendAddressPools: [{ name: 'apim-gateway-backend-pool', properties: { backendAddresses: [{ ipAddress: options.backendAddress ?? '10.0.1.4' }] } }],
      probes: [
        {
          name: 'apim-gateway-probe',
          properties: { pickHostNameFromBackendHttpSettings: true, interval: 30, timeout: 30, path: '/status-0123456789abcdef', protocol: 'Https', unhealthyThreshold: 3, match: { statusCodes: ['200-399'] } },
        },
      ],
      backendHttpSettingsCollection: [
        {
          name: 'apim-gateway-backend-settings',
          properties: { port: 443, protocol: 'Https', cookieBasedAffinity: 'Disabled', hostName: APIM_HOST, requestTimeout: 20, probe: { id: id('probes', 'apim-gateway-probe') } },
        },
      ],
      rewriteRuleSets: [
        {
          name: 'mtls-rewrite-rules',
          properties: {
            rewriteRules: [
              {
                ruleSequence: 100,
                conditions: [],
                name: 'Add Client certificate to HTTP header',
                actionSet: { requestHeaderConfigurations: [{ headerName: 'X-ARR-ClientCert', headerValue: '{var_client_certificate}' }], responseHeaderConfigurations: [] },
              },
            ],
          },
        },
        {
          name: 'default-rewrite-rules',
          properties: {
            rewriteRules: [
              {
                ruleSequence: 100,
                conditions: [],
                name: 'Remove X-ARR-ClientCert HTTP header',
                actionSet: { requestHeaderConfigurations: [{ headerName: 'X-ARR-ClientCert', headerValue: '' }], responseHeaderConfigurations: [] },
              },
            ],
          },
        },
      ],
      requestRoutingRules: [
        { name: 'apim-https-routing-rule', properties: httpsRule },
        {
          name: 'apim-mtls-routing-rule',
          properties: {
            priority: 30,
            ruleType: 'Basic',
            httpListener: { id: id('httpListeners', 'mtls-listener') },
            backendAddressPool: { id: id('backendAddressPools', 'apim-gateway-backend-pool') },
            backendHttpSettings: { id: id('backendHttpSettingsCollection', 'apim-gateway-backend-settings') },
            rewriteRuleSet: { id: id('rewriteRuleSets', 'mtls-rewrite-rules') },
          },
        },
      ],
    },
  };
}

export const gatewayChildId = id;

export interface ClientResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: string;
  /** CN of the certificate the server presented. */
  readonly serverCN?: string;
}

export interface ClientOptions {
  readonly port: number;
  readonly path?: string;
  readonly method?: string;
  /** null: send no SNI. */
  readonly servername?: string | null;
  readonly host?: string;
  readonly ca?: string;
  readonly insecure?: boolean;
  readonly pfx?: Buffer;
  readonly key?: string;
  readonly cert?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string;
  readonly minVersion?: tls.SecureVersion;
  readonly maxVersion?: tls.SecureVersion;
  readonly ciphers?: string;
}

/** One HTTPS request on a fresh connection. */
export function request(o: ClientOptions): Promise<ClientResponse> {
  return new Promise((resolvePromise, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: o.port,
        path: o.path ?? '/',
        method: o.method ?? 'GET',
        ...(o.servername === null ? {} : { servername: o.servername ?? FRONT_HOST }),
        headers: { Host: o.host ?? FRONT_HOST, ...(o.headers ?? {}) },
        ...(o.insecure ? { rejectUnauthorized: false } : {}),
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.pfx ? { pfx: o.pfx, passphrase: PFX_PASSWORD } : {}),
        ...(o.key ? { key: o.key, cert: o.cert } : {}),
        ...(o.minVersion ? { minVersion: o.minVersion } : {}),
        ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
        ...(o.ciphers ? { ciphers: o.ciphers } : {}),
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => (body += d));
        const peer = (res.socket as tls.TLSSocket).getPeerCertificate?.();
        const serverCN = peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined;
        res.on('end', () => resolvePromise({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, ...(serverCN ? { serverCN } : {}) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Raw bytes over TLS (for requests no well-behaved client would send). Resolves with everything the server sent. */
export function rawTls(o: { port: number; servername?: string; ca?: string; pfx?: Buffer; data: string | Buffer; timeoutMs?: number }): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: o.port, servername: o.servername ?? FRONT_HOST, ...(o.ca ? { ca: o.ca } : {}), ...(o.pfx ? { pfx: o.pfx, passphrase: PFX_PASSWORD } : {}), ALPNProtocols: ['http/1.1'] }, () => s.write(o.data));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    const timer = setTimeout(() => {
      s.destroy();
      resolvePromise(out + '[still open]');
    }, o.timeoutMs ?? 3000);
    s.on('close', () => {
      clearTimeout(timer);
      resolvePromise(out);
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      if (out) resolvePromise(out);
      else reject(e);
    });
  });
}

/** One HTTP/2 request. */
export function requestH2(o: ClientOptions): Promise<ClientResponse & { alpn: string | false }> {
  return new Promise((resolvePromise, reject) => {
    const session = http2.connect(`https://127.0.0.1:${o.port}`, { servername: o.servername ?? FRONT_HOST, ...(o.ca ? { ca: o.ca } : {}), ...(o.pfx ? { pfx: o.pfx, passphrase: PFX_PASSWORD } : {}) });
    session.on('error', reject);
    const req = session.request({ ':method': o.method ?? 'GET', ':path': o.path ?? '/', ':authority': o.host ?? FRONT_HOST, ...(o.headers ?? {}) });
    let body = '';
    let status = 0;
    let headers: http.IncomingHttpHeaders = {};
    req.setEncoding('latin1');
    req.on('response', (h) => {
      status = Number(h[':status']);
      headers = h as http.IncomingHttpHeaders;
    });
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const alpn = (session.socket as tls.TLSSocket).alpnProtocol ?? false;
      session.close();
      resolvePromise({ status, headers, rawHeaders: [], body, alpn });
    });
    req.on('error', (e) => {
      session.close();
      reject(e);
    });
    req.end(o.body);
  });
}

/** Adapts the resource (asserting no errors) and starts it with the backend behind 10.0.1.4:443. */
export async function startSeed(pki: TestPki, backend: Backend, resource: ArmResource, logger = memoryLogger(), extra: Partial<Parameters<typeof startApplicationGateway>[1]> = {}): Promise<RunningEdge> {
  const diagnostics = new DiagnosticBag();
  const model = adaptApplicationGateway(resource, { resources: [resource], diagnostics });
  assert.deepEqual(diagnostics.errors, []);
  const addressBook = new MutableAddressBook();
  addressBook.set('10.0.1.4', 443, { host: '127.0.0.1', port: backend.port });
  return startApplicationGateway(model!, {
    portMap: new Map([
      [443, 0],
      [53029, 0],
    ]),
    addressBook,
    extraTrustedRoots: parseCertificates(pki.platformCa.certPem, { origin: 'platform-ca' }),
    logger,
    ...extra,
  });
}


/** `{ id }` of a child of the test gateway. */
export const ref = (kind: string, name: string) => ({ id: id(kind, name) });

/** A gateway resource with the test gateway's name around these properties. */
export function gatewayResource(properties: Record<string, unknown>): ArmResource {
  return { type: 'Microsoft.Network/applicationGateways', name: GW, id: resourceIdOf('Microsoft.Network/applicationGateways', GW), properties };
}

/** The parts most test gateways share: one frontend IP, the APIM-like pool behind 10.0.1.4, settings, probe. */
export function commonParts(pki: TestPki, settings: Record<string, unknown> = {}, probe: Record<string, unknown> = {}) {
  return {
    frontendIPConfigurations: [{ name: 'fip', properties: { publicIPAddress: { id: resourceIdOf('Microsoft.Network/publicIPAddresses', 'pip') } } }],
    backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ ipAddress: '10.0.1.4' }] } }],
    probes: [{ name: 'probe', properties: { pickHostNameFromBackendHttpSettings: true, interval: 30, timeout: 30, path: '/status-0123456789abcdef', protocol: 'Https', unhealthyThreshold: 3, ...probe } }],
    backendHttpSettingsCollection: [{ name: 'settings', properties: { port: 443, protocol: 'Https', hostName: APIM_HOST, requestTimeout: 20, probe: ref('probes', 'probe'), ...settings } }],
    sslCertificates: [{ name: 'cert', properties: { data: pki.frontendPfx, password: PFX_PASSWORD } }],
  };
}

/** A rewrite set that tags requests with `X-Listener: <tag>`. */
export function tagSet(tag: string) {
  return { name: `tag-${tag}`, properties: { rewriteRules: [{ name: 'tag', ruleSequence: 100, conditions: [], actionSet: { requestHeaderConfigurations: [{ headerName: 'X-Listener', headerValue: tag }] } }] } };
}

/** A Basic rule from listener to the common pool. */
export function basicRule(name: string, listener: string, priority: number, rewriteRuleSet?: string) {
  return {
    name,
    properties: {
      priority,
      ruleType: 'Basic',
      httpListener: ref('httpListeners', listener),
      backendAddressPool: ref('backendAddressPools', 'pool'),
      backendHttpSettings: ref('backendHttpSettingsCollection', 'settings'),
      ...(rewriteRuleSet ? { rewriteRuleSet: ref('rewriteRuleSets', rewriteRuleSet) } : {}),
    },
  };
}

export function listener(name: string, port: string, extra: Record<string, unknown> = {}) {
  return { name, properties: { protocol: 'Https', frontendIPConfiguration: ref('frontendIPConfigurations', 'fip'), frontendPort: ref('frontendPorts', port), sslCertificate: ref('sslCertificates', 'cert'), ...extra } };
}
