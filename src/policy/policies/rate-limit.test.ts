import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedClock } from '../../core/clock.js';
import { MemoryRateLimitStore } from '../../apim/rate-limit-store.js';
import { HeaderMap } from '../../core/headers.js';
import { bodyText, inbound, runPolicy } from '../testing.js';
import type { BackendResponse } from '../runtime.js';

test('rate-limit-by-key: calls within the window pass, the next gets 429 with Retry-After and Azure body; the window slides', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<rate-limit-by-key calls="2" renewal-period="10" counter-key="caller-1" remaining-calls-variable-name="left" />');
  const at = (s: number) => fixedClock(new Date(Date.UTC(2030, 0, 1, 0, 0, s)));
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(0) })).ctx.variables.get('left'), 1);
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(1) })).ctx.variables.get('left'), 0);
  const third = await runPolicy(policy, { rateLimits: store, clock: at(2) });
  assert.equal(third.ctx.response.statusCode, 429);
  assert.equal(third.ctx.response.headers.get('Retry-After'), '8');
  assert.deepEqual(JSON.parse(bodyText(third)), { statusCode: 429, message: 'Rate limit is exceeded. Try again in 8 seconds.' });
  assert.equal(third.ctx.lastError?.reason, 'RateLimitExceeded');
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(11) })).backendRequests.length, 1);
});

test('rate-limit counts per subscription and does nothing without one', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<rate-limit calls="1" renewal-period="60" />');
  assert.equal((await runPolicy(policy, { rateLimits: store })).backendRequests.length, 1);
  assert.equal((await runPolicy(policy, { rateLimits: store })).backendRequests.length, 1);
  assert.equal((await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/a' })).backendRequests.length, 1);
  assert.equal((await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/a' })).ctx.response.statusCode, 429);
  assert.equal((await runPolicy(policy, { rateLimits: store, subscriptionId: '/subscriptions/b' })).backendRequests.length, 1);
});

test('rate-limit-by-key: an increment-condition that reads context.Response counts only the answers it accepts (Microsoft\'s example)', async () => {
  const at = (ms: number) => fixedClock(new Date(Date.UTC(2030, 0, 1) + ms));
  const store = new MemoryRateLimitStore();
  const policy = inbound('<rate-limit-by-key calls="2" renewal-period="60" counter-key="ok-only" increment-condition="@(context.Response.StatusCode == 200)" remaining-calls-header-name="Remaining" />');
  const fail = (): BackendResponse => ({ statusCode: 503, statusReason: 'Unavailable', headers: new HeaderMap(), body: Buffer.from('x') });
  const ok = (): BackendResponse => ({ statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: Buffer.from('y') });
  // Failed answers are not counted: five 503s all reach the backend.
  for (let i = 0; i < 5; i++) assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(i * 100), backend: fail })).backendRequests.length, 1);
  const first = await runPolicy(policy, { rateLimits: store, clock: at(1000), backend: ok });
  assert.equal(first.ctx.response.statusCode, 200);
  assert.deepEqual(first.state.extraResponseHeaders, [['Remaining', '1']]);
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(2000), backend: ok })).ctx.response.statusCode, 200);
  // Two 200s are in the window: the next call is refused before the backend, until the first leaves it.
  const over = await runPolicy(policy, { rateLimits: store, clock: at(3000), backend: ok });
  assert.equal(over.backendRequests.length, 0);
  assert.equal(over.ctx.response.statusCode, 429);
  assert.equal(over.ctx.response.headers.get('Retry-After'), '58');
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(61_000), backend: ok })).ctx.response.statusCode, 200);
});
