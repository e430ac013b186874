/**
 * API Management policies end to end, over real HTTPS with the platform CA's server certificate:
 * subscriptions and keys (Azure's 401 bodies), products, named values, check-header, mock-response,
 * rewrite-uri, set-backend-service with a backend entity, ip-filter, cors preflight, rate-limit
 * (429 + Retry-After), send-request, and authentication-certificate (mTLS to the backend).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/core/logger.js';
import { openPlatformCa } from '../../src/pki/index.js';
import { startApiManagement, type RunningApim } from '../../src/apim/index.js';
import { httpsRequest } from '../helpers/https.js';
import { fixture, makeServerTls, modelOf, res, seedService, startEchoBackend, type EchoBackend, type ServerTls } from './apim-support.js';

const HOST = 'apim-sample.azure-api.net';
const KEY = 'product-key-0123456789';
const API_KEY = 'api-key-0123456789';
const policy = (inbound: string, extra: { backend?: string; outbound?: string; onError?: string } = {}) =>
  `<policies><inbound><base/>${inbound}</inbound><backend>${extra.backend ?? '<base/>'}</backend><outbound><base/>${extra.outbound ?? ''}</outbound><on-error><base/>${extra.onError ?? ''}</on-error></policies>`;

describe('API Management policies over HTTPS (platform CA certificate)', () => {
  let stateDir: string;
  let backendTls: ServerTls;
  let backend: EchoBackend;
  let mtlsBackend: EchoBackend;
  let apim: RunningApim;
  let idp: Server;
  let idpHits = 0;
  const idpKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let caPem: string;
  const logger = memoryLogger();

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'gh-apim-state-'));
    const platformCa = await openPlatformCa(stateDir);
    caPem = platformCa.root.toPem();
    backendTls = makeServerTls(['127.0.0.1']);
    backend = await startEchoBackend(backendTls);
    // An OpenID provider on loopback (plain HTTP): the discovery document and its key set.
    idp = createServer((req, out) => {
      const body = req.url === '/tenant/.well-known/openid-configuration' ? { issuer: 'http://idp/tenant', jwks_uri: `http://127.0.0.1:${(idp.address() as AddressInfo).port}/tenant/keys` } : req.url === '/tenant/keys' ? { keys: [{ ...idpKey.publicKey.export({ format: 'jwk' }), kid: 'e2e', use: 'sig' }] } : undefined;
      idpHits++;
      out.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' }).end(JSON.stringify(body ?? {}));
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    mtlsBackend = await startEchoBackend(backendTls, { requestCert: true });
    const be = `https://127.0.0.1:${backend.port}`;
    const resources = [
      ...seedService('apim-sample', { virtualNetworkType: 'Internal' }),
      res('certificates', 'apim-sample/client-pfx', { data: fixture('dev-client-01.pfx').toString('base64'), password: 'P@ssw0rd' }),
      res('namedValues', 'apim-sample/greeting', { displayName: 'Greeting', value: 'hello-from-named-value' }),
      res('backends', 'apim-sample/mtls-backend', { url: `https://127.0.0.1:${mtlsBackend.port}/mtls`, protocol: 'http', credentials: { certificateIds: ['/certificates/client-pfx'] }, tls: { validateCertificateChain: false, validateCertificateName: false } }),
      // Subscriptions and products.
      res('apis', 'apim-sample/keyed', { path: 'keyed', serviceUrl: be, subscriptionRequired: true }),
      res('apis/operations', 'apim-sample/keyed/get', { method: 'GET', urlTemplate: '/*' }),
      res('products', 'apim-sample/gold', { displayName: 'Gold', subscriptionRequired: true, state: 'published' }),
      res('products/apis', 'apim-sample/gold/keyed', {}),
      res('products/policies', 'apim-sample/gold/policy', { format: 'rawxml', value: policy('<set-header name="X-Product" exists-action="override"><value>gold</value></set-header>') }),
      res('subscriptions', 'apim-sample/gold-sub', { scope: '/products/gold', displayName: 'Gold subscription', primaryKey: KEY, secondaryKey: KEY + '-2', state: 'active' }),
      res('subscriptions', 'apim-sample/keyed-sub', { scope: '/apis/keyed', primaryKey: API_KEY, secondaryKey: API_KEY + '-2' }),
      res('apis/policies', 'apim-sample/keyed/policy', { format: 'rawxml', value: policy('<rate-limit calls="2" renewal-period="60" remaining-calls-header-name="X-Remaining" />') }),
      // Policies without a backend.
      res('apis', 'apim-sample/p', { path: 'p', subscriptionRequired: false, serviceUrl: `${be}/base` }),
      res('apis/operations', 'apim-sample/p/oidc', { method: 'GET', urlTemplate: '/oidc' }),
      res('apis/operations/policies', 'apim-sample/p/oidc/policy', {
        format: 'rawxml',
        value: policy(`<validate-jwt header-name="Authorization" require-scheme="Bearer"><openid-config url="http://127.0.0.1:${(idp.address() as AddressInfo).port}/tenant/.well-known/openid-configuration" /><audiences><audience>api://e2e</audience></audiences></validate-jwt><return-response><set-body>valid</set-body></return-response>`),
      }),
      res('apis/operations', 'apim-sample/p/named', { method: 'GET', urlTemplate: '/named' }),
      res('apis/operations/policies', 'apim-sample/p/named/policy', { format: 'rawxml', value: policy('<return-response><set-header name="X-Named" exists-action="override"><value>{{Greeting}}</value></set-header><set-body>{{Greeting}}!</set-body></return-response>') }),
      res('apis/operations', 'apim-sample/p/check', { method: 'GET', urlTemplate: '/check' }),
      res('apis/operations/policies', 'apim-sample/p/check/policy', {
        format: 'rawxml',
        value: policy('<check-header name="X-Token" failed-check-httpcode="403" failed-check-error-message="Bad token" ignore-case="true"><value>Secret</value></check-header><mock-response status-code="204" content-type="application/json" />'),
      }),
      res('apis/operations', 'apim-sample/p/mock', {
        method: 'GET',
        urlTemplate: '/mock',
        responses: [{ statusCode: 200, representations: [{ contentType: 'application/json', examples: { default: { value: { id: 1, name: 'example' } } } }] }],
      }),
      res('apis/operations/policies', 'apim-sample/p/mock/policy', { format: 'rawxml', value: policy('<mock-response status-code="200" content-type="application/json" />') }),
      res('apis/operations', 'apim-sample/p/rewrite', { method: 'GET', urlTemplate: '/orders/{id}?v={v}' }),
      res('apis/operations/policies', 'apim-sample/p/rewrite/policy', { format: 'rawxml', value: policy('<rewrite-uri template="/v2/order/{id}?version={v}" />') }),
      res('apis/operations', 'apim-sample/p/mtls', { method: 'GET', urlTemplate: '/mtls/{rest}' }),
      res('apis/operations/policies', 'apim-sample/p/mtls/policy', { format: 'rawxml', value: policy('<set-backend-service backend-id="mtls-backend" />') }),
      res('apis/operations', 'apim-sample/p/authcert', { method: 'GET', urlTemplate: '/authcert' }),
      res('apis/operations/policies', 'apim-sample/p/authcert/policy', { format: 'rawxml', value: policy(`<set-backend-service base-url="https://127.0.0.1:${mtlsBackend.port}/direct" /><authentication-certificate certificate-id="client-pfx" />`) }),
      res('apis/operations', 'apim-sample/p/ipdeny', { method: 'GET', urlTemplate: '/ipdeny' }),
      res('apis/operations/policies', 'apim-sample/p/ipdeny/policy', { format: 'rawxml', value: policy('<ip-filter action="forbid"><address-range from="127.0.0.0" to="127.255.255.255" /></ip-filter>') }),
      res('apis/operations', 'apim-sample/p/ipallow', { method: 'GET', urlTemplate: '/ipallow' }),
      res('apis/operations/policies', 'apim-sample/p/ipallow/policy', { format: 'rawxml', value: policy('<ip-filter action="allow"><address>127.0.0.1</address></ip-filter><return-response><set-status code="200"/></return-response>') }),
      res('apis/operations', 'apim-sample/p/send', { method: 'GET', urlTemplate: '/send' }),
      res('apis/operations/policies', 'apim-sample/p/send/policy', {
        format: 'rawxml',
        value: policy(`<send-request mode="new" response-variable-name="r" timeout="5"><set-url>${be}/side</set-url><set-method>POST</set-method><set-header name="X-Side" exists-action="override"><value>1</value></set-header><set-body>side-body</set-body></send-request><return-response response-variable-name="r"><set-header name="X-Wrapped" exists-action="override"><value>yes</value></set-header></return-response>`),
      }),
      res('apis', 'apim-sample/cors', { path: 'cors', subscriptionRequired: false, serviceUrl: be }),
      res('apis/operations', 'apim-sample/cors/get', { method: 'GET', urlTemplate: '/thing' }),
      res('apis/policies', 'apim-sample/cors/policy', {
        format: 'rawxml',
        value: policy('<cors allow-credentials="true"><allowed-origins><origin>https://app.example</origin></allowed-origins><allowed-methods preflight-result-max-age="300"><method>GET</method><method>PUT</method></allowed-methods><allowed-headers><header>x-custom</header></allowed-headers><expose-headers><header>X-Backend</header></expose-headers></cors>'),
      }),
      // Version sets, fragments, protocols.
      res('apiVersionSets', 'apim-sample/vs-seg', { displayName: 'seg', versioningScheme: 'Segment' }),
      res('apiVersionSets', 'apim-sample/vs-hdr', { displayName: 'hdr', versioningScheme: 'Header', versionHeaderName: 'Api-Version' }),
      ...[
        ['ver-v1', 'ver', 'v1', 'vs-seg'],
        ['ver-orig', 'ver', '', 'vs-seg'],
        ['hv-2024', 'hv', '2024', 'vs-hdr'],
        ['hv-orig', 'hv', '', 'vs-hdr'],
      ].flatMap(([name, path, v, set]) => [
        res('apis', `apim-sample/${name}`, { path, subscriptionRequired: false, apiVersion: v || undefined, apiVersionSetId: `/apiVersionSets/${set}` }),
        res('apis/operations', `apim-sample/${name}/x`, { method: 'GET', urlTemplate: '/x' }),
        res('apis/operations/policies', `apim-sample/${name}/x/policy`, { format: 'rawxml', value: policy(`<return-response><set-body>${name}</set-body></return-response>`) }),
      ]),
      res('policyFragments', 'apim-sample/tag-request', { format: 'rawxml', value: '<fragment>\n  <set-header name="X-Fragment" exists-action="override"><value>from fragment</value></set-header>\n</fragment>' }),
      res('apis/operations', 'apim-sample/p/frag', { method: 'GET', urlTemplate: '/frag' }),
      res('apis/operations/policies', 'apim-sample/p/frag/policy', { format: 'rawxml', value: policy('<include-fragment fragment-id="tag-request" />') }),
      res('apis', 'apim-sample/plain-http', { path: 'plain', protocols: ['http'], subscriptionRequired: false, serviceUrl: be }),
      res('apis/operations', 'apim-sample/plain-http/x', { method: 'GET', urlTemplate: '/x' }),
      res('apis/operations', 'apim-sample/p/badstatus', { method: 'GET', urlTemplate: '/badstatus/{kind}' }),
      res('apis/operations/policies', 'apim-sample/p/badstatus/policy', {
        format: 'rawxml',
        value: policy('<return-response><set-status code="@(context.Request.MatchedParameters[&quot;kind&quot;] == &quot;code&quot; ? 1000 : 200)" reason="@(context.Request.MatchedParameters[&quot;kind&quot;] == &quot;reason&quot; ? &quot;a\\nb&quot; : &quot;OK&quot;)"/></return-response>'),
      }),
      res('apis', 'apim-sample/slow', { path: 'slow', subscriptionRequired: false, serviceUrl: 'https://127.0.0.1:1' }),
      res('apis/operations', 'apim-sample/slow/get', { method: 'GET', urlTemplate: '/' }),
    ];
    apim = await startApiManagement(modelOf(resources), { platformCa, internalPort: 0, portMap: new Map([[443, 1]]), logger });
  });
  after(async () => {
    await new Promise((r) => idp?.close(r));
    await apim?.close();
    await backend?.close();
    await mtlsBackend?.close();
    backendTls?.cleanup();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const get = (path: string, extra: Partial<Parameters<typeof httpsRequest>[0]> = {}) => httpsRequest({ port: apim.localPort, path, host: HOST, ca: caPem, ...extra });

  test('an Internal service listens on an ephemeral loopback port, not the port map, with a certificate from the platform CA', async () => {
    assert.equal(apim.localAddress, '127.0.0.1');
    assert.notEqual(apim.localPort, 1);
    const r = await get('/status-0123456789abcdef');
    assert.equal(r.status, 200);
  });

  describe('subscriptions', () => {
    test('no key on an API that requires one: 401 with Azure body', async () => {
      const r = await get('/keyed/x');
      assert.equal(r.status, 401);
      assert.deepEqual(JSON.parse(r.body), { statusCode: 401, message: 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.' });
    });
    test('a wrong key: 401 invalid key body', async () => {
      const r = await get('/keyed/x', { headers: { 'Ocp-Apim-Subscription-Key': 'nope' } });
      assert.equal(r.status, 401);
      assert.deepEqual(JSON.parse(r.body), { statusCode: 401, message: 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.' });
    });
    test('a product key in the header runs the product policy', async () => {
      const r = await get('/keyed/x', { headers: { 'Ocp-Apim-Subscription-Key': KEY } });
      assert.equal(r.status, 200, r.body);
      assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-product'], 'gold');
    });
    test('an API-scoped key in the query string does not run product policies; rate-limit answers 429 with Retry-After', async () => {
      const first = await get(`/keyed/a?subscription-key=${API_KEY}`);
      assert.equal(first.status, 200, first.body);
      assert.equal((JSON.parse(first.body) as { headers: Record<string, string> }).headers['x-product'], undefined);
      assert.equal(first.headers['x-remaining'], '1');
      const second = await get(`/keyed/b?subscription-key=${API_KEY}`);
      assert.equal(second.status, 200);
      const third = await get(`/keyed/c?subscription-key=${API_KEY}`);
      assert.equal(third.status, 429);
      const retry = Number(third.headers['retry-after']);
      assert.ok(retry >= 1 && retry <= 60, `Retry-After ${third.headers['retry-after']}`);
      assert.deepEqual(JSON.parse(third.body), { statusCode: 429, message: `Rate limit is exceeded. Try again in ${retry} seconds.` });
      // The other subscription has its own counter.
      const other = await get('/keyed/d', { headers: { 'Ocp-Apim-Subscription-Key': KEY } });
      assert.equal(other.status, 200);
    });
  });

  test('validate-jwt openid-config: keys from a provider on loopback, fetched once through the service\'s backend client', async () => {
    const token = (key: KeyObject, aud = 'api://e2e') => {
      const head = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'e2e' })).toString('base64url');
      const body = Buffer.from(JSON.stringify({ aud, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
      return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), key).toString('base64url')}`;
    };
    const ok = await get('/p/oidc', { headers: { Authorization: `Bearer ${token(idpKey.privateKey)}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'valid');
    assert.equal(idpHits, 2, 'the discovery document and the key set');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.equal((await get('/p/oidc', { headers: { Authorization: `Bearer ${token(other.privateKey)}` } })).status, 401);
    assert.equal((await get('/p/oidc', { headers: { Authorization: `Bearer ${token(idpKey.privateKey, 'api://other')}` } })).status, 401);
    assert.equal(idpHits, 2, 'kept, not fetched per request');
  });

  test('named values are substituted in attributes and text', async () => {
    const r = await get('/p/named');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-named'], 'hello-from-named-value');
    assert.equal(r.body, 'hello-from-named-value!');
  });

  test('check-header: missing or wrong value gets the policy code and message; right value reaches mock-response', async () => {
    const missing = await get('/p/check');
    assert.equal(missing.status, 403);
    assert.deepEqual(JSON.parse(missing.body), { statusCode: 403, message: 'Bad token' });
    const wrong = await get('/p/check', { headers: { 'X-Token': 'other' } });
    assert.equal(wrong.status, 403);
    const right = await get('/p/check', { headers: { 'X-Token': 'SECRET' } });
    assert.equal(right.status, 204);
    assert.equal(right.headers['content-type'], 'application/json');
  });

  test('mock-response answers with the example of the operation response', async () => {
    const r = await get('/p/mock');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), { id: 1, name: 'example' });
    assert.equal(backend.requests.some((x) => x.url.includes('mock')), false);
  });

  test('rewrite-uri fills template parameters and keeps unmatched query parameters', async () => {
    const r = await get('/p/orders/7?v=3&keep=me');
    assert.equal(r.status, 200, r.body);
    assert.equal((JSON.parse(r.body) as { url: string }).url, '/base/v2/order/7?version=3&keep=me');
  });

  test('set-backend-service backend-id: the backend entity presents its client certificate (mTLS to the backend)', async () => {
    const r = await get('/p/mtls/abc');
    assert.equal(r.status, 200, r.body);
    const seen = JSON.parse(r.body) as { url: string; clientCertSubject?: string };
    assert.equal(seen.url, '/mtls/mtls/abc');
    assert.equal(seen.clientCertSubject, 'CN=Client 01');
  });

  test('authentication-certificate certificate-id: mTLS to a base-url backend', async () => {
    const r = await get('/p/authcert');
    assert.equal(r.status, 200, r.body);
    const seen = JSON.parse(r.body) as { url: string; clientCertSubject?: string };
    assert.equal(seen.url, '/direct/authcert');
    assert.equal(seen.clientCertSubject, 'CN=Client 01');
  });

  test('ip-filter: forbid of the caller range is 403 CallerIpBlocked; allow of the caller passes', async () => {
    const denied = await get('/p/ipdeny');
    assert.equal(denied.status, 403);
    assert.equal(JSON.parse(denied.body).message, 'Caller IP address is blocked. Access denied.');
    assert.equal([...logger.records].reverse().find((x) => x.path === '/p/ipdeny')?.lastError, 'CallerIpBlocked');
    const allowed = await get('/p/ipallow');
    assert.equal(allowed.status, 200);
  });

  test('send-request stores the response; return-response returns that variable', async () => {
    const r = await get('/p/send');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-wrapped'], 'yes');
    const seen = JSON.parse(r.body) as { method: string; url: string; body: string; headers: Record<string, string> };
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/side');
    assert.equal(seen.body, 'side-body');
    assert.equal(seen.headers['x-side'], '1');
  });

  describe('cors', () => {
    test('a preflight from an allowed origin is answered by the gateway', async () => {
      const r = await get('/cors/thing', { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'X-Custom' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
      assert.equal(r.headers['access-control-allow-methods'], 'GET,PUT');
      assert.equal(r.headers['access-control-allow-headers'], 'x-custom');
      assert.equal(r.headers['access-control-max-age'], '300');
    });
    test('a preflight from another origin gets an empty 200 without CORS headers', async () => {
      const r = await get('/cors/thing', { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    });
    test('a simple request from an allowed origin gets the headers on the backend response', async () => {
      const r = await get('/cors/thing', { headers: { Origin: 'https://app.example' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
      assert.equal(r.headers['access-control-expose-headers'], 'X-Backend');
    });
  });

  test('version sets: Segment versions by path (the original without), Header versions by header', async () => {
    assert.equal((await get('/ver/v1/x')).body, 'ver-v1');
    assert.equal((await get('/ver/x')).body, 'ver-orig');
    assert.equal((await get('/hv/x', { headers: { 'Api-Version': '2024' } })).body, 'hv-2024');
    assert.equal((await get('/hv/x')).body, 'hv-orig');
    assert.equal((await get('/hv/x', { headers: { 'Api-Version': '1999' } })).status, 404);
  });

  test('include-fragment inserts the fragment statements; an http-only API does not answer over https', async () => {
    const r = await get('/p/frag');
    assert.equal(r.status, 200, r.body);
    assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-fragment'], 'from fragment');
    assert.equal((await get('/plain/x')).status, 404);
  });

  test('a status code or reason Node cannot write: 500 over HTTPS and the same 500 from the in-process hand-off', async () => {
    for (const kind of ['code', 'reason']) {
      const r = await get(`/p/badstatus/${kind}`);
      assert.equal(r.status, 500, kind);
      assert.deepEqual(JSON.parse(r.body), { statusCode: 500, message: 'Internal server error' });
      const w = await apim.inProcess.handle({ method: 'GET', target: `/p/badstatus/${kind}`, rawHeaders: ['Host', HOST], body: undefined, remoteAddress: '127.0.0.1', remotePort: 0 });
      assert.equal(w.statusCode, 500, kind);
      assert.deepEqual(JSON.parse(String(w.body)), { statusCode: 500, message: 'Internal server error' });
    }
    const ok = await apim.inProcess.handle({ method: 'GET', target: '/p/badstatus/none', rawHeaders: ['Host', HOST], body: undefined, remoteAddress: '127.0.0.1', remotePort: 0 });
    assert.equal(ok.statusCode, 200);
  });

  test('an unreachable backend: 500 with the default answer, BackendConnectionFailure', async () => {
    const r = await get('/slow/');
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.body), { statusCode: 500, message: 'Internal server error' });
    assert.equal([...logger.records].reverse().find((x) => x.path === '/slow/')?.lastError, 'BackendConnectionFailure');
  });
});
