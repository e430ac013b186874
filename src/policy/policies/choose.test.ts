import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyText, inbound, runPolicy } from '../testing.js';

const rr = (body: string) => `<return-response><set-body>${body}</set-body></return-response>`;

test('the first true when runs; otherwise when none is true; nothing when no otherwise', async () => {
  assert.equal(bodyText(await runPolicy(inbound(`<choose><when condition="false">${rr('1')}</when><when condition="True">${rr('2')}</when><when condition="true">${rr('3')}</when><otherwise>${rr('4')}</otherwise></choose>`))), '2');
  assert.equal(bodyText(await runPolicy(inbound(`<choose><when condition="false">${rr('1')}</when><otherwise>${rr('4')}</otherwise></choose>`))), '4');
  const none = await runPolicy(inbound(`<choose><when condition="false">${rr('1')}</when></choose>`));
  assert.equal(none.backendRequests.length, 1);
});

test('a failure inside a when reports its path in LastError', async () => {
  const r = await runPolicy(inbound('<choose><when condition="false"/><when condition="true"><check-header name="X" failed-check-httpcode="401" failed-check-error-message="no" ignore-case="false" id="chk"/></when></choose>'));
  assert.equal(r.ctx.lastError?.path, 'choose[1]/when[2]');
  assert.equal(r.ctx.lastError?.source, 'check-header');
  assert.equal(r.ctx.lastError?.policyId, 'chk');
  assert.equal(r.ctx.lastError?.section, 'inbound');
  assert.equal(r.ctx.lastError?.scope, 'operation');
});
