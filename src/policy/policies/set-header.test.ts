import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inbound, runPolicy } from '../testing.js';

const header = (action: string, values: string[] = ['new']) => `<set-header name="X-H" exists-action="${action}">${values.map((v) => `<value>${v}</value>`).join('')}</set-header>`;

test('set-header in inbound changes the request the backend gets: override, skip, append, delete', async () => {
  const cases: [string, string[] | undefined, readonly string[] | undefined][] = [
    ['override', ['a', 'b'], ['a', 'b']],
    ['skip', undefined, ['old']],
    ['append', undefined, ['old', 'new']],
    ['delete', undefined, undefined],
  ];
  for (const [action, values, want] of cases) {
    const r = await runPolicy(inbound(header(action, values)), { headers: { 'x-h': 'old' } });
    assert.deepEqual(r.backendRequests[0]!.headers.getAll('X-H'), want, action);
  }
  const absent = await runPolicy(inbound(header('skip')));
  assert.deepEqual(absent.backendRequests[0]!.headers.getAll('X-H'), ['new']);
});

test('set-header in outbound changes the response; the default action is override', async () => {
  const r = await runPolicy(inbound('', { outbound: '<set-header name="Content-Type"><value>application/json</value></set-header>' }));
  assert.deepEqual(r.ctx.response.headers.getAll('content-type'), ['application/json']);
});

test('Content-Length and Transfer-Encoding cannot be changed', async () => {
  const r = await runPolicy(inbound('<set-header name="Content-Length" exists-action="override"><value>5</value></set-header>'), { headers: { 'Content-Length': '3' }, body: 'abc' });
  assert.equal(r.backendRequests[0]!.headers.get('content-length'), undefined); // hop-by-hop: recomputed by the client
  assert.equal(r.ctx.request.headers.get('content-length'), '3');
});
