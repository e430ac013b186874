/**
 * Reloading a running API Management service on the same socket, and checking a configuration
 * before it replaces the running one: a configuration with errors never replaces a good one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticsError } from '../../src/core/diagnostics.js';
import { checkApiManagement, startApiManagement } from '../../src/apim/index.js';
import { httpsRequest } from '../helpers/https.js';
import { fixture, makeServerTls, modelOf, res, seedService } from './apim-support.js';

const HOST = 'apim-sample.azure-api.net';
const version = (body: string, extra = '') =>
  modelOf([
    ...seedService(),
    res('apis/operations', 'apim-sample/client-cert-api/v', { method: 'GET', urlTemplate: '/v' }),
    res('apis/operations/policies', 'apim-sample/client-cert-api/v/policy', { format: 'rawxml', value: `<policies><inbound><base/>${extra}<validate-client-certificate validate-revocation="false"/><return-response><set-body>${body}</set-body></return-response></inbound></policies>` }),
  ]);

test('reload swaps the configuration on the same port; a broken one is refused and the previous keeps serving', async () => {
  const tls = makeServerTls([HOST]);
  const apim = await startApiManagement(version('v1'), { tls, portMap: new Map([[443, 0]]) });
  const get = () => httpsRequest({ port: apim.localPort, path: '/client-cert/v', host: HOST, ca: tls.cert, pfx: fixture('dev-client-01.pfx') });
  try {
    assert.equal((await get()).body, 'v1');
    await apim.reload(version('v2'));
    const r = await get();
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'v2', 'still asks for the client certificate after reload');
    const broken = version('v3', '<set-hedaer name="x"/>');
    const diagnostics = await checkApiManagement(broken);
    assert.deepEqual(diagnostics.map((d) => d.code), ['GH_POLICY_UNKNOWN_ELEMENT']);
    await assert.rejects(apim.reload(broken), (e: unknown) => e instanceof DiagnosticsError && /set-hedaer/.test(e.message));
    assert.equal((await get()).body, 'v2');
  } finally {
    await apim.close();
    tls.cleanup();
  }
});
