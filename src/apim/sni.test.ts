import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { peekServerName } from './sni.js';

/** The first bytes a real TLS client sends (its ClientHello), captured by a plain TCP server. */
async function clientHello(servername: string | undefined): Promise<Buffer> {
  let resolveHello!: (b: Buffer) => void;
  const got = new Promise<Buffer>((r) => (resolveHello = r));
  const server = net.createServer((s) => {
    s.once('data', (d: Buffer) => {
      resolveHello(d);
      s.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const c = tls.connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
  c.on('error', () => undefined);
  try {
    return await got;
  } finally {
    c.destroy();
    server.close();
  }
}

test('reads the server name of a real ClientHello, and waits for more bytes when it is cut', async () => {
  const hello = await clientHello('API.Contoso.example');
  assert.deepEqual(peekServerName(hello), { done: true, serverName: 'api.contoso.example' });
  assert.deepEqual(peekServerName(hello.subarray(0, 3)), { done: false });
  assert.deepEqual(peekServerName(hello.subarray(0, 40)), { done: false });
});

test('no SNI, or not TLS at all: done without a name', async () => {
  const hello = await clientHello(undefined);
  assert.deepEqual(peekServerName(hello), { done: true, serverName: undefined });
  assert.deepEqual(peekServerName(Buffer.from('GET / HTTP/1.1\r\n\r\n')), { done: true, serverName: undefined });
});
