/**
 * Issue 3 item 5: the seed's security hole, proven closed. A forged X-ARR-ClientCert sent to the
 * TLS listener never reaches the backend in any shape a parser could let through; malformed
 * requests get 400 and the connection closes (RFC 9112).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEdge } from '../../src/edge/index.js';
import { FRONT_HOST, fixture, fixtures, makeTestPki, rawTls, request, requestH2, seedGateway, startBackend, startSeed, type Backend, type TestPki } from './edge-support.js';

const isForgedName = (n: string) => n.toLowerCase().replace(/_/g, '-').trim() === 'x-arr-clientcert';

describe('forged X-ARR-ClientCert on the seed gateway (default-rewrite-rules, enableHttp2)', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;
  let httpsPort: number;
  let mtlsPort: number;
  let ca: string;
  const forgedAnywhere = (from = 0) => backend.requests.slice(from).some((r) => r.rawHeaders.some((v, i) => i % 2 === 0 && isForgedName(v)) || r.body.includes('X-ARR-ClientCert'));

  before(async () => {
    pki = await makeTestPki();
    ca = pki.frontendCa.certPem;
    backend = await startBackend(pki);
    edge = await startSeed(pki, backend, seedGateway(pki, { enableHttp2: true }));
    httpsPort = edge.listeners.find((l) => l.name === 'https-listener')!.localPort;
    mtlsPort = edge.listeners.find((l) => l.name === 'mtls-listener')!.localPort;
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  const accepted: [string, string][] = [
    ['exact name', 'X-ARR-ClientCert: forged\r\n'],
    ['lower case', 'x-arr-clientcert: forged\r\n'],
    ['upper case', 'X-ARR-CLIENTCERT: forged\r\n'],
    ['two copies', 'X-ARR-ClientCert: forged1\r\nX-ARR-ClientCert: forged2\r\n'],
    ['two copies, different case', 'X-ARR-ClientCert: forged1\r\nx-arr-clientcert: forged2\r\n'],
    ['whitespace around the value', 'X-ARR-ClientCert: \t forged \t \r\n'],
    ['empty value', 'X-ARR-ClientCert:\r\n'],
    ['underscore variant', 'X_ARR_ClientCert: forged\r\n'],
    ['mixed underscore variant', 'X-ARR_ClientCert: forged\r\n'],
  ];
  for (const [name, header] of accepted) {
    test(`HTTP/1.1, ${name}: answered by the backend, which never sees the header`, async () => {
      const before = backend.requests.length;
      const out = await rawTls({ port: httpsPort, ca, data: `GET /forged HTTP/1.1\r\nHost: ${FRONT_HOST}\r\n${header}Connection: close\r\n\r\n` });
      assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(backend.requests.length, before + 1);
      assert.equal(forgedAnywhere(before), false, JSON.stringify(backend.requests.at(-1)!.rawHeaders));
    });
  }

  const malformed: [string, string][] = [
    ['whitespace between name and colon', `GET /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nX-ARR-ClientCert : forged\r\n\r\n`],
    ['whitespace before the name (obs-fold of the previous line)', `GET /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\n X-ARR-ClientCert: forged\r\n\r\n`],
    ['obs-fold continuation line', `GET /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nX-Foo: a\r\n X-ARR-ClientCert: forged\r\n\r\n`],
    ['obs-fold with a tab', `GET /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nX-Foo: a\r\n\tX-ARR-ClientCert: forged\r\n\r\n`],
    [
      'CL + TE smuggling a second request',
      `POST /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nX-ARR-ClientCert: forged\r\n\r\n`,
    ],
    [
      'TE + CL (reversed order)',
      `POST /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nTransfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nX-ARR-ClientCert: forged\r\n\r\n`,
    ],
    ['two Content-Length values', `POST /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nContent-Length: 1\r\nContent-Length: 40\r\n\r\nxGET / HTTP/1.1\r\nX-ARR-ClientCert: forged\r\n\r\n`],
    ['obfuscated Transfer-Encoding', `POST /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\nabc`],
    ['bare LF line endings', `GET /m HTTP/1.1\nHost: ${FRONT_HOST}\nX-ARR-ClientCert: forged\n\n`],
    ['NUL in a header value', `GET /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nX-ARR-ClientCert: a\0b\r\n\r\n`],
    ['two Host headers', `GET /m HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nHost: other.example\r\nX-ARR-ClientCert: forged\r\n\r\n`],
  ];
  for (const [name, data] of malformed) {
    test(`malformed (${name}): 400 Bad Request, connection closed, nothing reaches the backend`, async () => {
      const before = backend.requests.length;
      const out = await rawTls({ port: httpsPort, ca, data });
      assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(out, /\r\nServer: Microsoft-Azure-Application-Gateway\/v2\r\n/);
      assert.match(out, /\r\nConnection: close\r\n/);
      assert.doesNotMatch(out, /\[still open\]$/);
      assert.equal((out.match(/HTTP\/1\.1 /g) ?? []).length, 1, out);
      assert.equal(backend.requests.length, before);
    });
  }

  test('HTTP/2 (ALPN h2): forged header in any case or with underscores never reaches the backend', async () => {
    const before = backend.requests.length;
    for (const h of ['x-arr-clientcert', 'x_arr_clientcert', 'x-arr_clientcert']) {
      const r = await requestH2({ port: httpsPort, ca, headers: { [h]: 'forged' } });
      assert.equal(r.alpn, 'h2');
      assert.equal(r.status, 200);
    }
    assert.equal(backend.requests.length, before + 3);
    assert.equal(forgedAnywhere(before), false);
  });

  test('HTTP/2 on the mTLS listener: the backend sees only the real certificate', async () => {
    const r = await requestH2({ port: mtlsPort, ca, pfx: fixture('dev-client-01.pfx'), headers: { 'x-arr-clientcert': 'forged', x_arr_clientcert: 'forged' } });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('x-arr-clientcert'), [readFileSync(join(fixtures, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8')]);
    assert.equal(backend.requests.at(-1)!.rawHeaders.filter((v, i) => i % 2 === 0 && isForgedName(v)).length, 1);
  });

  test('HTTP/1.1 keep-alive: a second request on the connection cannot carry a forged header either', async () => {
    const before = backend.requests.length;
    const out = await rawTls({ port: httpsPort, ca, data: `GET /one HTTP/1.1\r\nHost: ${FRONT_HOST}\r\n\r\nGET /two HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nx-ARR-clientCERT: forged\r\nConnection: close\r\n\r\n` });
    assert.equal((out.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 2);
    assert.equal(backend.requests.length, before + 2);
    assert.equal(forgedAnywhere(before), false);
  });

  test('mTLS listener, Strict, no certificate but a forged header: 400, nothing forwarded', async () => {
    const before = backend.requests.length;
    const r = await request({ port: mtlsPort, ca, headers: { 'X-ARR-ClientCert': 'forged' } });
    assert.equal(r.status, 400);
    assert.match(r.body, /No required SSL certificate was sent/);
    assert.equal(backend.requests.length, before);
  });
});

describe('request bodies reach the backend', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;
  let port: number;
  before(async () => {
    pki = await makeTestPki();
    backend = await startBackend(pki);
    edge = await startSeed(pki, backend, seedGateway(pki, { enableHttp2: true }));
    port = edge.listeners.find((l) => l.name === 'https-listener')!.localPort;
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  test('HTTP/1.1 with Content-Length', async () => {
    const r = await request({ port, ca: pki.frontendCa.certPem, method: 'POST', path: '/post', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' });
    assert.equal(r.status, 200);
    assert.equal(backend.requests.at(-1)!.body, '{"a":1}');
    assert.deepEqual(backend.header('content-length'), ['7']);
  });

  test('HTTP/1.1 chunked', async () => {
    const out = await rawTls({ port, ca: pki.frontendCa.certPem, data: `POST /chunked HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n` });
    assert.match(out, /^HTTP\/1\.1 200 OK/);
    assert.equal(backend.requests.at(-1)!.body, 'hello world');
  });

  test('HTTP/2 with a body', async () => {
    const r = await requestH2({ port, ca: pki.frontendCa.certPem, method: 'POST', path: '/h2post', body: 'x'.repeat(100_000) });
    assert.equal(r.status, 200);
    assert.equal(backend.requests.at(-1)!.body.length, 100_000);
  });

  test('HEAD: the backend\'s headers, no body', async () => {
    const r = await request({ port, ca: pki.frontendCa.certPem, method: 'HEAD', path: '/head' });
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.equal(backend.requests.at(-1)!.method, 'HEAD');
  });
});

describe('limits', () => {
  test('a header block over 32 KB: 400 Request Header Or Cookie Too Large, connection closed', async () => {
    const pki = await makeTestPki();
    const backend = await startBackend(pki);
    const edge = await startSeed(pki, backend, seedGateway(pki));
    try {
      const out = await rawTls({ port: edge.listeners[0]!.localPort, ca: pki.frontendCa.certPem, data: `GET / HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nCookie: ${'a'.repeat(40_000)}\r\n\r\n` });
      assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(out, /<title>400 Request Header Or Cookie Too Large<\/title>/);
      assert.equal(backend.requests.length, 0);
    } finally {
      await edge.close();
      await backend.close();
    }
  });
});
