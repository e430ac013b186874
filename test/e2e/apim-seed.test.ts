/**
 * The seed's API Management policies with their C# expressions, run over real HTTPS: the first
 * post's validate-using-policy (validate-client-certificate + on-error copying context.LastError
 * into headers) and validate-using-context (context.Request.Certificate and
 * context.Deployment.Certificates), called with mTLS straight to the gateway; and the second
 * post's validate-from-agw, which trusts an X-ARR-ClientCert header.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startApiManagement, type RunningApim } from '../../src/apim/index.js';
import { httpsRequest } from '../helpers/https.js';
import { fixture, makeServerTls, modelOf, res, seedService, startEchoBackend, type EchoBackend, type ServerTls } from './apim-support.js';

const HOST = 'apim-sample.azure-api.net';
const examples = resolve(import.meta.dirname, '../../examples');
const policyFile = (p: string) => readFileSync(resolve(examples, p), 'utf8');

describe('the seed policies with expressions', () => {
  let tls: ServerTls;
  let apim: RunningApim;
  before(async () => {
    tls = makeServerTls([HOST]);
    const op = (name: string, file: string) => [
      res('apis/operations', `apim-sample/client-cert-api/${name}`, { displayName: name, method: 'GET', urlTemplate: `/${name}` }),
      res('apis/operations/policies', `apim-sample/client-cert-api/${name}/policy`, { format: 'rawxml', value: policyFile(file) }, { policyFile: file }),
    ];
    apim = await startApiManagement(
      modelOf([
        ...seedService(),
        ...op('validate-using-policy', 'apim-direct-mtls/validate-using-policy.operation.cshtml'),
        ...op('validate-using-context', 'apim-direct-mtls/validate-using-context.operation.cshtml'),
        ...op('validate-from-agw', 'apim-behind-agw/api-management/validate-from-agw.operation.cshtml'),
      ]),
      { tls, portMap: new Map([[443, 0]]) },
    );
  });
  after(async () => {
    await apim?.close();
    tls?.cleanup();
  });
  const get = (path: string, extra: Partial<Parameters<typeof httpsRequest>[0]> = {}) => httpsRequest({ port: apim.localPort, path, host: HOST, ca: tls.cert, ...extra });

  test('validate-using-policy: dev-client-01 gets 200 with X509Certificate2.ToString()', async () => {
    const r = await get('/client-cert/validate-using-policy', { pfx: fixture('dev-client-01.pfx') });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /\[Subject\]\r?\n {2}CN=Client 01/);
    assert.match(r.body, /\[Thumbprint\]\r?\n {2}B4AF863C2AB64C4FFEFB85E6A805A5346A8B0105/);
  });

  test('validate-using-policy: no certificate → 401 "Client certificate missing"', async () => {
    const r = await get('/client-cert/validate-using-policy');
    assert.equal(r.status, 401);
    assert.equal(r.statusMessage, 'Client certificate missing');
  });

  test('validate-using-policy: tst-client-01 → 401, on-error copies LastError into headers', async () => {
    const r = await get('/client-cert/validate-using-policy', { pfx: fixture('tst-client-01.pfx') });
    assert.equal(r.status, 401);
    assert.equal(r.headers['errorsource'], 'validate-client-certificate');
    assert.equal(r.headers['errorreason'], 'ClientCertificateNotTrusted');
    assert.equal(r.headers['errormessage'], 'Invalid client certificate');
    assert.match(r.body, /Invalid client certificate/);
  });

  test('validate-using-context: dev-client-01 (an uploaded certificate) passes; dev-client-02 does not', async () => {
    const ok = await get('/client-cert/validate-using-context', { pfx: fixture('dev-client-01.pfx') });
    assert.equal(ok.status, 200, ok.body);
    assert.match(ok.body, /CN=Client 01/);
    const other = await get('/client-cert/validate-using-context', { pfx: fixture('dev-client-02.pfx') });
    assert.equal(other.status, 401);
    assert.equal(other.statusMessage, 'Invalid client certificate');
    const none = await get('/client-cert/validate-using-context');
    assert.equal(none.status, 401);
    assert.equal(none.statusMessage, 'Client certificate missing');
  });

  test('validate-from-agw: the X-ARR-ClientCert header of dev-client-01 is accepted (the post\'s hole when the gateway is bypassed), dev-client-02 and no header are not', async () => {
    const escaped = fixture('dev-client-01.nginx-escaped-cert.txt').toString('utf8');
    const ok = await get('/client-cert/validate-from-agw', { headers: { 'X-ARR-ClientCert': escaped } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.body, escaped);
    const pem2 = fixture('dev-client-02.cer').toString('utf8');
    const other = await get('/client-cert/validate-from-agw', { headers: { 'X-ARR-ClientCert': encodeURIComponent(pem2) } });
    assert.equal(other.status, 401);
    const none = await get('/client-cert/validate-from-agw');
    assert.equal(none.status, 401);
    assert.equal(none.statusMessage, 'Invalid client certificate');
  });
});

describe('expressions in the pipeline', () => {
  let tls: ServerTls;
  let backendTls: ServerTls;
  let backend: EchoBackend;
  let apim: RunningApim;
  before(async () => {
    tls = makeServerTls([HOST]);
    backendTls = makeServerTls(['127.0.0.1']);
    backend = await startEchoBackend(backendTls);
    const op = (name: string, inbound: string, onError = '<base/>') => [
      res('apis/operations', `apim-sample/client-cert-api/${name}`, { method: 'GET', urlTemplate: `/${name}/{id}` }),
      res('apis/operations/policies', `apim-sample/client-cert-api/${name}/policy`, { format: 'rawxml', value: `<policies><inbound><base/>${inbound}</inbound><backend><base/></backend><outbound><base/></outbound><on-error>${onError}</on-error></policies>` }),
    ];
    apim = await startApiManagement(
      modelOf([
        ...seedService(),
        res('namedValues', 'apim-sample/backend-base', { displayName: 'BackendBase', value: `https://127.0.0.1:${backend.port}` }),
        ...op(
          'send',
          `<send-request mode="new" response-variable-name="r" timeout="5"><set-url>@("{{BackendBase}}/lookup/" + context.Request.MatchedParameters["id"])</set-url><set-method>GET</set-method></send-request>
           <set-variable name="status" value="@(((IResponse)context.Variables["r"]).StatusCode)" />
           <return-response><set-status code="@((int)context.Variables["status"] + 1)" reason="@("From " + context.Operation.Name)" /><set-header name="X-Seen" exists-action="override"><value>@(((IResponse)context.Variables["r"]).Body.As<JObject>()["url"].ToString())</value></set-header></return-response>`,
        ),
        ...op(
          'boom',
          `<set-variable name="x" value="@(context.Variables.GetValueOrDefault<string>("missing").Length)" />`,
          `<return-response><set-status code="@(context.Response.StatusCode)" /><set-header name="Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header><set-header name="Where" exists-action="override"><value>@(context.LastError.Section + "/" + context.LastError.Scope + "/" + context.LastError.Source)</value></set-header></return-response>`,
        ),
      ]),
      { tls, portMap: new Map([[443, 0]]) },
    );
  });
  after(async () => {
    await apim?.close();
    await backend?.close();
    tls?.cleanup();
    backendTls?.cleanup();
  });
  const get = (path: string) => httpsRequest({ port: apim.localPort, path, host: HOST, ca: tls.cert });

  test('send-request stores an IResponse that expressions read; named values inside an expression; expressions in set-status', async () => {
    const r = await get('/client-cert/send/42');
    assert.equal(r.status, 201, r.body);
    assert.equal(r.statusMessage, 'From send');
    assert.equal(r.headers['x-seen'], '/lookup/42');
  });

  test('an expression that throws sends the request to on-error with ExpressionValueEvaluationFailure and a 500', async () => {
    const r = await get('/client-cert/boom/1');
    assert.equal(r.status, 500);
    assert.equal(r.headers['reason'], 'ExpressionValueEvaluationFailure');
    assert.equal(r.headers['where'], 'inbound/operation/set-variable');
  });
});
