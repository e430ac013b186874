import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyText, inbound, runPolicy } from '../testing.js';

test('default answer is 200 OK with no body; backend and outbound do not run', async () => {
  const r = await runPolicy(inbound('<return-response/>', { outbound: '<set-header name="X-Out"><value>1</value></set-header>' }));
  assert.equal(r.ctx.response.statusCode, 200);
  assert.equal(r.ctx.response.statusReason, 'OK');
  assert.equal(r.ctx.response.body.bytes, undefined);
  assert.equal(r.backendRequests.length, 0);
  assert.equal(r.ctx.response.headers.has('X-Out'), false);
});

test('children shape the returned response; statements after it do not run', async () => {
  const r = await runPolicy(inbound('<return-response><set-status code="418" reason="Teapot"/><set-header name="X-A"><value>1</value></set-header><set-body>short and stout</set-body></return-response><set-variable name="after" value="ran"/>'));
  assert.equal(r.ctx.response.statusCode, 418);
  assert.equal(r.ctx.response.statusReason, 'Teapot');
  assert.equal(r.ctx.response.headers.get('x-a'), '1');
  assert.equal(bodyText(r), 'short and stout');
  assert.equal(r.ctx.variables.has('after'), false);
});

test('in on-error it replaces the default error answer', async () => {
  const r = await runPolicy(inbound('<check-header name="X" failed-check-httpcode="403" failed-check-error-message="nope" ignore-case="true"/>', { onError: '<return-response><set-status code="400" reason="Custom"/></return-response>' }));
  assert.equal(r.ctx.response.statusCode, 400);
  assert.equal(r.ctx.lastError?.reason, 'HeaderNotFound');
});
