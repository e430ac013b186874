/**
 * WebSocket (always enabled on Application Gateway v2): the upgrade goes through the listener,
 * mTLS, rewrites and routing like any request; a 101 from the backend turns the connection into a
 * tunnel. The mTLS listener forwards X-ARR-ClientCert on the upgrade request too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { RunningEdge } from '../../src/edge/index.js';
import { FRONT_HOST, PFX_PASSWORD, fixture, makeTestPki, seedGateway, startSeed, type Backend, type TestPki } from './edge-support.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** An HTTPS backend that accepts WebSocket upgrades and echoes bytes upper-cased. */
async function startWsBackend(pki: TestPki): Promise<Backend & { upgrades: string[][] }> {
  const upgrades: string[][] = [];
  const server = https.createServer({ key: pki.backend.keyPem, cert: pki.backend.certPem + pki.platformCa.certPem }, (req, res) => {
    res.writeHead(200, { 'Content-Length': 2 });
    res.end('ok');
  });
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(req.rawHeaders);
    const accept = createHash('sha1').update(String(req.headers['sec-websocket-key']) + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    if (head.length) socket.write(head.toString('latin1').toUpperCase());
    socket.on('data', (d: Buffer) => socket.write(d.toString('latin1').toUpperCase()));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    requests: [],
    upgrades,
    header: () => [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Handshake, then send `message` and wait for its echo. */
function wsRoundTrip(port: number, ca: string, message: string, pfx?: Buffer): Promise<{ head: string; echo: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: FRONT_HOST, ca, ...(pfx ? { pfx, passphrase: PFX_PASSWORD } : {}) }, () => {
      s.write(`GET /ws HTTP/1.1\r\nHost: ${FRONT_HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nX-ARR-ClientCert: forged\r\n\r\n`);
    });
    let buf = '';
    let head: string | undefined;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no echo; got ${JSON.stringify(buf)}`));
    }, 5000);
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      if (head === undefined) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        head = buf.slice(0, i);
        buf = buf.slice(i + 4);
        if (!head.startsWith('HTTP/1.1 101')) {
          clearTimeout(timer);
          s.destroy();
          resolve({ head: head + '\r\n\r\n' + buf, echo: '' });
          return;
        }
        s.write(message);
      }
      if (buf.length >= message.length) {
        clearTimeout(timer);
        s.end();
        resolve({ head, echo: buf });
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('WebSocket through the seed gateway', () => {
  let pki: TestPki;
  let backend: Backend & { upgrades: string[][] };
  let edge: RunningEdge;
  before(async () => {
    pki = await makeTestPki();
    backend = await startWsBackend(pki);
    edge = await startSeed(pki, backend, seedGateway(pki));
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });
  const port = (n: string) => edge.listeners.find((l) => l.name === n)!.localPort;
  const headerOf = (raw: string[], name: string) => raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === name.toLowerCase());

  test('TLS listener: 101 and a working tunnel; the forged X-ARR-ClientCert is removed', async () => {
    const r = await wsRoundTrip(port('https-listener'), pki.frontendCa.certPem, 'hello');
    assert.match(r.head, /^HTTP\/1\.1 101 Switching Protocols/);
    assert.match(r.head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    assert.equal(r.echo, 'HELLO');
    const up = backend.upgrades.at(-1)!;
    assert.deepEqual(headerOf(up, 'X-ARR-ClientCert'), []);
    assert.deepEqual(headerOf(up, 'Host'), ['apim-gh.azure-api.net']);
    assert.deepEqual(headerOf(up, 'Upgrade'), ['websocket']);
  });

  test('mTLS listener without a certificate: 400 page, no tunnel', async () => {
    const before = backend.upgrades.length;
    const r = await wsRoundTrip(port('mtls-listener'), pki.frontendCa.certPem, 'x');
    assert.match(r.head, /^HTTP\/1\.1 400 Bad Request/);
    assert.match(r.head, /No required SSL certificate was sent/);
    assert.equal(backend.upgrades.length, before);
  });

  test('mTLS listener with dev-client-01: tunnel, and the backend got the real X-ARR-ClientCert', async () => {
    const r = await wsRoundTrip(port('mtls-listener'), pki.frontendCa.certPem, 'mtls', fixture('dev-client-01.pfx'));
    assert.equal(r.echo, 'MTLS');
    const got = headerOf(backend.upgrades.at(-1)!, 'X-ARR-ClientCert');
    assert.equal(got.length, 1);
    assert.match(got[0]!, /^-----BEGIN%20CERTIFICATE-----%0AMIIDRzCCAi%2BgAwIBAgIQGbcu6oSk1L1IwgiS5l0Lkj/);
  });
});
