import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRateLimitStore } from './rate-limit-store.js';

test('a full store drops expired windows first: a flood of new keys does not reset an active caller', () => {
  const store = new MemoryRateLimitStore(10);
  const t0 = 1_000_000;
  for (let i = 0; i < 9; i++) assert.equal(store.hit(`old-${i}`, 5, 1, 1, t0).allowed, true);
  // The active caller uses its whole allowance of a 60 s window.
  for (let i = 0; i < 3; i++) assert.equal(store.hit('caller', 3, 60, 1, t0 + 2000).allowed, true);
  assert.equal(store.hit('caller', 3, 60, 1, t0 + 2000).allowed, false);
  // New keys arrive while the store is full; the expired 1 s windows make room.
  for (let i = 0; i < 5; i++) store.hit(`new-${i}`, 5, 1, 1, t0 + 2500);
  assert.equal(store.hit('caller', 3, 60, 1, t0 + 3000).allowed, false, 'the caller is still limited');
  assert.ok(store.size <= 10);
});

test('when nothing has expired, the least recently used keys go, never all of them', () => {
  const store = new MemoryRateLimitStore(10);
  const t = 5_000_000;
  for (let i = 0; i < 10; i++) store.hit(`k-${i}`, 1, 60, 1, t);
  assert.equal(store.hit('k-9', 1, 60, 1, t).allowed, false);
  store.hit('k-new', 1, 60, 1, t);
  assert.ok(store.size <= 10 && store.size >= 9, `size ${store.size}`);
  assert.equal(store.hit('k-9', 1, 60, 1, t).allowed, false, 'a recently used counter survives');
});
