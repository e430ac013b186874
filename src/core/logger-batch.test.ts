import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { batchedLines, createLogger } from './logger.js';

test('batchedLines: one write per event-loop turn, lines in order', async () => {
  const chunks: string[] = [];
  const out = batchedLines((c) => chunks.push(c));
  const log = createLogger({ write: out.write }).child({ resource: 'agw' });
  for (let i = 0; i < 5; i++) log.log({ level: 'info', msg: 'access', n: i });
  assert.equal(chunks.length, 0);
  await nextTurn();
  assert.equal(chunks.length, 1);
  const lines = chunks[0]!.split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => JSON.parse(l).n), [0, 1, 2, 3, 4]);
  assert.ok(lines.every((l) => JSON.parse(l).resource === 'agw'));
  out.write('later');
  await nextTurn();
  assert.deepEqual(chunks.slice(1), ['later\n']);
});

test('batchedLines: writes at once when maxChars are pending; flush() empties the rest', async () => {
  const chunks: string[] = [];
  const out = batchedLines((c) => chunks.push(c), { maxChars: 10 });
  out.write('12345');
  out.write('67890');
  assert.deepEqual(chunks, ['12345\n67890\n']);
  out.write('x');
  out.flush();
  assert.deepEqual(chunks, ['12345\n67890\n', 'x\n']);
  await nextTurn();
  assert.equal(chunks.length, 2, 'nothing left for the scheduled flush');
});
