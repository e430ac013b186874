/**
 * Path parameters over real HTTPS: a running API Management service hands a policy the template
 * parameter decoded once (context.Request.MatchedParameters), as Azure does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApiManagement, type RunningApim } from '../../src/apim/index.js';
import { httpsRequest } from '../helpers/https.js';
import { makeServerTls, modelOf, res, seedService, type ServerTls } from './apim-support.js';

const HOST = 'apim-sample.azure-api.net';

describe('API Management path parameters', () => {
  let tls: ServerTls;
  let apim: RunningApim;

  before(async () => {
    tls = makeServerTls([HOST]);
    const resources = [
      ...seedService(),
      res('apis', 'apim-sample/users', { path: 'api', serviceUrl: 'https://127.0.0.1:1', subscriptionRequired: false }),
      res('apis/operations', 'apim-sample/users/get-user', { method: 'GET', urlTemplate: '/users/{id}' }),
      res('apis/operations/policies', 'apim-sample/users/get-user/policy', {
        format: 'rawxml',
        value: '<policies><inbound><base/><return-response><set-status code="200"/><set-body>@("[" + context.Request.MatchedParameters["id"] + "]")</set-body></return-response></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>',
      }),
    ];
    apim = await startApiManagement(modelOf(resources), { tls: { cert: tls.cert, key: tls.key }, portMap: new Map([[443, 0]]) });
  });
  after(async () => {
    await apim?.close();
    tls?.cleanup();
  });

  const param = async (path: string) => {
    const r = await httpsRequest({ port: apim.localPort, path, host: HOST, ca: tls.cert });
    assert.equal(r.status, 200, r.body);
    return r.body;
  };

  test('an escaped percent sign stays a percent sign: /users/a%2541 gives a%41', async () => {
    assert.equal(await param('/api/users/a%2541'), '[a%41]');
    assert.equal(await param('/api/users/100%25'), '[100%]');
  });

  test('an escaped escape of a reserved character is decoded once: /users/a%252Fb gives a%2Fb, as on Azure', async () => {
    assert.equal(await param('/api/users/a%252Fb'), '[a%2Fb]');
    assert.equal(await param('/api/users/%2525'), '[%25]');
  });

  test('escapes of other characters, reserved ones included, are decoded once', async () => {
    assert.equal(await param('/api/users/a%20b'), '[a b]');
    assert.equal(await param('/api/users/a%2Fb'), '[a/b]');
    assert.equal(await param('/api/users/a+b%2Bc'), '[a+b+c]');
  });
});
