import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { atEndOfTurn, corkUntilEndOfTurn } from './turn.js';

test('atEndOfTurn: runs after the current work and its microtasks, in call order, once', async () => {
  const seen: string[] = [];
  atEndOfTurn(() => seen.push('a'));
  queueMicrotask(() => seen.push('microtask'));
  atEndOfTurn(() => {
    seen.push('b');
    // Deferred from inside the flush: the next turn.
    atEndOfTurn(() => seen.push('c'));
  });
  seen.push('sync');
  assert.deepEqual(seen, ['sync']);
  await nextTurn();
  assert.deepEqual(seen, ['sync', 'microtask', 'a', 'b']);
  await nextTurn();
  assert.deepEqual(seen, ['sync', 'microtask', 'a', 'b', 'c']);
});

test('atEndOfTurn: a callback that throws does not keep the others back; the error surfaces', async () => {
  const seen: string[] = [];
  const errors: unknown[] = [];
  const onError = (e: unknown) => errors.push(e);
  // The flush runs from setImmediate: its error is an uncaught exception, as it would have been
  // had the callback run at once. Catch it here so that the test runner does not fail the file.
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', onError);
  try {
    atEndOfTurn(() => seen.push('first'));
    atEndOfTurn(() => {
      throw new Error('boom');
    });
    atEndOfTurn(() => seen.push('third'));
    await nextTurn();
    await nextTurn();
  } finally {
    process.off('uncaughtException', onError);
    for (const l of listeners) process.on('uncaughtException', l);
  }
  assert.deepEqual(seen, ['first', 'third']);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, 'boom');
});

test('corkUntilEndOfTurn: writes of one turn leave the socket together at the end of the turn', async () => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [peer] = (await once(server, 'connection')) as [net.Socket];
  await once(client, 'connect');
  try {
    const received: string[] = [];
    peer.on('data', (d: Buffer) => received.push(d.toString()));
    corkUntilEndOfTurn(client);
    corkUntilEndOfTurn(client); // once per turn: one uncork balances it
    client.write('GET / HTTP/1.1\r\n');
    client.write('Host: a\r\n\r\n');
    assert.equal(client.writableLength, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'.length, 'held back until the end of the turn');
    await nextTurn();
    assert.equal(client.writableLength, 0, 'sent at the end of the turn');
    assert.equal(client.writableCorked, 0, 'no cork left behind');
    const deadline = Date.now() + 2000;
    while (received.join('').length < 27 && Date.now() < deadline) await once(peer, 'data');
    assert.equal(received.join(''), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    // Next turn: writing goes out at once again unless corked anew.
    client.write('x');
    assert.equal(client.writableLength, 0);
  } finally {
    client.destroy();
    peer.destroy();
    server.close();
  }
});
