import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineQueue } from './deadlines.js';

test('DeadlineQueue: fires after its duration, in order; cancelled entries never fire', async () => {
  const q = new DeadlineQueue(40);
  const fired: string[] = [];
  const started = performance.now();
  const at: number[] = [];
  q.add(() => (fired.push('a'), at.push(performance.now() - started)));
  const b = q.add(() => fired.push('b'));
  await sleep(10);
  q.add(() => (fired.push('c'), at.push(performance.now() - started)));
  b.cancel();
  b.cancel(); // twice is once
  assert.equal(q.pending, 2);
  await sleep(20);
  assert.deepEqual(fired, [], 'not before the duration');
  const deadline = Date.now() + 2000;
  while (fired.length < 2 && Date.now() < deadline) await sleep(5);
  assert.deepEqual(fired, ['a', 'c']);
  assert.ok(at[0]! >= 39, `a fired at ${at[0]} ms`);
  assert.ok(at[1]! >= 49, `c fired at ${at[1]} ms (added 10 ms later)`);
  assert.equal(q.pending, 0);
});

test('DeadlineQueue: a cancelled deadline cannot fire later; the queue works again after it emptied', async () => {
  const q = new DeadlineQueue(15);
  let n = 0;
  const d = q.add(() => n++);
  await sleep(40);
  assert.equal(n, 1);
  d.cancel(); // after firing: nothing
  q.add(() => n++);
  await sleep(40);
  assert.equal(n, 2);
});

test('DeadlineQueue: many cancelled entries are dropped, not kept until their time (bounded memory)', async () => {
  const q = new DeadlineQueue(60_000);
  for (let i = 0; i < 100_000; i++) q.add(() => assert.fail('cancelled')).cancel();
  const live = q.add(() => undefined);
  assert.equal(q.pending, 1);
  assert.ok((q as unknown as { items: unknown[] }).items.length < 200, 'cancelled entries compacted away');
  live.cancel();
  assert.equal(q.pending, 0);
  // The timer does not keep the process alive (unref): the test would otherwise hang for a minute.
});
