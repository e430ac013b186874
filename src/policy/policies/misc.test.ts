import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { HeaderMap } from '../../core/headers.js';
import { bodyText, inbound, runPolicy } from '../testing.js';

test('cors: preflight answered with the allowed method and headers; unmatched origin gets an empty 200', async () => {
  const cors = inbound('<cors allow-credentials="false"><allowed-origins><origin>*</origin></allowed-origins><allowed-methods><method>*</method></allowed-methods><allowed-headers><header>*</header></allowed-headers></cors>');
  const pre = await runPolicy(cors, { method: 'OPTIONS', headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'DELETE', 'Access-Control-Request-Headers': 'X-One, X-Two' } });
  assert.equal(pre.ctx.response.headers.get('Access-Control-Allow-Origin'), '*');
  assert.equal(pre.ctx.response.headers.get('Access-Control-Allow-Methods'), 'DELETE');
  assert.equal(pre.ctx.response.headers.get('Access-Control-Allow-Headers'), 'x-one,x-two');
  assert.equal(pre.backendRequests.length, 0);
  const strict = inbound('<cors><allowed-origins><origin>https://app.example</origin></allowed-origins><allowed-headers><header>x</header></allowed-headers></cors>');
  const other = await runPolicy(strict, { headers: { Origin: 'https://evil.example' } });
  assert.equal(other.ctx.response.statusCode, 200);
  assert.equal(other.backendRequests.length, 0);
  const same = await runPolicy(strict, { headers: { Origin: 'https://app.example:443' } });
  assert.equal(same.backendRequests.length, 1);
  assert.deepEqual(same.state.extraResponseHeaders[0], ['Access-Control-Allow-Origin', 'https://app.example:443']);
});

test('set-body and set-variable: inbound sets the request body, outbound the response; literal variables are strings', async () => {
  const r = await runPolicy(inbound('<set-body>to backend</set-body><set-variable name="n" value="42" />', { outbound: '<set-body>to client</set-body>' }), { method: 'POST', body: 'original' });
  assert.equal(r.backendRequests[0]!.body?.toString(), 'to backend');
  assert.equal(bodyText(r), 'to client');
  assert.equal(r.ctx.variables.get('n'), '42');
});

test('trace writes a record with its source, severity and metadata', async () => {
  const r = await runPolicy(inbound('<trace source="gw" severity="information"><message>hello</message><metadata name="k" value="v" /></trace>'));
  assert.deepEqual(r.ctx.traces, [{ source: 'gw', message: 'hello {"k":"v"}', severity: 'information' }]);
});

test('forward-request fail-on-error-status-code sends backend 4xx/5xx to on-error', async () => {
  const backend = () => ({ statusCode: 503, statusReason: 'Service Unavailable', headers: new HeaderMap(), body: Buffer.from('down') });
  const plain = await runPolicy(inbound(''), { backend });
  assert.equal(plain.ctx.response.statusCode, 503);
  assert.equal(plain.ctx.lastError, undefined);
  const failing = await runPolicy(inbound('', { backend: '<forward-request fail-on-error-status-code="true" />' }), { backend });
  assert.equal(failing.ctx.lastError?.source, 'forward-request');
  assert.equal(failing.ctx.lastError?.section, 'backend');
});

test('set-backend-service base-url keeps the operation path and query; authentication-certificate picks the credential', async () => {
  const r = await runPolicy(inbound('<set-backend-service base-url="https://other.example:8443/v2/" /><authentication-certificate certificate-id="client" />'), {
    target: '/api/items/1?x=y',
    store: { clientCredential: (id) => (id === 'client' ? { certificate: undefined as never, certPem: 'CERT', keyPem: 'KEY' } : undefined) },
  });
  const req = r.backendRequests[0]!;
  assert.deepEqual([req.url.scheme, req.url.host, req.url.port, req.url.path], ['https', 'other.example', 8443, '/v2/items/1']);
  assert.deepEqual(req.url.query, [['x', 'y']]);
  assert.deepEqual(req.clientCertificate, { certPem: 'CERT', keyPem: 'KEY' });
  const missing = await runPolicy(inbound('<authentication-certificate certificate-id="nope" />'));
  assert.equal(missing.ctx.lastError?.reason, 'CertificateNotFound');
});

test('send-request with <authentication-basic>: the request it sends carries Basic credentials (UTF-8), set after its headers', async () => {
  const r = await runPolicy(
    inbound(
      '<send-request response-variable-name="r"><set-url>https://token.example/</set-url><set-header name="Authorization" exists-action="override"><value>Bearer x</value></set-header><authentication-basic username="@(&quot;ü&quot; + &quot;ser&quot;)" password="p:w" /></send-request><return-response/>',
    ),
  );
  assert.equal(r.backendRequests.length, 1);
  assert.equal(r.backendRequests[0]!.headers.get('Authorization'), `Basic ${Buffer.from('üser:p:w', 'utf8').toString('base64')}`);
  // The incoming request's own headers are left alone.
  assert.equal(r.ctx.request.headers.get('Authorization'), undefined);
});

test('authentication-certificate body="": the PFX bytes from an expression, opened with password, become the backend client certificate', async () => {
  const pfx = readFileSync(resolve(import.meta.dirname, '../../../test/fixtures/bosma-certificates/dev-client-01.pfx'));
  const withVar = `<set-variable name="pfx" value="${pfx.toString('base64')}" />`;
  const fromVar = (password: string) => `<authentication-certificate body="@(Convert.FromBase64String((string)context.Variables[&quot;pfx&quot;]))" password="${password}" />`;
  const r = await runPolicy(inbound(withVar + fromVar('P@ssw0rd'), { backend: '<forward-request />' }));
  assert.equal(r.backendRequests.length, 1);
  const sent = r.backendRequests[0]!.clientCertificate!;
  assert.match(sent.certPem, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(new X509Certificate(sent.certPem).subject, 'CN=Client 01');
  assert.equal(createPrivateKey(sent.keyPem).asymmetricKeyType, 'rsa');
  // A wrong password: the request fails in the policy (no backend call), with the reason in LastError.
  const bad = await runPolicy(inbound(withVar + fromVar('wrong'), { backend: '<forward-request />' }));
  assert.equal(bad.backendRequests.length, 0);
  assert.equal(bad.ctx.lastError?.reason, 'InvalidCertificate');
  assert.match(String(bad.ctx.lastError?.message), /cannot be used/);
  // Not bytes at all.
  const notBytes = await runPolicy(inbound('<authentication-certificate body="@(&quot;text&quot;)" />', { backend: '<forward-request />' }));
  assert.equal(notBytes.ctx.lastError?.reason, 'InvalidCertificate');
});

test('send-request with ignore-error stores null when the call fails', async () => {
  const r = await runPolicy(inbound('<send-request response-variable-name="r" ignore-error="true"><set-url>https://down.example/</set-url></send-request><return-response/>'), {
    backend: () => {
      throw new Error('refused');
    },
  });
  assert.equal(r.ctx.variables.get('r'), null);
  assert.equal(r.ctx.lastError, undefined);
});
