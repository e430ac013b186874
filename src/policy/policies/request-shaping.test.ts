import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../core/headers.js';
import { fixedClock } from '../../core/clock.js';
import { MemoryRateLimitStore } from '../../apim/rate-limit-store.js';
import { bodyText, inbound, runPolicy } from '../testing.js';

test('set-method changes the backend method', async () => {
  const r = await runPolicy(inbound('<set-method>post</set-method>'));
  assert.equal(r.backendRequests[0]!.method, 'POST');
});

test('set-query-parameter: override, skip, append, delete', async () => {
  const q = async (action: string) => (await runPolicy(inbound(`<set-query-parameter name="a" exists-action="${action}"><value>new</value></set-query-parameter>`), { target: '/api/op?a=old&b=1' })).backendRequests[0]!.url.query;
  assert.deepEqual(await q('override'), [['b', '1'], ['a', 'new']]);
  assert.deepEqual(await q('skip'), [['a', 'old'], ['b', '1']]);
  assert.deepEqual(await q('append'), [['a', 'old'], ['b', '1'], ['a', 'new']]);
  assert.deepEqual(await q('delete'), [['b', '1']]);
});

test('find-and-replace changes the response body in outbound', async () => {
  const r = await runPolicy(inbound('', { outbound: '<find-and-replace from="backend" to="gateway" />' }), {
    backend: () => ({ statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: Buffer.from('from backend, backend') }),
  });
  assert.equal(bodyText(r), 'from gateway, gateway');
});

test('quota-by-key: fixed periods, 403 with the time until the quota is replenished', async () => {
  const store = new MemoryRateLimitStore();
  const policy = inbound('<quota-by-key calls="1" renewal-period="3600" counter-key="k" />');
  const at = (m: number) => fixedClock(new Date(Date.UTC(2030, 0, 1, 0, m, 0)));
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(0) })).backendRequests.length, 1);
  const over = await runPolicy(policy, { rateLimits: store, clock: at(30) });
  assert.equal(over.ctx.response.statusCode, 403);
  assert.equal(over.ctx.lastError?.reason, 'QuotaExceeded');
  assert.deepEqual(JSON.parse(bodyText(over)), { statusCode: 403, message: 'Out of call volume quota. Quota will be replenished in 00:30:00.' });
  assert.equal((await runPolicy(policy, { rateLimits: store, clock: at(61) })).backendRequests.length, 1);
});
