import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedClock } from '../../core/clock.js';
import { MemoryRateLimitStore } from '../../apim/rate-limit-store.js';
import { HeaderMap } from '../../core/headers.js';
import { bodyText, inbound, runPolicy } from '../testing.js';
import type { BackendResponse } from '../runtime.js';

const answer = (status: number, bytes: number) => (): BackendResponse => ({ statusCode: status, statusReason: status === 200 ? 'OK' : 'Error', headers: new HeaderMap([['Content-Type', 'text/plain']]), body: Buffer.alloc(bytes, 120) });

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

test('renewal-period="0" is a lifetime quota: never replenished, no Retry-After', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<quota-by-key calls="2" renewal-period="0" counter-key="life" />');
  for (let i = 0; i < 2; i++) assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(i * 1000) })).backendRequests.length, 1);
  // A year later the two calls are still spent.
  const over = await runPolicy(policy, { rateLimits: store, clock: at(365 * 86_400_000) });
  assert.equal(over.ctx.response.statusCode, 403);
  assert.equal(over.ctx.response.statusReason, 'Quota Exceeded');
  assert.deepEqual(JSON.parse(bodyText(over)), { statusCode: 403, message: 'Out of call volume quota.' });
  assert.equal(over.ctx.response.headers.get('Retry-After'), undefined);
  // The subscription quota too.
  const sub = inbound('<quota calls="1" renewal-period="0" />');
  assert.equal((await runPolicy(sub, { rateLimits: store, subscriptionId: '/subscriptions/a', clock: at(0) })).backendRequests.length, 1);
  assert.equal((await runPolicy(sub, { rateLimits: store, subscriptionId: '/subscriptions/a', clock: at(999_999_999) })).ctx.response.statusCode, 403);
});

test('bandwidth: request and response bodies count when the answer is known; the call that crosses the limit goes through', async () => {
  const store = new MemoryRateLimitStore();
  // 2 KB per hour; each call moves a 100-byte request body and a 700-byte answer: 800 bytes.
  const policy = inbound('<quota-by-key bandwidth="2" renewal-period="3600" counter-key="bw" />');
  const call = (ms: number) => runPolicy(policy, { rateLimits: store, clock: at(ms), method: 'POST', body: 'y'.repeat(100), backend: answer(200, 700) });
  assert.equal((await call(0)).backendRequests.length, 1); // 800
  assert.equal((await call(1000)).backendRequests.length, 1); // 1600
  assert.equal((await call(2000)).backendRequests.length, 1); // 2400: crosses 2048, allowed
  const over = await call(60_000);
  assert.equal(over.backendRequests.length, 0);
  assert.equal(over.ctx.response.statusCode, 403);
  assert.equal(over.ctx.lastError?.reason, 'QuotaExceeded');
  assert.deepEqual(JSON.parse(bodyText(over)), { statusCode: 403, message: 'Out of bandwidth quota. Quota will be replenished in 00:59:00.' });
  assert.equal(over.ctx.response.headers.get('Retry-After'), '3540');
  // The next period starts from zero.
  assert.equal((await call(3_600_000)).backendRequests.length, 1);
});

test('calls and bandwidth together: whichever is reached first refuses', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<quota-by-key calls="100" bandwidth="1" renewal-period="3600" counter-key="both" />');
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(0), backend: answer(200, 2000) })).backendRequests.length, 1);
  const over = await runPolicy(policy, { rateLimits: store, clock: at(1000), backend: answer(200, 10) });
  assert.deepEqual(JSON.parse(bodyText(over)), { statusCode: 403, message: 'Out of bandwidth quota. Quota will be replenished in 00:59:59.' });
  // increment-condition false: neither calls nor bytes are counted.
  const cond = inbound('<quota-by-key calls="1" bandwidth="1" renewal-period="3600" counter-key="c" increment-condition="@(false)" />');
  for (let i = 0; i < 3; i++) assert.equal((await runPolicy(cond, { rateLimits: store, clock: at(i), backend: answer(200, 5000) })).backendRequests.length, 1);
});

test('an increment-condition that reads context.Response is evaluated on the answer (Microsoft\'s example)', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<quota-by-key calls="1" renewal-period="3600" counter-key="ok-only" increment-condition="@(context.Response.StatusCode >= 200 &amp;&amp; context.Response.StatusCode &lt; 400)" />');
  // Backend errors are not counted: three 500 answers all reach the backend.
  for (let i = 0; i < 3; i++) assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(i * 1000), backend: answer(500, 5) })).backendRequests.length, 1);
  // A 200 is counted; the next call is refused before it reaches the backend.
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(10_000), backend: answer(200, 5) })).ctx.response.statusCode, 200);
  const over = await runPolicy(policy, { rateLimits: store, clock: at(20_000), backend: answer(200, 5) });
  assert.equal(over.backendRequests.length, 0);
  assert.equal(over.ctx.response.statusCode, 403);
});

test('bandwidth on the subscription quota', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<quota bandwidth="1" renewal-period="3600" />');
  assert.equal((await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/s', clock: at(0), backend: answer(200, 1024) })).backendRequests.length, 1);
  const over = await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/s', clock: at(1), backend: answer(200, 1) });
  assert.equal(over.ctx.response.statusCode, 403);
  // Another subscription has its own counter.
  assert.equal((await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/t', clock: at(1), backend: answer(200, 1) })).backendRequests.length, 1);
});

test('quota <api> and <operation> children count each API and operation on their own, besides the statement', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound(
    '<quota calls="100" renewal-period="3600"><api name="Orders" calls="3"><operation id="create-order" calls="1" renewal-period="60" /></api><api id="users" bandwidth="1" /></quota>',
  );
  const orders = { id: '/apis/orders', name: 'Orders' };
  const create = { id: '/apis/orders/operations/create-order', name: 'Create order' };
  const list = { id: '/apis/orders/operations/list-orders', name: 'List orders' };
  const run = (ms: number, api: { id: string; name: string }, operation: { id: string; name: string }, bytes = 10) =>
    runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/a', clock: at(ms), api, operation, backend: answer(200, bytes) });
  // The operation allows one call a minute: the second within the minute is refused, by the operation's counter.
  assert.equal((await run(0, orders, create)).backendRequests.length, 1);
  const opOver = await run(1000, orders, create);
  assert.equal(opOver.ctx.response.statusCode, 403);
  assert.deepEqual(JSON.parse(bodyText(opOver)), { statusCode: 403, message: 'Out of call volume quota. Quota will be replenished in 00:00:59.' });
  // Other operations of the API are not limited by it, but the API's 3 calls an hour count every call to it
  // (the refused one did not count: a refused call is not counted).
  assert.equal((await run(2000, orders, list)).backendRequests.length, 1);
  assert.equal((await run(61_000, orders, create)).backendRequests.length, 1);
  const apiOver = await run(62_000, orders, list);
  assert.deepEqual(JSON.parse(bodyText(apiOver)), { statusCode: 403, message: 'Out of call volume quota. Quota will be replenished in 00:58:58.' });
  // An API referred to by id, with a bandwidth quota of its own.
  const users = { id: '/apis/users', name: 'Users' };
  const get = { id: '/apis/users/operations/get', name: 'Get' };
  assert.equal((await run(63_000, users, get, 2000)).backendRequests.length, 1);
  assert.equal((await run(64_000, users, get)).ctx.response.statusCode, 403);
  // An API no child names has only the statement's quota.
  assert.equal((await run(65_000, { id: '/apis/other', name: 'Other' }, get)).backendRequests.length, 1);
});

test('quota children: name or id is required, and calls or bandwidth', async () => {
  await assert.rejects(runPolicy(inbound('<quota calls="1" renewal-period="60"><api calls="1" /></quota>')), /<api> needs name or id/);
  await assert.rejects(runPolicy(inbound('<quota calls="1" renewal-period="60"><api name="x" /></quota>')), /<api> needs calls or bandwidth/);
});
