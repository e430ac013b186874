/**
 * Helpers for the API Management end-to-end tests: a server certificate made at run time with
 * openssl (never committed), the seed's certificates as ARM values, a model from resources, and
 * a local HTTPS backend that echoes what it received.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DiagnosticBag, formatDiagnostics } from '../../src/core/diagnostics.js';
import { adaptApiManagement } from '../../src/config/resources/apiManagement.js';
import type { ApiManagementModel } from '../../src/model/apiManagement.js';
import { resourceIdOf, type ArmResource } from '../../src/model/resources.js';

export const fixtures = resolve(import.meta.dirname, '../fixtures/bosma-certificates');

export function fixture(name: string): Buffer {
  return readFileSync(join(fixtures, name));
}

/** base64 DER of a .cer fixture (the form Bicep's loadTextContent of '*.without-markers.cer' gives). */
export function base64Of(name: string): string {
  return fixture(name)
    .toString('utf8')
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '');
}

export interface ServerTls {
  readonly cert: string;
  readonly key: string;
  readonly dir: string;
  cleanup(): void;
}

/** A self-signed server certificate for the given names, made now in a temp dir. */
export function makeServerTls(names: readonly string[]): ServerTls {
  const dir = mkdtempSync(join(tmpdir(), 'gh-apim-tls-'));
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  return {
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function res(type: string, name: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}): ArmResource {
  const fullType = type.startsWith('Microsoft.') ? type : `Microsoft.ApiManagement/service${type ? '/' + type : ''}`;
  return { type: fullType, name, id: resourceIdOf(fullType, name), properties, ...extra };
}

/** Adapts resources and fails the test with the diagnostics when there are errors. */
export function modelOf(resources: ArmResource[]): ApiManagementModel {
  const diagnostics = new DiagnosticBag();
  const models = adaptApiManagement(resources, { diagnostics, baseDir: process.cwd() });
  if (diagnostics.hasErrors) throw new Error(formatDiagnostics(diagnostics.items));
  if (models.length !== 1) throw new Error(`expected one service, got ${models.length}`);
  return models[0]!;
}

/** The seed's service: Root and CertificateAuthority stores and the dev-client-01 entity. */
export function seedService(name = 'apim-sample', properties: Record<string, unknown> = {}): ArmResource[] {
  return [
    res(
      '',
      name,
      {
        certificates: [
          { encodedCertificate: base64Of('root-ca.cer'), storeName: 'Root' },
          { encodedCertificate: base64Of('dev-intermediate-ca.cer'), storeName: 'CertificateAuthority' },
        ],
        hostnameConfigurations: [{ type: 'Proxy', hostName: `${name}.azure-api.net`, certificateSource: 'BuiltIn', negotiateClientCertificate: true, defaultSslBinding: true }],
        ...properties,
      },
      { sku: { name: 'Developer', capacity: 1 } },
    ),
    res('certificates', `${name}/dev-client-01`, { data: base64Of('dev-client-01.cer') }),
    res('apis', `${name}/client-cert-api`, { displayName: 'Client Cert API', path: 'client-cert', protocols: ['https'], subscriptionRequired: false }),
  ];
}

export interface EchoBackend {
  readonly port: number;
  readonly requests: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string; clientCertSubject?: string }[];
  close(): Promise<void>;
}

/** An HTTPS backend on 127.0.0.1:0 that answers JSON describing the request it got. */
export async function startEchoBackend(tls: ServerTls, options: { requestCert?: boolean; status?: number; delayMs?: number } = {}): Promise<EchoBackend> {
  const requests: EchoBackend['requests'] = [];
  const server = https.createServer({ cert: tls.cert, key: tls.key, requestCert: options.requestCert ?? false, rejectUnauthorized: false }, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate?.();
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, ...(peer && peer.subject ? { clientCertSubject: `CN=${peer.subject.CN}` } : {}) };
      requests.push(entry);
      const answer = () => {
        res.writeHead(options.status ?? 200, { 'Content-Type': 'application/json', 'X-Backend': 'echo' });
        res.end(JSON.stringify(entry));
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
