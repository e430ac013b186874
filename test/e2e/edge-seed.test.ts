/**
 * The seed's application gateway, end to end over real TLS: the HTTPS listener on 443 and the
 * mTLS listener on 53029 (sslProfile with verifyClientCertIssuerDN and the DEV chain), the
 * X-ARR-ClientCert rewrite, the probe, the HTTPS backend reached through the address book.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../src/core/logger.js';
import type { RunningEdge } from '../../src/edge/index.js';
import { APIM_HOST, FRONT_HOST, fixture, fixtures, makeTestPki, request, seedGateway, startBackend, startSeed, type Backend, type TestPki } from './edge-support.js';
import { accessRecordFor } from '../helpers/logs.js';

const NO_CERT_PAGE =
  '<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n';
const CERT_ERROR_PAGE =
  '<html>\r\n<head><title>400 The SSL certificate error</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The SSL certificate error</center>\r\n<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n';

const portOf = (edge: RunningEdge, name: string) => edge.listeners.find((l) => l.name === name)!.localPort;

describe('the seed gateway (HTTPS 443 + mTLS 53029, default-rewrite-rules on)', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;
  const logger = memoryLogger();
  let httpsPort: number;
  let mtlsPort: number;
  let ca: string;

  before(async () => {
    pki = await makeTestPki();
    ca = pki.frontendCa.certPem;
    backend = await startBackend(pki);
    edge = await startSeed(pki, backend, seedGateway(pki), logger);
    httpsPort = portOf(edge, 'https-listener');
    mtlsPort = portOf(edge, 'mtls-listener');
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  test('lists both listeners, on different local ports, with their declared ports', () => {
    const byName = Object.fromEntries(edge.listeners.map((l) => [l.name, l]));
    assert.equal(byName['https-listener']!.declaredPort, 443);
    assert.equal(byName['mtls-listener']!.declaredPort, 53029);
    assert.equal(byName['https-listener']!.mtls, false);
    assert.equal(byName['mtls-listener']!.mtls, true);
    assert.notEqual(httpsPort, mtlsPort);
    assert.deepEqual(byName['mtls-listener']!.hostNames, [FRONT_HOST]);
    assert.match(byName['mtls-listener']!.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test('the probe ran before start resolved: the backend member is healthy', () => {
    assert.deepEqual(edge.health().map((h) => [h.address, h.healthy]), [['10.0.1.4', true]]);
  });

  test('HTTPS listener: proxied to the backend with its host name, SNI and the X-Forwarded-* headers', async () => {
    const r = await request({ port: httpsPort, ca, path: '/client-cert/validate-from-agw?x=1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-backend'], 'yes');
    const rec = backend.requests.at(-1)!;
    assert.equal(rec.url, '/client-cert/validate-from-agw?x=1');
    assert.equal(rec.servername, APIM_HOST);
    assert.deepEqual(backend.header('host', rec), [APIM_HOST]);
    assert.match(backend.header('x-forwarded-for', rec)[0]!, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(backend.header('x-forwarded-proto', rec), ['https']);
    assert.deepEqual(backend.header('x-forwarded-port', rec), ['443']);
    assert.deepEqual(backend.header('x-original-host', rec), [FRONT_HOST]);
    assert.deepEqual(backend.header('x-original-url', rec), ['/client-cert/validate-from-agw?x=1']);
    assert.match(backend.header('x-appgw-trace-id', rec)[0]!, /^[0-9a-f]{32}$/);
    assert.deepEqual(backend.header('x-arr-clientcert', rec), []);
  });

  test('HTTPS listener never asks the client for a certificate; the mTLS listener does (openssl s_client -state)', async () => {
    const handshake = (port: number) =>
      new Promise<string>((resolve) => {
        const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', FRONT_HOST, '-state', '-tls1_2'], { timeout: 10_000 }, (_e, stdout, stderr) => resolve(stdout + stderr));
        child.stdin!.end('');
      });
    const plain = await handshake(httpsPort);
    const mtls = await handshake(mtlsPort);
    assert.match(plain, /SSL_connect:SSLv3\/TLS read server done/);
    assert.doesNotMatch(plain, /certificate request/);
    assert.match(mtls, /SSL_connect:SSLv3\/TLS read server certificate request/);
  });

  test('mTLS listener without a client certificate: 400 with Azure\'s page byte for byte', async () => {
    const r = await request({ port: mtlsPort, ca, path: '/status-0123456789abcdef' });
    assert.equal(r.status, 400);
    assert.equal(r.headers.server, 'Microsoft-Azure-Application-Gateway/v2');
    assert.equal(r.headers.connection, 'close');
    assert.equal(r.headers['content-type'], 'text/html');
    assert.equal(r.body, NO_CERT_PAGE);
  });

  test('mTLS listener with dev-client-01: 200, and X-ARR-ClientCert equals NGINX\'s escaped certificate byte for byte', async () => {
    const before = backend.requests.length;
    const r = await request({ port: mtlsPort, ca, pfx: fixture('dev-client-01.pfx'), path: '/client-cert/validate-from-agw' });
    assert.equal(r.status, 200);
    assert.equal(backend.requests.length, before + 1);
    const expected = readFileSync(join(fixtures, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8');
    assert.deepEqual(backend.header('X-ARR-ClientCert'), [expected]);
    const traceId = backend.header('X-AppGW-Trace-Id').at(-1);
    const rec = await accessRecordFor(logger, (x) => x.transactionId === traceId);
    assert.equal(rec.sslClientVerify, 'SUCCESS');
    assert.equal(rec.sslClientCertificateFingerprint, 'b4af863c2ab64c4ffefb85e6a805a5346a8b0105');
    assert.equal(rec.listenerName, 'mtls-listener');
    assert.equal(rec.httpStatus, 200);
  });

  test('mTLS listener with dev-client-01 and a forged X-ARR-ClientCert: the backend sees only the real one', async () => {
    const r = await request({ port: mtlsPort, ca, pfx: fixture('dev-client-01.pfx'), headers: { 'X-ARR-ClientCert': 'forged', 'x-arr-clientcert': 'forged2' } });
    assert.equal(r.status, 200);
    const expected = readFileSync(join(fixtures, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8');
    assert.deepEqual(backend.header('X-ARR-ClientCert'), [expected]);
  });

  test('tst-client-01 (sends its TST intermediate, same root) is refused because verifyClientCertIssuerDN is true', async () => {
    const before = backend.requests.length;
    const r = await request({ port: mtlsPort, ca, pfx: fixture('tst-client-01.pfx') });
    assert.equal(r.status, 400);
    assert.equal(r.body, CERT_ERROR_PAGE);
    assert.equal(r.headers.server, 'Microsoft-Azure-Application-Gateway/v2');
    assert.equal(backend.requests.length, before);
    const rec = logger.records.filter((x) => x.msg === 'access').at(-1)!;
    assert.equal(rec.reason, 'client_cert_issuer_dn_mismatch');
  });

  test('a client certificate from another CA: 400 The SSL certificate error', async () => {
    const r = await request({ port: mtlsPort, ca, key: pki.otherClient.keyPem, cert: pki.otherClient.certPem + pki.otherCa.certPem });
    assert.equal(r.status, 400);
    assert.equal(r.body, CERT_ERROR_PAGE);
  });

  test('HTTPS listener with a forged X-ARR-ClientCert: default-rewrite-rules remove it', async () => {
    const forged = readFileSync(join(fixtures, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8');
    const r = await request({ port: httpsPort, ca, headers: { 'X-ARR-ClientCert': forged } });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('X-ARR-ClientCert'), []);
  });

  test('a keep-alive connection to the mTLS listener computes the certificate once and serves many requests', async () => {
    const https = await import('node:https');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const expected = readFileSync(join(fixtures, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8');
      for (let i = 0; i < 5; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = https.request({ host: '127.0.0.1', port: mtlsPort, servername: FRONT_HOST, ca, pfx: fixture('dev-client-01.pfx'), passphrase: 'P@ssw0rd', agent, headers: { Host: FRONT_HOST } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          });
          req.on('error', reject);
          req.end();
        });
        assert.equal(status, 200);
        assert.deepEqual(backend.header('X-ARR-ClientCert'), [expected]);
      }
    } finally {
      agent.destroy();
    }
  });
});

describe('the seed gateway before "Plugging the security hole" (no default-rewrite-rules)', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;

  before(async () => {
    pki = await makeTestPki();
    backend = await startBackend(pki);
    edge = await startSeed(pki, backend, seedGateway(pki, { defaultRewriteRules: false, verifyClientCertIssuerDN: false }));
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  test('a forged X-ARR-ClientCert on the HTTPS listener reaches the backend (the hole the seed describes)', async () => {
    const r = await request({ port: portOf(edge, 'https-listener'), ca: pki.frontendCa.certPem, headers: { 'X-ARR-ClientCert': 'forged-value' } });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('X-ARR-ClientCert'), ['forged-value']);
  });

  test('with verifyClientCertIssuerDN false, tst-client-01 (same root, other intermediate) is accepted, as NGINX does', async () => {
    const r = await request({ port: portOf(edge, 'mtls-listener'), ca: pki.frontendCa.certPem, pfx: fixture('tst-client-01.pfx') });
    assert.equal(r.status, 200);
    assert.equal(backend.header('X-ARR-ClientCert').length, 1);
  });
});
