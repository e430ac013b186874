import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../core/headers.js';
import type { BackendResponse } from '../runtime.js';
import { PolicyFailure } from '../runtime.js';
import { inbound, preparePolicy, runPolicy } from '../testing.js';

const ok = (): BackendResponse => ({ statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: Buffer.from('ok') });

test('retry runs its statements again while the condition holds, up to count more times', async () => {
  const always = await runPolicy(inbound('', { backend: '<retry condition="true" count="2" interval="0"><forward-request /></retry>' }));
  assert.equal(always.backendRequests.length, 3);
  const never = await runPolicy(inbound('', { backend: '<retry condition="false" count="2" interval="0"><forward-request /></retry>' }));
  assert.equal(never.backendRequests.length, 1);
});

test('retry: a failure in the last attempt goes to on-error', async () => {
  const r = await runPolicy(inbound('', { backend: '<retry condition="true" count="1" interval="0"><forward-request /></retry>' }), {
    backend: () => {
      throw new PolicyFailure({ source: 'forward-request', reason: 'BackendConnectionFailure', message: 'refused' });
    },
  });
  assert.equal(r.backendRequests.length, 2);
  assert.equal(r.ctx.lastError?.reason, 'BackendConnectionFailure');
  assert.equal(r.ctx.response.statusCode, 500);
});

test('limit-concurrency answers 429 when max-count requests with the key are inside; the count is released after', async () => {
  const p = preparePolicy(inbound('', { backend: '<limit-concurrency key="k" max-count="1"><forward-request /></limit-concurrency>' }));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = p.run({ backend: async () => (await gate, ok()) });
  await new Promise((r) => setImmediate(r));
  const second = await p.run({ backend: ok });
  assert.equal(second.ctx.response.statusCode, 429);
  assert.equal(second.ctx.lastError?.reason, 'ConcurrencyLimitExceeded');
  release();
  assert.equal((await first).ctx.response.statusCode, 200);
  assert.equal((await p.run({ backend: ok })).ctx.response.statusCode, 200);
});

test('authentication-basic sets the Authorization header for the backend', async () => {
  const r = await runPolicy(inbound('<authentication-basic username="user" password="p@ss:word" />'));
  assert.equal(r.backendRequests[0]!.headers.get('Authorization'), `Basic ${Buffer.from('user:p@ss:word').toString('base64')}`);
});

test('cache-store-value / cache-lookup-value / cache-remove-value: values expire after their duration', async () => {
  const { MemoryValueCache } = await import('../runtime.js');
  const { fixedClock } = await import('../../core/clock.js');
  const cache = new MemoryValueCache();
  const at = (s: number) => fixedClock(new Date(Date.UTC(2030, 0, 1, 0, 0, s)));
  await runPolicy(inbound('<cache-store-value key="token" value="abc" duration="10" />'), { valueCache: cache, clock: at(0) });
  const lookup = inbound('<cache-lookup-value key="token" variable-name="t" default-value="none" />');
  assert.equal((await runPolicy(lookup, { valueCache: cache, clock: at(5) })).ctx.variables.get('t'), 'abc');
  assert.equal((await runPolicy(lookup, { valueCache: cache, clock: at(11) })).ctx.variables.get('t'), 'none');
  await runPolicy(inbound('<cache-store-value key="token" value="def" duration="10" />'), { valueCache: cache, clock: at(20) });
  await runPolicy(inbound('<cache-remove-value key="token" />'), { valueCache: cache, clock: at(21) });
  assert.equal((await runPolicy(lookup, { valueCache: cache, clock: at(22) })).ctx.variables.get('t'), 'none');
});

test('wait for="all" runs send-requests at the same time; send-one-way-request does not hold the request', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const slow = async (): Promise<BackendResponse> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 30));
    inFlight--;
    return ok();
  };
  const r = await runPolicy(
    inbound('<wait for="all"><send-request response-variable-name="a"><set-url>https://a.example/</set-url></send-request><send-request response-variable-name="b"><set-url>https://b.example/</set-url></send-request></wait><return-response/>'),
    { backend: slow },
  );
  assert.equal(maxInFlight, 2);
  assert.ok(r.ctx.variables.get('a') && r.ctx.variables.get('b'));
  let release!: () => void;
  const gate = new Promise<void>((res) => (release = res));
  const oneWay = await runPolicy(inbound('<send-one-way-request><set-url>https://c.example/</set-url></send-one-way-request><return-response/>'), { backend: async () => (await gate, ok()) });
  assert.equal(oneWay.ctx.response.statusCode, 200);
  assert.equal(oneWay.backendRequests.length, 1);
  release();
});

test('cache-lookup / cache-store: a second GET with the same varying header is answered from the cache', async () => {
  const { MemoryValueCache } = await import('../runtime.js');
  const cache = new MemoryValueCache();
  const p = preparePolicy(inbound('<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"><vary-by-header>Accept</vary-by-header></cache-lookup>', { outbound: '<cache-store duration="60" />' }));
  let calls = 0;
  const backend = () => (calls++, { statusCode: 200, statusReason: 'OK', headers: new HeaderMap([['Content-Type', 'text/plain']]), body: Buffer.from(`answer ${calls}`) });
  const first = await p.run({ valueCache: cache, backend, headers: { Accept: 'text/plain' } });
  const second = await p.run({ valueCache: cache, backend, headers: { Accept: 'text/plain' } });
  const other = await p.run({ valueCache: cache, backend, headers: { Accept: 'application/json' } });
  assert.equal(calls, 2);
  assert.equal(first.ctx.response.body.bytes?.toString(), 'answer 1');
  assert.equal(second.ctx.response.body.bytes?.toString(), 'answer 1');
  assert.equal(second.state.logReason, 'cache_hit');
  assert.equal(other.ctx.response.body.bytes?.toString(), 'answer 2');
});

test('cache-lookup: a varying header value cannot forge the key of another request (no cache poisoning through "|")', async () => {
  const { MemoryValueCache } = await import('../runtime.js');
  const cache = new MemoryValueCache();
  const p = preparePolicy(inbound('<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"><vary-by-header>Accept</vary-by-header><vary-by-query-parameter>v</vary-by-query-parameter></cache-lookup>', { outbound: '<cache-store duration="60" />' }));
  let calls = 0;
  const backend = () => (calls++, { statusCode: 200, statusReason: 'OK', headers: new HeaderMap([['Content-Type', 'text/plain']]), body: Buffer.from(`answer ${calls}`) });
  const forged = await p.run({ valueCache: cache, backend, target: '/api/x', headers: { Accept: 'a|q:v=1' } });
  const victim = await p.run({ valueCache: cache, backend, target: '/api/x?v=1', headers: { Accept: 'a' } });
  assert.equal(forged.ctx.response.body.bytes?.toString(), 'answer 1');
  assert.equal(victim.ctx.response.body.bytes?.toString(), 'answer 2');
  assert.equal(calls, 2);
});
