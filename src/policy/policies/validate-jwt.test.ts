import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { fixedClock } from '../../core/clock.js';
import { HeaderMap } from '../../core/headers.js';
import { bodyText, inbound, preparePolicy, runPolicy } from '../testing.js';

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const secret = Buffer.from('a-256-bit-secret-for-tests-only!');
const NOW = 1_900_000_000;
const clock = fixedClock(new Date(NOW * 1000));

function hs256(payload: Record<string, unknown>, key = secret): string {
  const head = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64u(JSON.stringify(payload));
  return `${head}.${body}.${b64u(createHmac('sha256', key).update(`${head}.${body}`).digest())}`;
}

const policy = (extra = '') =>
  inbound(`<validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized. Access token is missing or invalid." output-token-variable-name="jwt">
    <issuer-signing-keys><key>${secret.toString('base64')}</key></issuer-signing-keys>
    <audiences><audience>api://gatehouse</audience></audiences>
    <issuers><issuer>https://issuer.example/</issuer></issuers>
    <required-claims><claim name="roles" match="any"><value>admin</value><value>reader</value></claim></required-claims>
    ${extra}
  </validate-jwt>`);

const good = { aud: 'api://gatehouse', iss: 'https://issuer.example/', exp: NOW + 60, roles: ['reader'] };
const reason = async (token: string | undefined, p = policy()) => {
  const r = await runPolicy(p, { clock, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  return r.ctx.lastError?.reason ?? 'passed';
};

test('a valid HS256 token passes and is stored for expressions', async () => {
  const r = await runPolicy(policy(), { clock, headers: { Authorization: `Bearer ${hs256(good)}` } });
  assert.equal(r.ctx.lastError, undefined);
  assert.equal(r.backendRequests.length, 1);
  assert.ok(r.ctx.variables.get('jwt'));
});

test('each failure has its LastError reason; the answer is the policy code and message', async () => {
  assert.equal(await reason(undefined), 'TokenNotPresent');
  assert.equal(await reason('not.a-token'), 'JwtInvalid');
  assert.equal(await reason(hs256(good, Buffer.from('another secret, another signature'))), 'TokenSignatureInvalid');
  assert.equal(await reason(hs256({ ...good, exp: NOW - 1 })), 'TokenExpired');
  assert.equal(await reason(hs256({ ...good, exp: undefined })), 'TokenExpired');
  assert.equal(await reason(hs256({ ...good, aud: 'api://other' })), 'TokenAudienceNotAllowed');
  assert.equal(await reason(hs256({ ...good, iss: 'https://evil.example/' })), 'TokenIssuerNotAllowed');
  assert.equal(await reason(hs256({ ...good, roles: undefined })), 'TokenClaimNotFound');
  assert.equal(await reason(hs256({ ...good, roles: ['writer'] })), 'TokenClaimValueNotAllowed');
  const unsigned = `${b64u(JSON.stringify({ alg: 'none' }))}.${b64u(JSON.stringify(good))}.`;
  assert.equal(await reason(unsigned), 'TokenSignatureInvalid');
  const r = await runPolicy(policy(), { clock, headers: { Authorization: `Basic ${hs256(good)}` } });
  assert.equal(r.ctx.response.statusCode, 401);
  assert.deepEqual(JSON.parse(bodyText(r)), { statusCode: 401, message: 'Unauthorized. Access token is missing or invalid.' });
});

test('RS256 with an RSA modulus/exponent key; clock-skew; a key of the wrong kind is TokenSignatureKeyNotFound', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const head = b64u(JSON.stringify({ alg: 'RS256' }));
  const body = b64u(JSON.stringify({ exp: NOW - 5 }));
  const token = `${head}.${body}.${b64u(sign('sha256', Buffer.from(`${head}.${body}`), privateKey))}`;
  const p = (skew: number) => inbound(`<validate-jwt token-value="${token}" clock-skew="${skew}"><issuer-signing-keys><key n="${jwk.n}" e="${jwk.e}" /></issuer-signing-keys></validate-jwt>`);
  assert.equal((await runPolicy(p(10), { clock })).ctx.lastError?.reason, undefined);
  assert.equal((await runPolicy(p(0), { clock })).ctx.lastError?.reason, 'TokenExpired');
  const hsOnly = inbound(`<validate-jwt token-value="${token}" clock-skew="10"><issuer-signing-keys><key>${secret.toString('base64')}</key></issuer-signing-keys></validate-jwt>`);
  assert.equal((await runPolicy(hsOnly, { clock })).ctx.lastError?.reason, 'TokenSignatureKeyNotFound');
});

test('a header or payload that is JSON but not an object (null, a number, an array) is JwtInvalid, not an internal error', async () => {
  for (const [h, p] of [['null', '{}'], [JSON.stringify({ alg: 'HS256' }), 'null'], ['1', '{}'], ['[]', '{}']] as const) {
    assert.equal(await reason(`${b64u(h)}.${b64u(p)}.c2ln`), 'JwtInvalid', `${h} / ${p}`);
  }
});

test('a required claim named like an Object.prototype member (toString) is missing when the token does not carry it', async () => {
  const p = inbound(`<validate-jwt header-name="Authorization" require-expiration-time="false">
    <issuer-signing-keys><key>${secret.toString('base64')}</key></issuer-signing-keys>
    <required-claims><claim name="toString" /></required-claims>
  </validate-jwt>`);
  assert.equal(await reason(hs256({ sub: 'x' }), p), 'TokenClaimNotFound');
  assert.equal(await reason(hs256({ sub: 'x', toString: 'yes' }), p), 'passed');
});

test('a signing key given by an expression (<key>@(…)</key>) is evaluated per request', async () => {
  // The key comes from a request header here; in practice a named value or a variable.
  const p = inbound(`<validate-jwt header-name="Authorization" require-scheme="Bearer"><issuer-signing-keys><key>@(context.Request.Headers.GetValueOrDefault("X-Key", ""))</key></issuer-signing-keys></validate-jwt>`);
  const run = (key: Buffer) => runPolicy(p, { clock, headers: { Authorization: `Bearer ${hs256(good)}`, 'X-Key': key.toString('base64') } });
  assert.equal((await run(secret)).ctx.lastError, undefined);
  assert.equal((await run(Buffer.from('another secret, another signature'))).ctx.lastError?.reason, 'TokenSignatureInvalid');
  assert.equal((await run(secret)).backendRequests.length, 1, 'the right key again after a wrong one');
});

test('openid-config: the keys of the discovery document\'s jwks_uri validate RS256 tokens; kept, and fetched again for a new kid', async () => {
  const k1 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const k2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = (k: typeof k1, kid: string) => ({ ...k.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' });
  let published = [jwk(k1, 'k1')];
  const fetched: string[] = [];
  const idp = (req: { url: { host: string; path: string } }) => {
    fetched.push(`${req.url.host}${req.url.path}`);
    const json = req.url.path === '/tenant/.well-known/openid-configuration' ? { issuer: 'https://idp.example/tenant', jwks_uri: 'https://keys.idp.example/jwks' } : req.url.path === '/jwks' ? { keys: [{ kty: 'oct', k: 'AAAA' }, ...published] } : undefined;
    return { statusCode: json ? 200 : 404, statusReason: json ? 'OK' : 'Not Found', headers: new HeaderMap([['Content-Type', 'application/json']]), body: Buffer.from(JSON.stringify(json ?? {})) };
  };
  const rs256 = (key: typeof k1, kid: string) => {
    const head = b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
    const body = b64u(JSON.stringify({ ...good, exp: NOW + 3600 }));
    return `${head}.${body}.${b64u(sign('sha256', Buffer.from(`${head}.${body}`), key.privateKey))}`;
  };
  const p = inbound('<validate-jwt header-name="Authorization" require-scheme="Bearer"><openid-config url="https://idp.example/tenant/.well-known/openid-configuration" /></validate-jwt>');
  // One policy document for all requests: the key cache belongs to the compiled statement.
  const prepared = preparePolicy(p);
  const call = (token: string, at = clock) => prepared.run({ clock: at, headers: { Authorization: `Bearer ${token}` }, backend: (req) => (req.url.host.includes('idp.example') ? idp(req) : { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: Buffer.from('api') }) });
  const first = await call(rs256(k1, 'k1'));
  assert.equal(first.ctx.lastError, undefined);
  assert.deepEqual(fetched, ['idp.example/tenant/.well-known/openid-configuration', 'keys.idp.example/jwks']);
  assert.equal((await call(rs256(k1, 'k1'))).ctx.lastError, undefined);
  assert.equal(fetched.length, 2, 'kept: not fetched again');
  // A token signed by a key the set does not (yet) hold: the known keys are tried (as .NET does) and fail;
  // the set was fetched less than five minutes ago, so it is not fetched again.
  assert.equal((await call(rs256(k2, 'k2'))).ctx.lastError?.reason, 'TokenSignatureInvalid');
  assert.equal(fetched.length, 2);
  // The issuer rotates its keys; six minutes later a token with the new kid fetches the set again.
  published = [jwk(k2, 'k2')];
  const later = fixedClock(new Date((NOW + 360) * 1000));
  assert.equal((await call(rs256(k2, 'k2'), later)).ctx.lastError, undefined);
  assert.equal(fetched.length, 4);
  // A signature by another key with a known kid is refused.
  assert.equal((await call(rs256(k1, 'k2'), later)).ctx.lastError?.reason, 'TokenSignatureInvalid');
});

test('openid-config that cannot be read: the token is refused (no key), and the failure is logged', async () => {
  const p = inbound('<validate-jwt header-name="Authorization"><openid-config url="https://down.example/.well-known/openid-configuration" /></validate-jwt>');
  const r = await runPolicy(p, { clock, headers: { Authorization: `Bearer ${hs256(good)}` }, backend: () => { throw new Error('connection refused'); } });
  assert.equal(r.ctx.lastError?.reason, 'TokenSignatureKeyNotFound');
  assert.equal(r.ctx.response.statusCode, 401);
});
