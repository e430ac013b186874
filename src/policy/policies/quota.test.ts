import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedClock } from '../../core/clock.js';
import { MemoryRateLimitStore } from '../../apim/rate-limit-store.js';
import { bodyText, inbound, runPolicy } from '../testing.js';

const at = (ms: number) => fixedClock(new Date(Date.UTC(2030, 0, 1) + ms));

test('quota-by-key keeps one counter per key: many periods leave one entry in the store', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<quota-by-key calls="1000000" renewal-period="300" counter-key="k" />');
  // 40 periods with 3 calls each: the counter starts again each period, and the store holds one key.
  for (let p = 0; p < 40; p++) {
    for (let c = 0; c < 3; c++) assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(p * 300_000 + c * 1000) })).backendRequests.length, 1);
  }
  assert.equal(store.size, 1);
});

test('quota-by-key with a very large calls and increment-count: exact at the boundary, O(1) per key', async () => {
  const store = new MemoryRateLimitStore();
  // 4 × 250 000 000 = calls exactly: allowed; a fifth goes over. A list of call times would need 10⁹ entries.
  const policy = inbound('<quota-by-key calls="1000000000" increment-count="250000000" renewal-period="3600" counter-key="big" />');
  const started = Date.now();
  for (let i = 0; i < 4; i++) assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(i * 1000) })).backendRequests.length, 1, `call ${i + 1}`);
  const over = await runPolicy(policy, { rateLimits: store, clock: at(3_599_000) });
  assert.equal(over.ctx.response.statusCode, 403);
  assert.deepEqual(JSON.parse(bodyText(over)), { statusCode: 403, message: 'Out of call volume quota. Quota will be replenished in 00:00:01.' });
  // The next period starts at the hour: the quota is replenished.
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(3_600_000) })).backendRequests.length, 1);
  assert.ok(Date.now() - started < 5000, 'no work in proportion to the count');
});

test('quota-by-key periods are fixed from first-period-start, not from the first call', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<quota-by-key calls="2" renewal-period="600" counter-key="k" first-period-start="2030-01-01T00:05:00Z" />');
  // Periods: …, 23:55–00:05, 00:05–00:15, …  A call at 00:04 and 00:06 are in different periods.
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(4 * 60_000) })).backendRequests.length, 1);
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(6 * 60_000) })).backendRequests.length, 1);
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(7 * 60_000) })).backendRequests.length, 1);
  const over = await runPolicy(policy, { rateLimits: store, clock: at(11 * 60_000 + 36_000) });
  assert.deepEqual(JSON.parse(bodyText(over)), { statusCode: 403, message: 'Out of call volume quota. Quota will be replenished in 00:03:24.' });
  // The status line and Retry-After (the seconds until the period ends) as Azure answers.
  assert.equal(over.ctx.response.statusReason, 'Quota Exceeded');
  assert.equal(over.ctx.response.headers.get('Retry-After'), '204');
  // increment-count 0 (increment-condition false) never counts.
  assert.equal(store.count('z', 1, 10, 0, 0).allowed, true);
});

test('quota counts per subscription and per policy statement', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<quota calls="2" renewal-period="3600" />');
  for (let i = 0; i < 2; i++) assert.equal((await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/a', clock: at(i) })).backendRequests.length, 1);
  const over = await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/a', clock: at(60_000) });
  assert.equal(over.ctx.response.statusCode, 403);
  assert.equal(over.ctx.lastError?.reason, 'QuotaExceeded');
  assert.deepEqual(JSON.parse(bodyText(over)), { statusCode: 403, message: 'Out of call volume quota. Quota will be replenished in 00:59:00.' });
  assert.equal((await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/b', clock: at(60_000) })).backendRequests.length, 1);
});

test('a full store drops counters of ended periods before live ones', () => {
  const store = new MemoryRateLimitStore(10);
  for (let i = 0; i < 9; i++) store.count(`old-${i}`, 5, 1000, 1, 0);
  for (let i = 0; i < 3; i++) assert.equal(store.count('live', 3, 100_000, 1, 500).allowed, true);
  for (let i = 0; i < 5; i++) store.count(`new-${i}`, 5, 100_000, 1, 2000);
  assert.equal(store.count('live', 3, 100_000, 1, 3000).allowed, false, 'the live counter survived');
  assert.ok(store.size <= 10, `size ${store.size}`);
});

test('quota-by-key: two statements with the same counter key count a request once', async () => {
  const store = new MemoryRateLimitStore();
  // As at API and operation scope: the same key twice in one request.
  const policy = inbound('<quota-by-key calls="3" renewal-period="3600" counter-key="shared" /><quota-by-key calls="3" renewal-period="3600" counter-key="shared" />');
  for (let i = 0; i < 3; i++) assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(i * 1000) })).backendRequests.length, 1, `request ${i + 1}`);
  const over = await runPolicy(policy, { rateLimits: store, clock: at(5000) });
  assert.equal(over.ctx.response.statusCode, 403);
  // Different keys are different counters, each counted.
  const two = inbound('<quota-by-key calls="1" renewal-period="3600" counter-key="a" /><quota-by-key calls="1" renewal-period="3600" counter-key="b" />');
  assert.equal((await runPolicy(two, { rateLimits: store, clock: at(0) })).backendRequests.length, 1);
  assert.equal((await runPolicy(two, { rateLimits: store, clock: at(1000) })).ctx.response.statusCode, 403);
});
