/**
 * The edge's own HTTP/1.1 client towards backends (src/edge/upstream.ts), seen from a client over
 * real TLS: keep-alive reuse, chunked and close-delimited answers relayed, and 502 with the gateway
 * page for an answer the client must not get (obs-fold, conflicting lengths, an unknown coding).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import https from 'node:https';
import { memoryLogger } from '../../src/core/logger.js';
import { MutableAddressBook } from '../../src/model/network.js';
import { DiagnosticBag } from '../../src/core/diagnostics.js';
import { adaptApplicationGateway } from '../../src/config/resources/applicationGateway.js';
import { startApplicationGateway, type RunningEdge } from '../../src/edge/index.js';
import { FRONT_HOST, PFX_PASSWORD, gatewayResource, listener, makeTestPki, rawTls, ref, request, type TestPki } from './edge-support.js';

const BAD_GATEWAY = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n';

/** Answers by path with raw bytes; `null` closes the connection after writing. */
const ANSWERS: Record<string, { bytes: string; close?: boolean }> = {
  '/': { bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
  '/length': { bytes: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Backend: yes\r\n\r\nhello' },
  '/chunked': { bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n' },
  '/close': { bytes: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close', close: true },
  '/obs-fold': { bytes: 'HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nok' },
  '/two-lengths': { bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk' },
  '/gzip': { bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx', close: true },
  '/truncated': { bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this', close: true },
};

const BIG_PIECE = Buffer.alloc(1 << 20, 'b');
const BIG_PIECES = 64;

describe('the edge → an HTTP backend over its keep-alive pool', () => {
  const big = { written: 0 };
  let pki: TestPki;
  let backend: net.Server;
  let connections = 0;
  const seen: string[] = [];
  let edge: RunningEdge;
  let port: number;
  const logger = memoryLogger();

  before(async () => {
    pki = await makeTestPki();
    backend = net.createServer((s) => {
      connections++;
      s.on('error', () => s.destroy());
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString('latin1');
        for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
          const head = buf.slice(0, end);
          buf = buf.slice(end + 4);
          seen.push(head);
          const path = head.split(' ')[1]!;
          if (path === '/big') {
            big.written = 0;
            s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG_PIECES * BIG_PIECE.length}\r\n\r\n`);
            const pump = () => {
              while (big.written < BIG_PIECES && !s.destroyed && s.write(BIG_PIECE)) big.written++;
              if (big.written < BIG_PIECES && !s.destroyed) s.once('drain', () => (big.written++, pump()));
            };
            pump();
            continue;
          }
          const a = ANSWERS[path] ?? ANSWERS['/']!;
          if (a.close) s.end(a.bytes);
          else s.write(a.bytes);
        }
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const resource = gatewayResource({
      frontendIPConfigurations: [{ name: 'fip', properties: {} }],
      frontendPorts: [{ name: 'p443', properties: { port: 443 } }],
      sslCertificates: [{ name: 'cert', properties: { data: pki.frontendPfx, password: PFX_PASSWORD } }],
      httpListeners: [listener('l', 'p443', { hostName: FRONT_HOST })],
      backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ ipAddress: '10.0.3.4' }] } }],
      backendHttpSettingsCollection: [{ name: 'http', properties: { port: 80, protocol: 'Http', requestTimeout: 5 } }],
      requestRoutingRules: [{ name: 'r', properties: { priority: 10, ruleType: 'Basic', httpListener: ref('httpListeners', 'l'), backendAddressPool: ref('backendAddressPools', 'pool'), backendHttpSettings: ref('backendHttpSettingsCollection', 'http') } }],
    });
    const diagnostics = new DiagnosticBag();
    const model = adaptApplicationGateway(resource, { resources: [resource], diagnostics });
    assert.deepEqual(diagnostics.errors, []);
    const book = new MutableAddressBook();
    book.set('10.0.3.4', 80, { host: '127.0.0.1', port: (backend.address() as net.AddressInfo).port });
    edge = await startApplicationGateway(model!, { portMap: new Map([[443, 0]]), addressBook: book, logger });
    port = edge.listeners[0]!.localPort;
  });
  after(async () => {
    await edge?.close();
    await new Promise((r) => backend?.close(r));
  });

  const get = (path: string) => request({ port, ca: pki.frontendCa.certPem, path });
  const lastAccess = () => logger.records.filter((x) => x.msg === 'access').at(-1)!;

  test('sequential requests from several clients share one kept-alive backend connection', async () => {
    const before = connections;
    for (let i = 0; i < 5; i++) {
      const r = await get('/length');
      assert.equal(r.status, 200);
      assert.equal(r.body, 'hello');
      assert.equal(r.headers['x-backend'], 'yes');
      assert.equal(r.headers['content-length'], '5');
    }
    assert.ok(connections - before <= 1, `${connections - before} new backend connections`);
    // The request head the backend got: what Node's client wrote before (keep-alive asked for).
    assert.match(seen.at(-1)!, /^GET \/length HTTP\/1\.1\r\nHost: apim-sample\.dev\r\n/);
    assert.match(seen.at(-1)!, /\r\nConnection: keep-alive$/);
  });

  test('a chunked answer reaches the client whole', async () => {
    const r = await get('/chunked');
    assert.deepEqual([r.status, r.body], [200, 'hello world']);
  });

  test('an answer delimited by the close of the backend connection reaches the client whole', async () => {
    const r = await get('/close');
    assert.deepEqual([r.status, r.body], [200, 'until close']);
  });

  for (const path of ['/obs-fold', '/two-lengths', '/gzip']) {
    test(`${path}: 502 with the gateway page, reason backend_error`, async () => {
      const r = await get(path);
      assert.equal(r.status, 502);
      assert.equal(r.body, BAD_GATEWAY);
      assert.equal(lastAccess().reason, 'backend_error');
      assert.equal(lastAccess().httpStatus, 502);
    });
  }

  test('pipelined requests in one write get their answers in order (answers leave at the end of the turn)', async () => {
    const req = (path: string, last = false) => `GET ${path} HTTP/1.1\r\nHost: ${FRONT_HOST}\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    const out = await rawTls({ port, ca: pki.frontendCa.certPem, data: req('/length') + req('/chunked') + req('/', true), timeoutMs: 3000 });
    // Each status line follows the previous answer's last byte (no line break after a body).
    const statuses = out.match(/HTTP\/1\.1 \d{3} [^\r]*/g) ?? [];
    assert.deepEqual(statuses, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], out);
    // In order: hello (Content-Length 5), then the chunked answer (chunked again), then ok; and the connection closes.
    const hello = out.indexOf('\r\n\r\nhelloHTTP/1.1');
    const world = out.indexOf('6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\nHTTP/1.1');
    const ok = out.lastIndexOf('\r\n\r\nok');
    assert.ok(hello > 0 && world > hello && ok > world, out);
    assert.doesNotMatch(out, /\[still open\]$/);
  });

  test('an answer cut short after its head: the client connection is cut, not ended as if complete', async () => {
    const out = await rawTls({ port, ca: pki.frontendCa.certPem, data: `GET /truncated HTTP/1.1\r\nHost: ${FRONT_HOST}\r\n\r\n`, timeoutMs: 3000 });
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(out, /\r\nContent-Length: 100\r\n/);
    assert.match(out, /only this$/);
  });

  test('a client that reads slowly holds the backend back (backpressure), then gets all 64 MB', async () => {
    let received = 0;
    let writtenWhilePaused = -1;
    await new Promise<void>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/big', servername: FRONT_HOST, ca: pki.frontendCa.certPem, agent: false, headers: { Host: FRONT_HOST } }, (res) => {
          let paused = false;
          res.on('data', (d: Buffer) => {
            received += d.length;
            if (!paused && received > 1 << 20) {
              paused = true;
              res.pause();
              setTimeout(() => {
                writtenWhilePaused = big.written;
                res.resume();
              }, 600);
            }
          });
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.equal(received, BIG_PIECES * BIG_PIECE.length);
    // Socket buffers on both hops hold a few MB; without backpressure the edge reads all 64 MB at once.
    assert.ok(writtenWhilePaused >= 0 && writtenWhilePaused < 40, `the backend wrote ${writtenWhilePaused} MB while the client was paused`);
  });

  test('a POST body reaches the backend with its length', async () => {
    const r = await request({ port, ca: pki.frontendCa.certPem, path: '/length', method: 'POST', body: 'abc', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.status, 200);
    assert.match(seen.at(-1)!, /\r\nContent-Length: 3\r\n/);
  });

  test('many concurrent requests on keep-alive client connections all succeed', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const one = () =>
        new Promise<number>((resolve, reject) => {
          https
            .get({ host: '127.0.0.1', port, path: '/length', servername: FRONT_HOST, ca: pki.frontendCa.certPem, agent, headers: { Host: FRONT_HOST } }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode!));
            })
            .on('error', reject);
        });
      const statuses = await Promise.all(Array.from({ length: 200 }, one));
      assert.deepEqual(new Set(statuses), new Set([200]));
    } finally {
      agent.destroy();
    }
  });
});
