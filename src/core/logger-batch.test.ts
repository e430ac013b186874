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

test('createLogger writes exactly JSON.stringify({ time, ...fields, ...record }) (fast path and fallbacks)', () => {
  const cases: [Record<string, unknown>, Record<string, unknown>][] = [
    [{}, { level: 'info', msg: 'access', a: 1, b: 'x"y\n\u2028é', c: undefined, d: { e: [1, null] } }],
    [{ resource: 'agw', instanceId: 'i' }, { level: 'warn', msg: 'm', status: 502, error_info: undefined }],
    [{ resource: 'agw' }, { level: 'info', msg: 'override', resource: 'other' }],
    [{ resource: 'agw' }, { level: 'info', msg: 'time in record', time: 'no' }],
    [{ resource: 'agw' }, { level: 'info', msg: 'integer key', 7: 'seven' }],
    [{ 3: 'three', resource: 'agw' }, { level: 'info', msg: 'integer field key' }],
    [{ resource: undefined }, { level: 'error', msg: 'undefined field' }],
  ];
  for (const [fields, record] of cases) {
    const lines: string[] = [];
    const log = Object.keys(fields).length ? createLogger({ write: (l) => lines.push(l) }).child(fields) : createLogger({ write: (l) => lines.push(l) });
    log.log(record as never);
    assert.equal(lines.length, 1);
    const time = (JSON.parse(lines[0]!) as { time: string }).time;
    assert.equal(lines[0], JSON.stringify({ time, ...fields, ...record }), String(record.msg));
  }
});
