import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedClock } from '../../core/clock.js';
import { HeaderMap } from '../../core/headers.js';
import { inbound, preparePolicy, runPolicy } from '../testing.js';
import type { BackendRequest, BackendResponse } from '../runtime.js';

const NOW = Date.UTC(2030, 0, 1);
const at = (ms: number) => fixedClock(new Date(NOW + ms));
const endpoint = { url: 'http://127.0.0.1:41234/msi/token', header: 'local-secret' };

/** A token service in the App Service protocol, and an API behind it that echoes Authorization. */
function services(issued: string[]) {
  let n = 0;
  return (req: BackendRequest): BackendResponse => {
    if (req.url.path === '/msi/token') {
      const q = new Map(req.url.query);
      issued.push(`${q.get('resource')}|${q.get('client_id') ?? ''}|${req.headers.get('X-IDENTITY-HEADER')}`);
      const token = `token-${++n}`;
      return { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: Buffer.from(JSON.stringify({ access_token: token, expires_on: String(Math.floor(NOW / 1000) + 3600), token_type: 'Bearer' })) };
    }
    return { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: Buffer.from(req.headers.get('Authorization') ?? 'none') };
  };
}

test('authentication-managed-identity: a token from the endpoint as Bearer to the backend, kept until five minutes before it expires', async () => {
  const issued: string[] = [];
  const backend = services(issued);
  const prepared = preparePolicy(inbound('<authentication-managed-identity resource="https://vault.azure.net" />'));
  const first = await prepared.run({ managedIdentity: endpoint, backend, clock: at(0) });
  assert.equal(first.backendRequests.at(-1)!.headers.get('Authorization'), 'Bearer token-1');
  assert.deepEqual(issued, ['https://vault.azure.net||local-secret']);
  await prepared.run({ managedIdentity: endpoint, backend, clock: at(54 * 60_000) });
  assert.equal(issued.length, 1, 'kept');
  const renewed = await prepared.run({ managedIdentity: endpoint, backend, clock: at(56 * 60_000) });
  assert.equal(renewed.backendRequests.at(-1)!.headers.get('Authorization'), 'Bearer token-2');
  assert.equal(issued.length, 2);
});

test('authentication-managed-identity: client-id and output-token-variable-name (the header is then left to the policy)', async () => {
  const issued: string[] = [];
  const r = await runPolicy(inbound('<authentication-managed-identity resource="api://backend" client-id="1111-2222" output-token-variable-name="msi" /><set-header name="X-Token" exists-action="override"><value>@((string)context.Variables["msi"])</value></set-header>'), { managedIdentity: { ...endpoint, url: 'http://127.0.0.1:41234/msi/token?x=1' }, backend: services(issued), clock: at(0) });
  assert.deepEqual(issued, ['api://backend|1111-2222|local-secret']);
  const sent = r.backendRequests.at(-1)!;
  assert.equal(sent.headers.get('X-Token'), 'token-1');
  assert.equal(sent.headers.get('Authorization'), undefined);
});

test('authentication-managed-identity without a token endpoint: the request fails saying why, unless ignore-error', async () => {
  const r = await runPolicy(inbound('<authentication-managed-identity resource="https://graph.microsoft.com" />'));
  assert.equal(r.backendRequests.length, 0);
  assert.equal(r.ctx.response.statusCode, 500);
  assert.equal(r.ctx.lastError?.reason, 'ManagedIdentityTokenUnavailable');
  assert.match(String(r.ctx.lastError?.message), /IDENTITY_ENDPOINT/);
  const ignored = await runPolicy(inbound('<authentication-managed-identity resource="https://graph.microsoft.com" ignore-error="true" />'));
  assert.equal(ignored.backendRequests.length, 1);
  assert.equal(ignored.backendRequests[0]!.headers.get('Authorization'), undefined);
  // An endpoint that refuses.
  const refused = await runPolicy(inbound('<authentication-managed-identity resource="x" />'), { managedIdentity: endpoint, backend: () => ({ statusCode: 400, statusReason: 'Bad Request', headers: new HeaderMap(), body: Buffer.from('{}') }) });
  assert.match(String(refused.ctx.lastError?.message), /answered 400/);
});

test('send-request with <authentication-managed-identity>: the request it sends carries the token', async () => {
  const issued: string[] = [];
  const r = await runPolicy(inbound('<send-request response-variable-name="r"><set-url>https://other.example/</set-url><authentication-managed-identity resource="api://other" /></send-request><return-response response-variable-name="r" />'), { managedIdentity: endpoint, backend: services(issued), clock: at(0) });
  assert.deepEqual(issued, ['api://other||local-secret']);
  assert.equal(r.ctx.response.body.bytes?.toString(), 'Bearer token-1');
});
