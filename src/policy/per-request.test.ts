/**
 * What the pipeline allocates per request was moved to load time or to first use; the answers stay:
 * context.RequestId is made when first read and then stays, a response stored by send-request is
 * found by return-response, return-response applies its children in document order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../core/clock.js';
import { HeaderMap } from '../core/headers.js';
import { RequestContext } from './context.js';
import { bodyText, inbound, preparePolicy, runPolicy } from './testing.js';
import { RequestState } from './runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function context(): RequestContext {
  const url = { scheme: 'https', host: 'h', port: 443, path: '/', query: [] as [string, string][] };
  return new RequestContext({
    request: { method: 'GET', url, originalUrl: { ...url }, headers: new HeaderMap(), body: { bytes: undefined }, ipAddress: '127.0.0.1', certificate: undefined, matchedParameters: new Map() },
    deployment: { region: 'r', serviceName: 's', serviceId: 'i', gatewayId: 'managed', certificates: new Map(), trustedRoots: [], intermediates: [] },
    clock: systemClock,
  });
}

test('RequestContext makes its RequestId when first read, and it stays the same for the request', () => {
  const ctx = context();
  assert.equal((ctx as unknown as { id: string | undefined }).id, undefined, 'no UUID before anyone reads it');
  const id = ctx.requestId;
  assert.match(id, UUID);
  assert.equal((ctx as unknown as { id: string | undefined }).id, id);
  assert.equal(ctx.requestId, id);
  assert.notEqual(context().requestId, id);
});

test('context.RequestId in expressions and traces is the request’s one id; each request has its own', async () => {
  const p = preparePolicy(
    inbound('<set-variable name="a" value="@(context.RequestId.ToString())"/><trace source="t"><message>m</message></trace><return-response><set-header name="X-Id"><value>@(context.RequestId.ToString())</value></set-header><set-body>@((string)context.Variables["a"])</set-body></return-response>'),
  );
  const one = await p.run();
  const two = await p.run();
  const id1 = one.ctx.response.headers.get('X-Id')!;
  assert.match(id1, UUID);
  assert.equal(bodyText(one), id1);
  assert.equal(one.ctx.requestId, id1);
  assert.notEqual(two.ctx.response.headers.get('X-Id'), id1);
});

test('RequestState: no operation query names by default; a response stored by send-request is returned by return-response', async () => {
  const st = new RequestState(context(), undefined as never, { scheme: 'https', host: 'b', port: 443, basePath: '', backendId: undefined }, '/');
  assert.equal(st.templateQueryNames.size, 0);
  assert.equal(st.storedResponses, st.storedResponses, 'one map for the request once made');
  const r = await runPolicy(
    inbound('<send-request mode="new" response-variable-name="r"><set-url>https://a.example/x</set-url><set-method>GET</set-method></send-request><return-response response-variable-name="r"><set-header name="X-B"><value>b</value></set-header></return-response>'),
    { backend: () => ({ statusCode: 202, statusReason: 'Accepted', headers: new HeaderMap([['X-From', 'backend']]), body: Buffer.from('stored') }) },
  );
  assert.equal(r.ctx.response.statusCode, 202);
  assert.equal(r.ctx.response.headers.get('X-From'), 'backend');
  assert.equal(r.ctx.response.headers.get('X-B'), 'b');
  assert.equal(bodyText(r), 'stored');
});

test('return-response applies its children in document order, each time the same', async () => {
  const p = preparePolicy(
    inbound(
      '<return-response><set-status code="201" reason="One"/><set-header name="Content-Length"><value>99</value></set-header><set-header name="X-A"><value>1</value></set-header><set-body>@(context.Request.Headers.GetValueOrDefault("X-In", "none"))</set-body><set-status code="418"/><set-header name="X-A" exists-action="append"><value>2</value></set-header></return-response>',
    ),
  );
  for (const h of ['first', 'second', undefined]) {
    const r = await p.run(h === undefined ? {} : { headers: { 'X-In': h } });
    assert.equal(r.ctx.response.statusCode, 418);
    assert.equal(r.ctx.response.statusReason, '', 'the second set-status, without a reason, has the default phrase (none for 418)');
    assert.deepEqual(r.ctx.response.headers.getAll('X-A'), ['1', '2']);
    assert.equal(r.ctx.response.headers.has('Content-Length'), false, 'set-body drops a Content-Length set before it');
    assert.equal(bodyText(r), h ?? 'none');
  }
});
