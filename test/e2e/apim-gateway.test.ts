/**
 * API Management end to end over real HTTPS on 127.0.0.1: the status endpoint, API and operation
 * matching with Azure's 404, validate-client-certificate against the seed's certificates with
 * every failure reason of the spec's addendum, on-error, return-response and forward-request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedClock } from '../../src/core/clock.js';
import { memoryLogger } from '../../src/core/logger.js';
import { startApiManagement, type RunningApim } from '../../src/apim/index.js';
import { httpsRequest, curl } from '../helpers/https.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fixture, fixtures, makeServerTls, modelOf, res, seedService, startEchoBackend, type EchoBackend, type ServerTls } from './apim-support.js';

const HOST = 'apim-sample.azure-api.net';

const validatePolicy = `<policies>
    <inbound>
        <base />
        <validate-client-certificate validate-revocation="false" validate-trust="true"
                                     validate-not-before="true" validate-not-after="true"
                                     ignore-error="false">
            <identities>
                <identity subject="CN=Client 01" issuer-subject="CN=APIM Sample DEV Intermediate CA" />
            </identities>
        </validate-client-certificate>
        <return-response>
            <set-status code="200" />
            <set-body>certificate accepted</set-body>
        </return-response>
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error>
        <set-header name="ErrorSource" exists-action="override"><value>on-error ran</value></set-header>
        <base />
    </on-error>
</policies>`;

function seedResources(backendPort: number) {
  return [
    ...seedService(),
    res('apis/operations', 'apim-sample/client-cert-api/validate-using-policy', { displayName: 'Validate', method: 'GET', urlTemplate: '/validate-using-policy' }),
    res('apis/operations/policies', 'apim-sample/client-cert-api/validate-using-policy/policy', { format: 'rawxml', value: validatePolicy }),
    res('apis/operations', 'apim-sample/client-cert-api/choose', { method: 'GET', urlTemplate: '/choose/{kind}' }),
    res('apis/operations/policies', 'apim-sample/client-cert-api/choose/policy', {
      format: 'rawxml',
      value: `<policies><inbound><base/><choose><when condition="false"><return-response><set-status code="500"/></return-response></when><when condition="true"><set-variable name="v" value="x"/><return-response><set-status code="202" reason="Chosen"/><set-header name="X-Branch"><value>second</value><value>two</value></set-header></return-response></when><otherwise><return-response><set-status code="500"/></return-response></otherwise></choose></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`,
    }),
    res('apis', 'apim-sample/echo', { path: 'echo', serviceUrl: `https://127.0.0.1:${backendPort}/backend/v1`, subscriptionRequired: false }),
    res('apis/operations', 'apim-sample/echo/get-item', { method: 'GET', urlTemplate: '/items/{id}?expand={expand}', templateParameters: [{ name: 'id', required: true }, { name: 'expand', required: false }] }),
    res('apis/operations', 'apim-sample/echo/post', { method: 'POST', urlTemplate: '/items' }),
    res('apis/policies', 'apim-sample/echo/policy', {
      format: 'xml',
      value: `<policies><inbound><base/><set-header name="X-Api-Scope" exists-action="override"><value>api</value></set-header></inbound><backend><base/></backend><outbound><base/><set-header name="X-Outbound" exists-action="append"><value>api</value></set-header></outbound><on-error><base/></on-error></policies>`,
    }),
    res('policies', 'apim-sample/policy', {
      format: 'rawxml',
      value: `<policies><inbound><set-header name="X-Global" exists-action="override"><value>global</value></set-header></inbound><backend><forward-request timeout="10"/></backend><outbound><set-header name="X-Outbound" exists-action="append"><value>global</value></set-header></outbound><on-error/></policies>`,
    }),
  ];
}

describe('API Management gateway over HTTPS', () => {
  let tls: ServerTls;
  let backendTls: ServerTls;
  let backend: EchoBackend;
  let apim: RunningApim;
  const logger = memoryLogger();

  before(async () => {
    tls = makeServerTls([HOST]);
    backendTls = makeServerTls(['127.0.0.1']);
    backend = await startEchoBackend(backendTls);
    apim = await startApiManagement(modelOf(seedResources(backend.port)), { tls: { cert: tls.cert, key: tls.key }, portMap: new Map([[443, 0]]), logger });
  });
  after(async () => {
    await apim?.close();
    await backend?.close();
    tls?.cleanup();
    backendTls?.cleanup();
  });

  const get = (path: string, extra: Partial<Parameters<typeof httpsRequest>[0]> = {}) => httpsRequest({ port: apim.localPort, path, host: HOST, ca: tls.cert, ...extra });
  const lastLog = (path: string) => [...logger.records].reverse().find((r) => r.msg === 'request' && r.path === path);

  test('RunningApim names the gateway host and its local socket', () => {
    assert.equal(apim.name, 'apim-sample');
    assert.deepEqual(apim.hostNames, [HOST]);
    assert.equal(apim.localAddress, '127.0.0.1');
    assert.ok(apim.localPort > 0);
    assert.equal(apim.url, `https://${HOST}:${apim.localPort}`);
  });

  test('/status-0123456789abcdef answers 200', async () => {
    const r = await get('/status-0123456789abcdef');
    assert.equal(r.status, 200);
  });

  test('an unknown path gets Azure 404 body', async () => {
    const r = await get('/nothing/here');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), { statusCode: 404, message: 'Resource not found' });
    assert.equal(lastLog('/nothing/here')?.lastError, 'OperationNotFound');
  });

  test('a known API with a wrong method is 404, not 405', async () => {
    const r = await get('/client-cert/validate-using-policy', { method: 'DELETE' });
    assert.equal(r.status, 404);
    assert.deepEqual(JSON.parse(r.body), { statusCode: 404, message: 'Resource not found' });
  });

  describe('validate-client-certificate (negotiateClientCertificate: mTLS straight to the gateway)', () => {
    test('dev-client-01 (trusted, identity matches) passes', async () => {
      const r = await get('/client-cert/validate-using-policy', { pfx: fixture('dev-client-01.pfx') });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'certificate accepted');
    });
    test('no certificate: 401 "Client certificate missing", ClientCertificateNotFound, on-error ran', async () => {
      const r = await get('/client-cert/validate-using-policy');
      assert.equal(r.status, 401);
      assert.match(r.body, /Client certificate missing/);
      assert.deepEqual(JSON.parse(r.body), { statusCode: 401, message: 'Client certificate missing' });
      assert.equal(r.headers['errorsource'], 'on-error ran');
      const log = lastLog('/client-cert/validate-using-policy');
      assert.equal(log?.lastError, 'ClientCertificateNotFound');
      assert.equal(log?.reason, 'no_client_cert');
    });
    test('dev-client-02 (trusted, other subject): 401 ClientCertificateIdentityNotMatched', async () => {
      const r = await get('/client-cert/validate-using-policy', { pfx: fixture('dev-client-02.pfx') });
      assert.equal(r.status, 401);
      assert.match(r.body, /Invalid client certificate/);
      assert.equal(lastLog('/client-cert/validate-using-policy')?.lastError, 'ClientCertificateIdentityNotMatched');
    });
    test('tst-client-01 (TST intermediate not in the service stores): 401 ClientCertificateNotTrusted', async () => {
      const r = await get('/client-cert/validate-using-policy', { pfx: fixture('tst-client-01.pfx') });
      assert.equal(r.status, 401);
      assert.match(r.body, /Invalid client certificate/);
      assert.equal(lastLog('/client-cert/validate-using-policy')?.lastError, 'ClientCertificateNotTrusted');
    });
    test('curl with the PKCS#12 client certificate passes', async () => {
      const r = await curl({ url: `https://${HOST}:${apim.localPort}/client-cert/validate-using-policy`, resolve: `${HOST}:${apim.localPort}:127.0.0.1`, pfx: `${fixtures}/dev-client-01.pfx`, cacert: `${tls.dir}/cert.pem` });
      assert.equal(r.status, 200, r.stderr);
      assert.equal(r.body, 'certificate accepted');
    });
  });

  test('odd requests get answers, not crashes: bad percent-encoding, a bare ? and a path with dots', async () => {
    for (const path of ['/%E0%A4%A', '/client-cert/validate-using-policy/..%2F..%2Fetc', '/?']) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
    }
    // A key that is sent must be valid, even for an API that needs none (api-management-subscriptions.md).
    const key = await get('/client-cert/validate-using-policy?subscription-key=%ZZ');
    assert.equal(key.status, 401);
    assert.match(key.body, /invalid subscription key/);
  });

  test('choose runs the first true when; set-header with several values is one comma-joined line', async () => {
    const r = await get('/client-cert/choose/abc');
    assert.equal(r.status, 202);
    assert.equal(r.statusMessage, 'Chosen');
    assert.equal(r.headers['x-branch'], 'second,two');
  });

  test('forward-request: serviceUrl + operation path + query, scopes composed by <base/>', async () => {
    const r = await get('/echo/items/42?expand=yes&other=1', { headers: { 'X-Client': 'c' } });
    assert.equal(r.status, 200, r.body);
    const seen = JSON.parse(r.body) as { method: string; url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/backend/v1/items/42?expand=yes&other=1');
    assert.equal(seen.headers['x-global'], 'global');
    assert.equal(seen.headers['x-api-scope'], 'api');
    assert.equal(seen.headers['x-client'], 'c');
    assert.equal(seen.headers['host'], `127.0.0.1:${backend.port}`);
    assert.equal(r.headers['x-backend'], 'echo');
    // outbound: API scope runs <base/> (global appends 'global') first, then appends 'api'.
    assert.equal(r.headers['x-outbound'], 'global,api');
  });

  test('forward-request carries the request body', async () => {
    const r = await get('/echo/items', { method: 'POST', body: '{"a":1}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { body: string }).body, '{"a":1}');
  });

  test('an optional query parameter of the template may be absent', async () => {
    const r = await get('/echo/items/42');
    // expand is declared not required: matched with the template's default (none).
    assert.equal(r.status, 200);
  });
});

describe('validate-client-certificate time checks use the gateway clock', () => {
  for (const [name, at, reason] of [
    ['expired', '2080-01-01T00:00:00Z', 'ClientCertificateExpired'],
    ['not yet valid', '2020-01-01T00:00:00Z', 'ClientCertificateNotYetValid'],
  ] as const) {
    test(`${name}: 401 ${reason}`, async () => {
      const tls = makeServerTls([HOST]);
      const logger = memoryLogger();
      const apim = await startApiManagement(
        modelOf([
          ...seedService(),
          res('apis/operations', 'apim-sample/client-cert-api/validate-using-policy', { method: 'GET', urlTemplate: '/validate-using-policy' }),
          res('apis/operations/policies', 'apim-sample/client-cert-api/validate-using-policy/policy', { format: 'rawxml', value: validatePolicy }),
        ]),
        { tls, portMap: new Map([[443, 0]]), logger, clock: fixedClock(at) },
      );
      try {
        const r = await httpsRequest({ port: apim.localPort, path: '/client-cert/validate-using-policy', host: HOST, ca: tls.cert, pfx: fixture('dev-client-01.pfx') });
        assert.equal(r.status, 401);
        assert.match(r.body, /Invalid client certificate/);
        assert.equal(logger.records.find((x) => x.msg === 'request')?.lastError, reason);
      } finally {
        await apim.close();
        tls.cleanup();
      }
    });
  }
});

describe('hostnameConfigurations and backend timeouts', () => {
  test('a custom Proxy host name is served with its own certificate (by SNI), the default host with the gateway certificate', async () => {
    const tls = makeServerTls([HOST]);
    const custom = makeServerTls(['api.contoso.example']);
    execFileSync('openssl', ['pkcs12', '-export', '-in', `${custom.dir}/cert.pem`, '-inkey', `${custom.dir}/key.pem`, '-out', `${custom.dir}/c.pfx`, '-passout', 'pass:pw'], { stdio: 'ignore' });
    const apim = await startApiManagement(
      modelOf(
        seedService('apim-sample', {
          hostnameConfigurations: [
            { type: 'Proxy', hostName: HOST, certificateSource: 'BuiltIn', defaultSslBinding: true },
            { type: 'Proxy', hostName: 'api.contoso.example', encodedCertificate: readFileSync(`${custom.dir}/c.pfx`).toString('base64'), certificatePassword: 'pw' },
          ],
        }),
      ),
      { tls, portMap: new Map([[443, 0]]) },
    );
    try {
      assert.deepEqual(apim.hostNames, [HOST, 'api.contoso.example']);
      const viaCustom = await httpsRequest({ port: apim.localPort, path: '/status-0123456789abcdef', host: 'api.contoso.example', ca: custom.cert });
      assert.equal(viaCustom.status, 200);
      const viaDefault = await httpsRequest({ port: apim.localPort, path: '/status-0123456789abcdef', host: HOST, ca: tls.cert });
      assert.equal(viaDefault.status, 200);
      await assert.rejects(httpsRequest({ port: apim.localPort, path: '/status-0123456789abcdef', host: 'api.contoso.example', ca: tls.cert }));
    } finally {
      await apim.close();
      tls.cleanup();
      custom.cleanup();
    }
  });

  test('negotiateClientCertificate per host name: one port asks for a certificate on one host name and not on the other', async () => {
    const MTLS = 'mtls.contoso.example';
    const tls = makeServerTls([HOST, MTLS]);
    const apim = await startApiManagement(
      modelOf([
        ...seedService('apim-sample', {
          hostnameConfigurations: [
            { type: 'Proxy', hostName: HOST, certificateSource: 'BuiltIn', negotiateClientCertificate: false, defaultSslBinding: true },
            { type: 'Proxy', hostName: MTLS, certificateSource: 'BuiltIn', negotiateClientCertificate: true },
          ],
        }),
        res('apis/operations', 'apim-sample/client-cert-api/validate-using-policy', { method: 'GET', urlTemplate: '/validate-using-policy' }),
        res('apis/operations/policies', 'apim-sample/client-cert-api/validate-using-policy/policy', { format: 'rawxml', value: validatePolicy }),
      ]),
      { tls, portMap: new Map([[443, 0]]) },
    );
    try {
      const viaMtls = await httpsRequest({ port: apim.localPort, path: '/client-cert/validate-using-policy', host: MTLS, ca: tls.cert, pfx: fixture('dev-client-01.pfx') });
      assert.equal(viaMtls.status, 200, viaMtls.body);
      const viaDefault = await httpsRequest({ port: apim.localPort, path: '/client-cert/validate-using-policy', host: HOST, ca: tls.cert, pfx: fixture('dev-client-01.pfx') });
      assert.equal(viaDefault.status, 401);
      assert.match(viaDefault.body, /Client certificate missing/);
      const curlDefault = await curl({ url: `https://${HOST}:${apim.localPort}/status-0123456789abcdef`, resolve: `${HOST}:${apim.localPort}:127.0.0.1`, cacert: `${tls.dir}/cert.pem` });
      assert.equal(curlDefault.status, 200, curlDefault.stderr);
    } finally {
      await apim.close();
      tls.cleanup();
    }
  });

  test('a request body over maxBodyBytes gets 413', async () => {
    const tls = makeServerTls([HOST]);
    const apim = await startApiManagement(modelOf(seedService()), { tls, portMap: new Map([[443, 0]]), maxBodyBytes: 16 });
    try {
      const r = await httpsRequest({ port: apim.localPort, path: '/client-cert/x', host: HOST, ca: tls.cert, method: 'POST', body: 'x'.repeat(100) });
      assert.equal(r.status, 413);
    } finally {
      await apim.close();
      tls.cleanup();
    }
  });

  test('a backend entity with validateCertificateChain: trusted through backendTrustedRootsPem, refused otherwise', async () => {
    const tls = makeServerTls([HOST]);
    const trustedTls = makeServerTls(['127.0.0.1']);
    const otherTls = makeServerTls(['127.0.0.1']);
    const trusted = await startEchoBackend(trustedTls);
    const other = await startEchoBackend(otherTls);
    const logger = memoryLogger();
    const op = (name: string, backendId: string) => [
      res('apis/operations', `apim-sample/client-cert-api/${name}`, { method: 'GET', urlTemplate: `/${name}` }),
      res('apis/operations/policies', `apim-sample/client-cert-api/${name}/policy`, { format: 'rawxml', value: `<policies><inbound><base/><set-backend-service backend-id="${backendId}"/></inbound><backend><forward-request/></backend></policies>` }),
    ];
    const apim = await startApiManagement(
      modelOf([
        ...seedService(),
        res('backends', 'apim-sample/trusted', { url: `https://127.0.0.1:${trusted.port}`, protocol: 'http', tls: { validateCertificateChain: true, validateCertificateName: true } }),
        res('backends', 'apim-sample/other', { url: `https://127.0.0.1:${other.port}`, protocol: 'http', tls: { validateCertificateChain: true, validateCertificateName: true } }),
        ...op('to-trusted', 'trusted'),
        ...op('to-other', 'other'),
      ]),
      { tls, portMap: new Map([[443, 0]]), logger, backendTrustedRootsPem: [trustedTls.cert] },
    );
    try {
      const ok = await httpsRequest({ port: apim.localPort, path: '/client-cert/to-trusted', host: HOST, ca: tls.cert });
      assert.equal(ok.status, 200, ok.body);
      const refused = await httpsRequest({ port: apim.localPort, path: '/client-cert/to-other', host: HOST, ca: tls.cert });
      assert.equal(refused.status, 500);
      assert.equal(logger.records.find((x) => x.msg === 'request' && x.path === '/client-cert/to-other')?.lastError, 'BackendConnectionFailure');
      assert.equal(other.requests.length, 0);
    } finally {
      await apim.close();
      await trusted.close();
      await other.close();
      for (const t of [tls, trustedTls, otherTls]) t.cleanup();
    }
  });

  test('forward-request timeout: 504 with reason Timeout when the backend is slower', async () => {
    const tls = makeServerTls([HOST]);
    const backendTls = makeServerTls(['127.0.0.1']);
    const slow = await startEchoBackend(backendTls, { delayMs: 2500 });
    const logger = memoryLogger();
    const apim = await startApiManagement(
      modelOf([
        ...seedService(),
        res('apis', 'apim-sample/slow', { path: 'slow', serviceUrl: `https://127.0.0.1:${slow.port}`, subscriptionRequired: false }),
        res('apis/operations', 'apim-sample/slow/get', { method: 'GET', urlTemplate: '/' }),
        res('apis/policies', 'apim-sample/slow/policy', { format: 'rawxml', value: '<policies><inbound><base/></inbound><backend><forward-request timeout="1"/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>' }),
      ]),
      { tls, portMap: new Map([[443, 0]]), logger },
    );
    try {
      const started = Date.now();
      const r = await httpsRequest({ port: apim.localPort, path: '/slow/', host: HOST, ca: tls.cert });
      assert.equal(r.status, 504);
      assert.ok(Date.now() - started < 2400, 'answered before the backend');
      assert.equal(logger.records.find((x) => x.msg === 'request')?.lastError, 'Timeout');
    } finally {
      await apim.close();
      await slow.close();
      tls.cleanup();
      backendTls.cleanup();
    }
  });
});
