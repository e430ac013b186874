import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedClock } from '../../core/clock.js';
import { MemoryRateLimitStore } from '../../apim/rate-limit-store.js';
import { bodyText, inbound, runPolicy } from '../testing.js';

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
