/**
 * design.md's table: listener kind (TLS, mTLS Strict, mTLS Passthrough) × client (no certificate,
 * trusted, other CA, expired, not yet valid, spoofed header) → the result on the wire and what
 * the backend receives. Certificates are generated at run time; the trusted chain is uploaded
 * as Azure wants it (root + intermediate in one PEM file).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningEdge } from '../../src/edge/index.js';
import { memoryLogger } from '../../src/core/logger.js';
import { gatewayChildId as id, generate, makeTestPki, request, seedGateway, startBackend, startSeed, type Backend, type GeneratedCert, type TestPki } from './edge-support.js';

type Kind = 'TLS' | 'mTLS Strict' | 'mTLS Passthrough';
type Client = 'no cert' | 'trusted' | 'trusted, leaf only' | 'other CA' | 'expired' | 'not yet valid' | 'spoofed header';
type Wire = '200' | '400 no cert' | '400 cert error';
type AtBackend = 'no header' | 'client cert' | '-';

const table: [Kind, Client, Wire, AtBackend, string][] = [
  // kind               client            wire              X-ARR-ClientCert  {var_client_certificate_verification}
  ['TLS', 'no cert', '200', 'no header', ''],
  ['TLS', 'trusted', '200', 'no header', ''],
  ['TLS', 'other CA', '200', 'no header', ''],
  ['TLS', 'expired', '200', 'no header', ''],
  ['TLS', 'spoofed header', '200', 'no header', ''],
  ['mTLS Strict', 'no cert', '400 no cert', '-', ''],
  ['mTLS Strict', 'trusted', '200', 'client cert', 'SUCCESS'],
  ['mTLS Strict', 'trusted, leaf only', '200', 'client cert', 'SUCCESS'],
  ['mTLS Strict', 'other CA', '400 cert error', '-', ''],
  ['mTLS Strict', 'expired', '400 cert error', '-', ''],
  ['mTLS Strict', 'not yet valid', '400 cert error', '-', ''],
  ['mTLS Strict', 'spoofed header', '400 no cert', '-', ''],
  ['mTLS Passthrough', 'no cert', '200', 'no header', 'NONE'],
  ['mTLS Passthrough', 'trusted', '200', 'client cert', 'PASSTHROUGH'],
  ['mTLS Passthrough', 'other CA', '200', 'client cert', 'PASSTHROUGH'],
  ['mTLS Passthrough', 'expired', '200', 'client cert', 'PASSTHROUGH'],
  ['mTLS Passthrough', 'spoofed header', '200', 'no header', 'NONE'],
];

describe('listener kind × client certificate → wire result', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;
  const logger = memoryLogger();
  let clients: Record<Exclude<Client, 'no cert' | 'spoofed header'>, { cert: GeneratedCert; chain: GeneratedCert[] }>;

  before(async () => {
    pki = await makeTestPki();
    const root = await generate('CN=Table Root CA', { ca: true });
    const intermediate = await generate('CN=Table Intermediate CA', { ca: true, issuer: root });
    const day = 86400_000;
    clients = {
      trusted: { cert: await generate('CN=Table Client', { issuer: intermediate, clientAuth: true }), chain: [intermediate] },
      'trusted, leaf only': { cert: await generate('CN=Table Client Leaf Only', { issuer: intermediate, clientAuth: true }), chain: [] },
      'other CA': { cert: pki.otherClient, chain: [pki.otherCa] },
      expired: { cert: await generate('CN=Expired Client', { issuer: intermediate, clientAuth: true, notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) }), chain: [intermediate] },
      'not yet valid': { cert: await generate('CN=Future Client', { issuer: intermediate, clientAuth: true, notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 10 * day) }), chain: [intermediate] },
    };
    const resource = seedGateway(pki, { trustedChain: intermediate.certPem + root.certPem });
    const p = resource.properties as Record<string, Record<string, unknown>[]>;
    p.frontendPorts!.push({ name: 'port-passthrough', properties: { port: 53030 } });
    p.sslProfiles!.push({ name: 'passthrough-profile', properties: { clientAuthConfiguration: { VerifyClientCertIssuerDN: false, VerifyClientRevocation: 'None', VerifyClientAuthMode: 'Passthrough' } } });
    p.httpListeners!.push({
      name: 'passthrough-listener',
      properties: {
        protocol: 'Https',
        hostName: 'apim-sample.dev',
        frontendIPConfiguration: { id: id('frontendIPConfigurations', 'agw-public-frontend-ip') },
        frontendPort: { id: id('frontendPorts', 'port-passthrough') },
        sslCertificate: { id: id('sslCertificates', 'agw-ssl-certificate') },
        sslProfile: { id: id('sslProfiles', 'passthrough-profile') },
      },
    });
    p.requestRoutingRules!.push({
      name: 'passthrough-rule',
      properties: {
        priority: 40,
        ruleType: 'Basic',
        httpListener: { id: id('httpListeners', 'passthrough-listener') },
        backendAddressPool: { id: id('backendAddressPools', 'apim-gateway-backend-pool') },
        backendHttpSettings: { id: id('backendHttpSettingsCollection', 'apim-gateway-backend-settings') },
        rewriteRuleSet: { id: id('rewriteRuleSets', 'mtls-rewrite-rules') },
      },
    });
    const mtlsSet = p.rewriteRuleSets!.find((s) => s.name === 'mtls-rewrite-rules')!;
    const rule = ((mtlsSet.properties as Record<string, unknown>).rewriteRules as Record<string, Record<string, unknown[]>>[])[0]!;
    rule.actionSet!.requestHeaderConfigurations!.push({ headerName: 'X-Client-Verification', headerValue: '{var_client_certificate_verification}' });
    backend = await startBackend(pki);
    edge = await startSeed(pki, backend, resource, logger, { portMap: new Map([[443, 0], [53029, 0], [53030, 0]]) });
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  const listenerOf: Record<Kind, string> = { TLS: 'https-listener', 'mTLS Strict': 'mtls-listener', 'mTLS Passthrough': 'passthrough-listener' };

  for (const [kind, client, wire, atBackend, verification] of table) {
    test(`${kind} × ${client} → ${wire}${atBackend === '-' ? '' : `, backend: ${atBackend}`}`, async () => {
      const port = edge.listeners.find((l) => l.name === listenerOf[kind])!.localPort;
      const c = client === 'no cert' || client === 'spoofed header' ? undefined : clients[client];
      const before = backend.requests.length;
      const r = await request({
        port,
        ca: pki.frontendCa.certPem,
        ...(c ? { key: c.cert.keyPem, cert: c.cert.certPem + c.chain.map((x) => x.certPem).join('') } : {}),
        ...(client === 'spoofed header' ? { headers: { 'X-ARR-ClientCert': 'spoofed' } } : {}),
      });
      if (wire === '200') {
        assert.equal(r.status, 200);
        assert.equal(backend.requests.length, before + 1);
        const got = backend.header('X-ARR-ClientCert');
        if (atBackend === 'no header') assert.deepEqual(got, []);
        else assert.deepEqual(got, [c!.cert.generated.certificate.toEscapedPem()]);
        assert.deepEqual(backend.header('X-Client-Verification'), verification ? [verification] : []);
      } else {
        assert.equal(r.status, 400);
        assert.equal(r.headers.server, 'Microsoft-Azure-Application-Gateway/v2');
        assert.match(r.body, wire === '400 no cert' ? /<center>No required SSL certificate was sent<\/center>/ : /<center>The SSL certificate error<\/center>/);
        assert.equal(backend.requests.length, before);
        const rec = logger.records.filter((x) => x.msg === 'access').at(-1)!;
        assert.equal(rec.httpStatus, 400);
        assert.match(String(rec.reason), wire === '400 no cert' ? /^no_client_cert$/ : /^client_cert_(untrusted|expired)$/);
        if (wire === '400 cert error') assert.match(String(rec.sslClientVerify), /^FAILED:/);
      }
    });
  }
});
