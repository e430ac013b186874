import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRateLimitStore } from './rate-limit-store.js';

/** The sliding window as one entry per counted call: the reference the store must agree with. */
class UnitWindows {
  private readonly windows = new Map<string, number[]>();
  hit(key: string, limit: number, periodSeconds: number, amount: number, now: number): { allowed: boolean; remaining: number; retryAfterSeconds: number } {
    const periodMs = periodSeconds * 1000;
    const times = this.windows.get(key) ?? [];
    this.windows.set(key, times);
    while (times.length && times[0]! <= now - periodMs) times.shift();
    if (times.length + amount > limit) {
      const oldest = times[Math.max(0, times.length + amount - limit - 1)] ?? now;
      return { allowed: false, remaining: Math.max(0, limit - times.length), retryAfterSeconds: Math.max(1, Math.ceil((oldest + periodMs - now) / 1000)) };
    }
    for (let i = 0; i < amount; i++) times.push(now);
    return { allowed: true, remaining: limit - times.length, retryAfterSeconds: 0 };
  }
}

test('rate-limit windows hold one entry per hit, whatever increment-count adds: the same answers as one entry per call', () => {
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const store = new MemoryRateLimitStore();
  const reference = new UnitWindows();
  let now = 1_000_000;
  for (let i = 0; i < 3000; i++) {
    now += [0, 0, 1, 250, 999, 1000, 4000][rnd(7)]!;
    const key = `k${rnd(3)}`;
    const limit = [1, 5, 20][rnd(3)]!;
    const amount = [0, 1, 1, 2, 7, 25][rnd(6)]!;
    assert.deepEqual(store.hit(key, limit, 10, amount, now), reference.hit(key, limit, 10, amount, now), `step ${i}`);
  }
});

test('a large increment-count is counted, not spelled out call by call', () => {
  const store = new MemoryRateLimitStore();
  const t0 = 5_000_000;
  const started = Date.now();
  // 4 × 250 000 000 fills a limit of 10⁹ exactly; one entry per call would need 10⁹ entries.
  for (let i = 0; i < 4; i++) assert.equal(store.hit('tokens', 1_000_000_000, 60, 250_000_000, t0 + i * 1000).allowed, true, `hit ${i + 1}`);
  const over = store.hit('tokens', 1_000_000_000, 60, 1, t0 + 5000);
  assert.deepEqual(over, { allowed: false, remaining: 0, retryAfterSeconds: 55 });
  // The first hit leaves the window at t0 + 60 s: 250 000 000 calls free up.
  assert.equal(store.hit('tokens', 1_000_000_000, 60, 250_000_000, t0 + 60_001).allowed, true);
  assert.ok(Date.now() - started < 2000);
});
