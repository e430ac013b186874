import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyText, inbound, runPolicy } from '../testing.js';

const policy = (ignoreCase: boolean) => inbound(`<check-header name="Authorization" failed-check-httpcode="401" failed-check-error-message="Not authorized" ignore-case="${ignoreCase}"><value>f1</value><value>f2</value></check-header>`);

test('missing header: HeaderNotFound with the policy code and message as the answer', async () => {
  const r = await runPolicy(policy(false));
  assert.equal(r.ctx.response.statusCode, 401);
  assert.deepEqual(JSON.parse(bodyText(r)), { statusCode: 401, message: 'Not authorized' });
  assert.equal(r.ctx.lastError?.reason, 'HeaderNotFound');
  assert.equal(r.ctx.lastError?.message, 'Header Authorization was not found in the request. Access denied.');
});

test('value match, case-sensitive or not', async () => {
  assert.equal((await runPolicy(policy(false), { headers: { Authorization: 'f2' } })).backendRequests.length, 1);
  const wrongCase = await runPolicy(policy(false), { headers: { Authorization: 'F2' } });
  assert.equal(wrongCase.ctx.lastError?.reason, 'HeaderValueNotAllowed');
  assert.equal((await runPolicy(policy(true), { headers: { Authorization: 'F2' } })).backendRequests.length, 1);
});
