import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { parseClientHello } from './clientHello.js';

/** A real ClientHello, as Node's TLS client sends it, captured on a loopback socket. */
async function captureHello(servername: string | undefined, alpn: string[]): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const got = new Promise<Buffer>((resolve) => {
      server.once('connection', (s) => {
        let buf = Buffer.alloc(0);
        s.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
            s.destroy();
            resolve(buf);
          }
        });
      });
    });
    const c = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ...(servername ? { servername } : {}), ALPNProtocols: alpn, rejectUnauthorized: false });
    c.on('error', () => undefined);
    const hello = await got;
    c.destroy();
    return hello;
  } finally {
    server.close();
  }
}

test('SNI and ALPN from a real ClientHello; every prefix asks for more', async () => {
  const hello = await captureHello('Apim-Sample.dev', ['h2', 'http/1.1']);
  assert.deepEqual(parseClientHello(hello), { kind: 'hello', serverName: 'apim-sample.dev', alpn: ['h2', 'http/1.1'] });
  for (const n of [0, 1, 4, 5, 6, 40, hello.length - 1]) assert.equal(parseClientHello(hello.subarray(0, n)).kind, 'need-more', `prefix ${n}`);
});

test('no SNI (IP literal)', async () => {
  const hello = await captureHello(undefined, ['http/1.1']);
  const r = parseClientHello(hello);
  assert.equal(r.kind, 'hello');
  assert.equal(r.kind === 'hello' && r.serverName, undefined);
});

test('a handshake message split over two TLS records', async () => {
  const hello = await captureHello('split.example', []);
  const body = hello.subarray(5);
  const cut = 37;
  const rec = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, (b.length >> 8) & 0xff, b.length & 0xff]), b]);
  const two = Buffer.concat([rec(body.subarray(0, cut)), rec(body.subarray(cut))]);
  assert.deepEqual(parseClientHello(two), { kind: 'hello', serverName: 'split.example', alpn: [] });
  assert.equal(parseClientHello(two.subarray(0, 5 + cut + 3)).kind, 'need-more');
});

test('not TLS, and garbage that looks like TLS', () => {
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'not-tls');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0, 0, 1, 0])).kind, 'malformed');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])).kind, 'malformed');
  const truncated = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03]);
  assert.equal(parseClientHello(truncated).kind, 'malformed');
});
