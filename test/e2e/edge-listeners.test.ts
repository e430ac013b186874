/**
 * Issue 3 item 1: frontend ports, Basic and multi-site listeners sharing a port, SNI choosing the
 * certificate, Host choosing the listener, 404 without a match, plain HTTP to an HTTPS port,
 * routing-rule priority, sslPolicy minimum versions, HTTP/2 by ALPN.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import type { RunningEdge } from '../../src/edge/index.js';
import {
  FRONT_HOST,
  PFX_PASSWORD,
  basicRule,
  commonParts,
  fixture,
  gatewayResource,
  generate,
  listener,
  makeTestPki,
  pfxBase64,
  ref,
  request,
  requestH2,
  startBackend,
  startSeed,
  tagSet,
  type Backend,
  type TestPki,
} from './edge-support.js';

describe('listeners: multi-site on one port, SNI and Host, ports, policies', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;
  let ca: string;
  const port = (name: string) => edge.listeners.find((l) => l.name === name)!.localPort;

  before(async () => {
    pki = await makeTestPki();
    ca = pki.frontendCa.certPem;
    const certA = await generate('CN=a.example', { issuer: pki.frontendCa, dns: ['a.example'] });
    const certB = await generate('CN=*.b.example', { issuer: pki.frontendCa, dns: ['*.b.example'] });
    const certC = await generate('CN=default.example', { issuer: pki.frontendCa, dns: ['default.example', FRONT_HOST] });
    const common = commonParts(pki);
    const resource = gatewayResource({
      ...common,
      enableHttp2: true,
      sslCertificates: [
        { name: 'cert', properties: { data: pki.frontendPfx, password: PFX_PASSWORD } },
        { name: 'certA', properties: { data: pfxBase64(certA, [pki.frontendCa]), password: PFX_PASSWORD } },
        { name: 'certB', properties: { data: pfxBase64(certB, [pki.frontendCa]), password: PFX_PASSWORD } },
        { name: 'certC', properties: { data: pfxBase64(certC, [pki.frontendCa]), password: PFX_PASSWORD } },
      ],
      frontendPorts: [
        { name: 'p443', properties: { port: 443 } },
        { name: 'p8443', properties: { port: 8443 } },
        { name: 'p80', properties: { port: 80 } },
        { name: 'p9443', properties: { port: 9443 } },
        { name: 'p9444', properties: { port: 9444 } },
      ],
      trustedClientCertificates: [{ name: 'dev', properties: { data: fixture('dev-intermediate-ca-with-root-ca.cer').toString('utf8') } }],
      sslProfiles: [
        { name: 'mtlsB', properties: { clientAuthConfiguration: { verifyClientCertIssuerDN: true }, trustedClientCertificates: [ref('trustedClientCertificates', 'dev')] } },
        { name: 'tls13', properties: { sslPolicy: { policyType: 'Custom', minProtocolVersion: 'TLSv1_3' } } },
        { name: 'ciphers', properties: { sslPolicy: { policyType: 'Custom', minProtocolVersion: 'TLSv1_2', cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] } } },
      ],
      httpListeners: [
        listener('la', 'p443', { hostName: 'a.example', sslCertificate: ref('sslCertificates', 'certA') }),
        listener('lb', 'p443', { hostNames: ['*.b.example', 'b?.example'], sslCertificate: ref('sslCertificates', 'certB'), sslProfile: ref('sslProfiles', 'mtlsB') }),
        listener('lc', 'p443', { sslCertificate: ref('sslCertificates', 'certC') }),
        listener('ld', 'p8443', { hostName: 'only.example' }),
        { name: 'lh', properties: { protocol: 'Http', frontendIPConfiguration: ref('frontendIPConfigurations', 'fip'), frontendPort: ref('frontendPorts', 'p80') } },
        listener('l13', 'p9443', { sslProfile: ref('sslProfiles', 'tls13') }),
        listener('lciph', 'p9444', { sslProfile: ref('sslProfiles', 'ciphers') }),
      ],
      // la has no mTLS but (misconfigured on purpose) forwards {var_client_certificate}: it must stay empty there.
      rewriteRuleSets: ['la', 'lb', 'lc', 'ld', 'lh', 'l13'].map(tagSet).map((set) =>
        set.name === 'tag-la' ? { ...set, properties: { rewriteRules: [{ ...set.properties.rewriteRules[0]!, actionSet: { requestHeaderConfigurations: [...set.properties.rewriteRules[0]!.actionSet.requestHeaderConfigurations, { headerName: 'X-Client-Cert', headerValue: '{var_client_certificate}' }] } }] } } : set,
      ),
      requestRoutingRules: [
        basicRule('rc', 'lc', 100, 'tag-lc'),
        basicRule('ra', 'la', 10, 'tag-la'),
        basicRule('rb', 'lb', 20, 'tag-lb'),
        basicRule('rd', 'ld', 30, 'tag-ld'),
        basicRule('rh', 'lh', 40, 'tag-lh'),
        basicRule('r13', 'l13', 50, 'tag-l13'),
        basicRule('rciph', 'lciph', 60),
      ],
    });
    backend = await startBackend(pki);
    edge = await startSeed(pki, backend, resource, undefined, { portMap: new Map([[443, 0], [8443, 0], [80, 0], [9443, 0], [9444, 0]]) });
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  test('one local port per frontend port; listeners sharing a port share its local port', () => {
    assert.equal(port('la'), port('lb'));
    assert.equal(port('la'), port('lc'));
    assert.notEqual(port('la'), port('ld'));
    assert.equal(edge.listeners.find((l) => l.name === 'lh')!.url.startsWith('http://'), true);
  });

  test('SNI a.example gets certificate A; Host a.example is routed by listener la', async () => {
    const r = await request({ port: port('la'), ca, servername: 'a.example', host: 'a.example' });
    assert.equal(r.status, 200);
    assert.equal(r.serverCN, 'a.example');
    assert.deepEqual(backend.header('X-Listener'), ['la']);
  });

  test('SNI x.b.example (wildcard) gets certificate B, asks for a client certificate, routes to lb', async () => {
    const r = await request({ port: port('lb'), ca, servername: 'x.b.example', host: 'x.b.example', pfx: fixture('dev-client-01.pfx') });
    assert.equal(r.status, 200);
    assert.equal(r.serverCN, '*.b.example');
    assert.deepEqual(backend.header('X-Listener'), ['lb']);
  });

  test("'?' wildcard: b1.example matches b?.example; b12.example does not (falls to the basic listener)", async () => {
    const r1 = await request({ port: port('lb'), ca, servername: 'b1.example', host: 'b1.example', pfx: fixture('dev-client-01.pfx'), insecure: true });
    assert.equal(r1.status, 200);
    assert.deepEqual(backend.header('X-Listener'), ['lb']);
    const r2 = await request({ port: port('lb'), ca, servername: 'b12.example', host: 'b12.example', insecure: true });
    assert.equal(r2.status, 200);
    assert.deepEqual(backend.header('X-Listener'), ['lc']);
  });

  test('no SNI: the basic listener\'s certificate; an unknown Host goes to the basic listener (lowest priority)', async () => {
    const r = await request({ port: port('lc'), servername: null, host: 'unknown.example', insecure: true });
    assert.equal(r.status, 200);
    assert.equal(r.serverCN, 'default.example');
    assert.deepEqual(backend.header('X-Listener'), ['lc']);
  });

  test('Host is matched case-insensitively and without its port', async () => {
    const r = await request({ port: port('la'), ca, servername: 'a.example', host: 'A.Example:443' });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('X-Listener'), ['la']);
  });

  test('no bypass: TLS made for a.example (no certificate requested) with Host x.b.example (mTLS) → 400 no certificate', async () => {
    const before = backend.requests.length;
    const r = await request({ port: port('la'), ca, servername: 'a.example', host: 'x.b.example' });
    assert.equal(r.status, 400);
    assert.match(r.body, /No required SSL certificate was sent/);
    assert.equal(backend.requests.length, before);
  });

  test('TLS made for x.b.example with a client certificate, Host a.example → listener la, which sees no client certificate', async () => {
    const r = await request({ port: port('lb'), ca, servername: 'x.b.example', host: 'a.example', pfx: fixture('dev-client-01.pfx') });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('X-Listener'), ['la']);
    // la verifies no client certificate, so its mutual-authentication variables are empty and the header is not sent.
    assert.deepEqual(backend.header('X-Client-Cert'), []);
  });

  test('a client-initiated TLS 1.2 renegotiation is refused: the connection ends, no second handshake, no answer (openssl s_client)', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port('la')}`, '-servername', 'a.example', '-tls1_2'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
      const kill = setTimeout(() => c.kill('SIGKILL'), 8000);
      c.on('error', reject);
      c.on('close', () => {
        clearTimeout(kill);
        resolve(text);
      });
      // 'R' asks s_client to renegotiate; the request after it must not be answered.
      setTimeout(() => c.stdin.write('R\n'), 500);
      setTimeout(() => c.stdin.end('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n'), 1500);
    });
    assert.match(out, /RENEGOTIATING/);
    assert.equal(out.match(/^depth=0 /gm)?.length ?? 0, 1, `one handshake only:\n${out}`);
    assert.doesNotMatch(out, /HTTP\/1\.1 \d{3}/);
    const r = await request({ port: port('la'), ca, servername: 'a.example', host: 'a.example' });
    assert.equal(r.status, 200, 'the gateway serves new connections afterwards');
  });

  test('a port with only multi-site listeners: unknown Host → 404 with the gateway\'s page', async () => {
    const ok = await request({ port: port('ld'), ca, servername: 'only.example', host: 'only.example', insecure: true });
    assert.equal(ok.status, 200);
    const r = await request({ port: port('ld'), ca, servername: 'only.example', host: 'zzz.example', insecure: true });
    assert.equal(r.status, 404);
    assert.equal(r.headers.server, 'Microsoft-Azure-Application-Gateway/v2');
    assert.equal(r.body, '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n');
  });

  test('plain HTTP sent to the HTTPS port → 400 "The plain HTTP request was sent to HTTPS port", connection closed', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port('la'), '127.0.0.1', () => s.write(`GET / HTTP/1.1\r\nHost: a.example\r\n\r\n`));
      let d = '';
      s.setEncoding('latin1');
      s.on('data', (x: string) => (d += x));
      s.on('close', () => resolve(d));
      s.on('error', reject);
      setTimeout(() => s.destroy(), 3000).unref();
    });
    assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(out, /\r\nConnection: close\r\n/);
    assert.match(out, /<center>The plain HTTP request was sent to HTTPS port<\/center>/);
  });

  test('an Http listener: proxied with X-Forwarded-Proto http and the declared port', async () => {
    const r = await new Promise<{ status: number }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: port('lh'), path: '/plain', headers: { Host: 'whatever.example' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode! }));
      }).on('error', reject);
    });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('X-Listener'), ['lh']);
    assert.deepEqual(backend.header('X-Forwarded-Proto'), ['http']);
    assert.deepEqual(backend.header('X-Forwarded-Port'), ['80']);
  });

  test('sslProfile sslPolicy TLSv1_3 minimum: a TLS 1.2-only client fails the handshake; TLS 1.3 works', async () => {
    await assert.rejects(request({ port: port('l13'), ca, maxVersion: 'TLSv1.2' }));
    const r = await request({ port: port('l13'), ca, minVersion: 'TLSv1.3' });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('X-Listener'), ['l13']);
  });

  test('sslPolicy cipherSuites (IANA names) restrict TLS 1.2 ciphers', async () => {
    await assert.rejects(request({ port: port('lciph'), ca, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }));
    const r = await request({ port: port('lciph'), ca, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(r.status, 200);
  });

  test('the gateway default policy (AppGwSslPolicy20220101) refuses TLS 1.1', async () => {
    await assert.rejects(request({ port: port('la'), ca, servername: 'a.example', host: 'a.example', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' }));
  });

  test('a client that leaves in the middle of its ClientHello leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const socket = net.connect(port('la'), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(Buffer.from([0x16, 0x03, 0x01]));
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(timers(), before);
  });

  test('enableHttp2: ALPN h2 to clients, HTTP/1.1 to the backend', async () => {
    const r = await requestH2({ port: port('la'), ca, servername: 'a.example', host: 'a.example' });
    assert.equal(r.alpn, 'h2');
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('X-Listener'), ['la']);
    assert.deepEqual(backend.header('host'), ['apim-gh.azure-api.net']);
  });

  test('HTTP/2 cookie fields split by the client reach the HTTP/1.1 backend as one Cookie header (RFC 9113 8.2.3)', async () => {
    const r = await requestH2({ port: port('la'), ca, servername: 'a.example', host: 'a.example', headers: { cookie: ['a=1', 'b=2'] } });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('cookie'), ['a=1; b=2']);
  });
});

describe('h2c upgrade attempts', () => {
  test('Upgrade: h2c over HTTP/1.1 → 403 with the gateway page (spec 4.7)', async () => {
    const pki = await makeTestPki();
    const backend = await startBackend(pki);
    const { seedGateway, rawTls } = await import('./edge-support.js');
    const edge = await startSeed(pki, backend, seedGateway(pki));
    try {
      const out = await rawTls({ port: edge.listeners[0]!.localPort, ca: pki.frontendCa.certPem, data: `GET / HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n` });
      assert.match(out, /^HTTP\/1\.1 403 Forbidden\r\n/);
      assert.match(out, /<title>403 Forbidden<\/title>/);
      assert.equal(backend.requests.length, 0);
    } finally {
      await edge.close();
      await backend.close();
    }
  });
});
