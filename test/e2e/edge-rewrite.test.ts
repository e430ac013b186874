/**
 * Issue 3 item 3: rewrite rule sets — ruleSequence order, conditions (pattern, ignoreCase,
 * negate, all must hold, captures), request and response header set/delete, URL rewrite, the
 * server variables (including the mutual-authentication ones), invalid header names dropped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningEdge } from '../../src/edge/index.js';
import { fixture, makeTestPki, request, seedGateway, startBackend, startSeed, type Backend, type TestPki } from './edge-support.js';

const h = (headerName: string, headerValue: string) => ({ headerName, headerValue });
const rule = (name: string, ruleSequence: number, conditions: unknown[], actionSet: Record<string, unknown>) => ({ name, ruleSequence, conditions, actionSet });

const VARS = [
  'client_ip', 'client_port', 'host', 'http_method', 'http_version', 'query_string', 'request_query', 'request_scheme', 'request_uri', 'uri_path', 'server_port',
  'ssl_enabled', 'ssl_connection_protocol', 'ciphers_used', 'add_x_forwarded_for_proxy', 'cookie_session', 'client_user', 'received_bytes',
  'client_certificate_fingerprint', 'client_certificate_subject', 'client_certificate_issuer', 'client_certificate_serial', 'client_certificate_start_date',
  'client_certificate_end_date', 'client_certificate_verification',
];

describe('rewrite rule sets', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;
  let httpsPort: number;
  let mtlsPort: number;
  let ca: string;

  before(async () => {
    pki = await makeTestPki();
    ca = pki.frontendCa.certPem;
    const resource = seedGateway(pki);
    const sets = (resource.properties as Record<string, { name: string; properties: { rewriteRules: unknown[] } }[]>).rewriteRuleSets!;
    const dflt = sets.find((s) => s.name === 'default-rewrite-rules')!;
    dflt.properties.rewriteRules.push(
      rule('second', 2, [], { requestHeaderConfigurations: [h('X-Order', '{http_req_X-Order}-second')] }),
      rule('first', 1, [], { requestHeaderConfigurations: [h('X-Order', 'first')] }),
      rule('article', 10, [{ variable: 'var_uri_path', pattern: '^/article/(\\d+)/(\\w+)$' }], {
        requestHeaderConfigurations: [h('X-Article', '{var_uri_path_1}')],
        urlConfiguration: { modifiedPath: '/buy.aspx', modifiedQueryString: 'category={var_uri_path_1}&product={var_uri_path_2}' },
      }),
      rule('ua', 20, [{ variable: 'http_req_User-Agent', pattern: '(CURL)/(\\d+)', ignoreCase: true }], { requestHeaderConfigurations: [h('X-Curl-Major', '{http_req_User-Agent_2}')] }),
      rule('not-ua', 21, [{ variable: 'http_req_User-Agent', pattern: 'curl', negate: true }], { requestHeaderConfigurations: [h('X-Not-Curl', 'yes')] }),
      rule('both', 22, [{ variable: 'var_request_method_missing_is_empty', pattern: '' }], { requestHeaderConfigurations: [h('X-Never', 'x')] }),
      rule('and', 23, [{ variable: 'var_http_method', pattern: '^GET$' }, { variable: 'var_query_string', pattern: 'and=1' }], { requestHeaderConfigurations: [h('X-And', 'yes')] }),
      rule('delete', 24, [], { requestHeaderConfigurations: [h('X-Remove-Me', '')] }),
      rule('resp', 30, [], { responseHeaderConfigurations: [h('X-Status', '{var_http_status}'), h('Server', '')] }),
      rule('resp-cond', 31, [{ variable: 'http_resp_Content-Type', pattern: 'json' }], { responseHeaderConfigurations: [h('X-Json', 'yes;{http_resp_X-Backend}')] }),
      rule('vars', 40, [{ variable: 'var_uri_path', pattern: '^/vars$' }], { requestHeaderConfigurations: VARS.map((v) => h(`X-V-${v.replace(/_/g, '-')}`, `{var_${v}}`)) }),
      rule('framing', 41, [{ variable: 'var_uri_path', pattern: '^/framing$' }], { requestHeaderConfigurations: [h('Transfer-Encoding', 'chunked'), h('Content-Length', '5')] }),
    );
    // the unknown variable above must be rejected at load: keep the gateway valid by removing it again
    dflt.properties.rewriteRules = dflt.properties.rewriteRules.filter((r) => (r as { name: string }).name !== 'both');
    const mtls = sets.find((s) => s.name === 'mtls-rewrite-rules')!;
    mtls.properties.rewriteRules.push(rule('vars', 40, [], { requestHeaderConfigurations: VARS.map((v) => h(`X-V-${v.replace(/_/g, '-')}`, `{var_${v}}`)) }));
    backend = await startBackend(pki);
    edge = await startSeed(pki, backend, resource);
    httpsPort = edge.listeners.find((l) => l.name === 'https-listener')!.localPort;
    mtlsPort = edge.listeners.find((l) => l.name === 'mtls-listener')!.localPort;
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  test('rules run in ruleSequence order (not written order)', async () => {
    await request({ port: httpsPort, ca, headers: { 'X-Order': 'client' } });
    assert.deepEqual(backend.header('X-Order'), ['first-second']);
  });

  test('URL rewrite with capture groups; X-Original-URL keeps the original', async () => {
    const r = await request({ port: httpsPort, ca, path: '/article/123/shoes?x=1' });
    assert.equal(r.status, 200);
    const rec = backend.requests.at(-1)!;
    assert.equal(rec.url, '/buy.aspx?category=123&product=shoes');
    assert.deepEqual(backend.header('X-Article'), ['123']);
    assert.deepEqual(backend.header('X-Original-URL'), ['/article/123/shoes?x=1']);
  });

  test('ignoreCase with a capture of a request header; negate', async () => {
    await request({ port: httpsPort, ca, headers: { 'User-Agent': 'curl/8.1' } });
    assert.deepEqual(backend.header('X-Curl-Major'), ['8']);
    assert.deepEqual(backend.header('X-Not-Curl'), []);
    await request({ port: httpsPort, ca, headers: { 'User-Agent': 'Mozilla/5.0' } });
    assert.deepEqual(backend.header('X-Curl-Major'), []);
    assert.deepEqual(backend.header('X-Not-Curl'), ['yes']);
  });

  test('all conditions must hold', async () => {
    await request({ port: httpsPort, ca, path: '/x?and=1' });
    assert.deepEqual(backend.header('X-And'), ['yes']);
    await request({ port: httpsPort, ca, path: '/x?and=1', method: 'DELETE' });
    assert.deepEqual(backend.header('X-And'), []);
  });

  test('request header delete (empty value) removes every copy', async () => {
    await request({ port: httpsPort, ca, headers: { 'X-Remove-Me': ['a', 'b'], 'x-remove-me': 'c' } });
    assert.deepEqual(backend.header('X-Remove-Me'), []);
  });

  test('response headers: set from a server variable, delete the backend Server header, condition on a response header', async () => {
    const r = await request({ port: httpsPort, ca });
    assert.equal(r.headers['x-status'], '200');
    assert.equal(r.headers.server, undefined);
    assert.equal(r.headers['x-json'], 'yes;yes');
  });

  test('request header names with characters other than letters, digits and hyphen are dropped', async () => {
    await request({ port: httpsPort, ca, headers: { 'X.Dotted': '1', X_Under: '2', 'X-Fine-1': '3' } });
    const names = backend.requests.at(-1)!.rawHeaders.filter((_, i) => i % 2 === 0);
    assert.equal(names.includes('X.Dotted'), false);
    assert.equal(names.includes('X_Under'), false);
    assert.deepEqual(backend.header('X-Fine-1'), ['3']);
  });

  test('X-Original-Host cannot be forged: the gateway sets it', async () => {
    await request({ port: httpsPort, ca, headers: { 'X-Original-Host': 'evil.example' } });
    assert.deepEqual(backend.header('X-Original-Host'), ['apim-sample.dev']);
  });

  test('server variables on the TLS listener', async () => {
    await request({ port: httpsPort, ca, path: '/vars?a=1&b=2', headers: { Cookie: 'x=1; session=abc', 'X-Forwarded-For': '1.2.3.4', Authorization: 'Basic ' + Buffer.from('alice:pw').toString('base64') } });
    const v = (n: string) => backend.header(`X-V-${n.replace(/_/g, '-')}`)[0] ?? '';
    assert.equal(v('client_ip'), '127.0.0.1');
    assert.match(v('client_port'), /^\d+$/);
    assert.equal(v('host'), 'apim-sample.dev');
    assert.equal(v('http_method'), 'GET');
    assert.equal(v('http_version'), 'HTTP/1.1');
    assert.equal(v('query_string'), 'a=1&b=2');
    assert.equal(v('request_query'), 'a=1&b=2');
    assert.equal(v('request_scheme'), 'https');
    assert.equal(v('request_uri'), '/vars?a=1&b=2');
    assert.equal(v('uri_path'), '/vars');
    assert.equal(v('server_port'), '443');
    assert.equal(v('ssl_enabled'), 'on');
    assert.match(v('ssl_connection_protocol'), /^TLSv1\.[23]$/);
    assert.match(v('ciphers_used'), /^[A-Z0-9_-]+$/);
    assert.equal(v('add_x_forwarded_for_proxy'), '1.2.3.4, 127.0.0.1');
    assert.equal(v('cookie_session'), 'abc');
    assert.equal(v('client_user'), 'alice');
    assert.equal(v('client_certificate_fingerprint'), '');
    assert.equal(v('client_certificate_verification'), '');
  });

  test('a client value with characters above U+00FF in a rewritten header: 500, nothing reaches the backend (no request smuggling)', async () => {
    const before = backend.requests.length;
    // As latin1 on the wire, U+010D U+010A would be CR LF, and U+013A a colon: a second request.
    const user = 'alice\u010d\u010aDELETE /admin/users/1 HTTP/1.1\u010d\u010aHost\u013a internal\u010d\u010a\u010d\u010a';
    const r = await request({ port: httpsPort, ca, path: '/vars', headers: { Authorization: 'Basic ' + Buffer.from(`${user}:pw`).toString('base64') } });
    assert.equal(r.status, 500);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(backend.requests.length, before);
    assert.equal((await request({ port: httpsPort, ca, path: '/after' })).status, 200);
    assert.equal(backend.requests.at(-1)!.url, '/after');
  });

  test('a rewritten value loses CR, LF and NUL, also right after a long clean value (checked once and remembered)', async () => {
    const basic = (user: string) => ({ Authorization: 'Basic ' + Buffer.from(`${user}:pw`).toString('base64') });
    const long = 'u'.repeat(300);
    await request({ port: httpsPort, ca, path: '/vars', headers: basic(long) });
    assert.equal(backend.header('X-V-client-user')[0], long);
    await request({ port: httpsPort, ca, path: '/vars', headers: basic(long) });
    assert.equal(backend.header('X-V-client-user')[0], long);
    // (no colon: Basic's user part ends at the first one)
    await request({ port: httpsPort, ca, path: '/vars', headers: basic(`${long}\r\nX-Injected 1\u0000`) });
    assert.equal(backend.header('X-V-client-user')[0], `${long}X-Injected 1`);
  });

  test('a rewrite cannot set the body framing: Transfer-Encoding and Content-Length are the client\'s', async () => {
    const r = await request({ port: httpsPort, ca, path: '/framing' });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('transfer-encoding'), []);
    assert.deepEqual(backend.header('content-length'), []);
    const p = await request({ port: httpsPort, ca, path: '/framing', method: 'POST', body: 'abc' });
    assert.equal(p.status, 200);
    assert.deepEqual(backend.header('content-length'), ['3']);
    assert.equal(backend.requests.at(-1)!.body, 'abc');
    assert.equal((await request({ port: httpsPort, ca, path: '/after-framing' })).status, 200);
  });

  test('mutual-authentication server variables on the mTLS listener (dev-client-01)', async () => {
    const r = await request({ port: mtlsPort, ca, pfx: fixture('dev-client-01.pfx') });
    assert.equal(r.status, 200);
    const v = (n: string) => backend.header(`X-V-${n.replace(/_/g, '-')}`)[0] ?? '';
    assert.equal(v('client_certificate_fingerprint'), 'b4af863c2ab64c4ffefb85e6a805a5346a8b0105');
    assert.equal(v('client_certificate_subject'), 'CN=Client 01');
    assert.equal(v('client_certificate_issuer'), 'CN=APIM Sample DEV Intermediate CA');
    assert.equal(v('client_certificate_serial'), '19B72EEA84A4D4BD48C20892E65D0B92');
    assert.equal(v('client_certificate_start_date'), 'Feb  2 08:39:43 2024 GMT');
    assert.equal(v('client_certificate_end_date'), 'Feb  2 08:49:43 2074 GMT');
    assert.equal(v('client_certificate_verification'), 'SUCCESS');
    assert.equal(v('server_port'), '53029');
  });
});

describe('absolute-form request targets', () => {
  test('GET https://host/path: the request line host picks the listener and the path is forwarded', async () => {
    const { rawTls, FRONT_HOST } = await import('./edge-support.js');
    const pki = await makeTestPki();
    const backend = await startBackend(pki);
    const edge = await startSeed(pki, backend, seedGateway(pki));
    try {
      const out = await rawTls({ port: edge.listeners[0]!.localPort, ca: pki.frontendCa.certPem, data: `GET https://${FRONT_HOST}/abs/path?q=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n` });
      assert.match(out, /^HTTP\/1\.1 200 OK/);
      assert.equal(backend.requests.at(-1)!.url, '/abs/path?q=1');
      assert.deepEqual(backend.header('X-Original-Host'), [FRONT_HOST]);
    } finally {
      await edge.close();
      await backend.close();
    }
  });
});
