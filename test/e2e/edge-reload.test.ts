/**
 * reload(model): a good configuration takes over for new connections; a bad one is refused and
 * the running configuration keeps serving (design.md: never lose the last good configuration);
 * frontend ports come and go with the configuration.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { DiagnosticBag, DiagnosticsError } from '../../src/core/diagnostics.js';
import { adaptApplicationGateway } from '../../src/config/resources/applicationGateway.js';
import type { RunningEdge } from '../../src/edge/index.js';
import type { ArmResource } from '../../src/model/resources.js';
import { gatewayChildId as id, makeTestPki, request, seedGateway, startBackend, startSeed, type Backend, type TestPki } from './edge-support.js';

const adapt = (r: ArmResource) => adaptApplicationGateway(r, { resources: [r], diagnostics: new DiagnosticBag() })!;

function withExtraHeader(resource: ArmResource, value: string): ArmResource {
  const copy = structuredClone(resource) as ArmResource;
  const sets = (copy.properties as Record<string, { name: string; properties: { rewriteRules: { actionSet: { requestHeaderConfigurations: unknown[] } }[] } }[]>).rewriteRuleSets!;
  sets.find((s) => s.name === 'default-rewrite-rules')!.properties.rewriteRules[0]!.actionSet.requestHeaderConfigurations.push({ headerName: 'X-Config', headerValue: value });
  return copy;
}

describe('reload', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;
  let base: ArmResource;
  const httpsPort = () => edge.listeners.find((l) => l.name === 'https-listener')!.localPort;
  const get = async () => {
    const r = await request({ port: httpsPort(), ca: pki.frontendCa.certPem });
    assert.equal(r.status, 200);
    return backend.header('X-Config');
  };

  before(async () => {
    pki = await makeTestPki();
    backend = await startBackend(pki);
    base = withExtraHeader(seedGateway(pki), 'one');
    edge = await startSeed(pki, backend, base, undefined, { portMap: new Map([[443, 0], [53029, 0], [8080, 0]]) });
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  test('a good configuration takes over; ports stay the same', async () => {
    assert.deepEqual(await get(), ['one']);
    const before = httpsPort();
    await edge.reload(adapt(withExtraHeader(seedGateway(pki), 'two')));
    assert.equal(httpsPort(), before);
    assert.deepEqual(await get(), ['two']);
  });

  test('a bad configuration is refused with its diagnostics, and the running one keeps serving', async () => {
    const bad = withExtraHeader(seedGateway(pki), 'three');
    ((bad.properties as Record<string, { properties: Record<string, unknown> }[]>).sslCertificates![0]!.properties).password = 'wrong';
    await assert.rejects(edge.reload(adapt(bad)), (e: unknown) => e instanceof DiagnosticsError && /PFX password is wrong/.test(e.message));
    assert.deepEqual(await get(), ['two']);
  });

  test('a new frontend port is bound on reload and released when it goes away again', async () => {
    const more = withExtraHeader(seedGateway(pki), 'four');
    const p = more.properties as Record<string, Record<string, unknown>[]>;
    p.frontendPorts!.push({ name: 'port-http', properties: { port: 8080 } });
    p.httpListeners!.push({ name: 'http-listener', properties: { protocol: 'Http', frontendIPConfiguration: { id: id('frontendIPConfigurations', 'agw-public-frontend-ip') }, frontendPort: { id: id('frontendPorts', 'port-http') } } });
    p.requestRoutingRules!.push({
      name: 'http-rule',
      properties: { priority: 50, ruleType: 'Basic', httpListener: { id: id('httpListeners', 'http-listener') }, backendAddressPool: { id: id('backendAddressPools', 'apim-gateway-backend-pool') }, backendHttpSettings: { id: id('backendHttpSettingsCollection', 'apim-gateway-backend-settings') } },
    });
    await edge.reload(adapt(more));
    const l = edge.listeners.find((x) => x.name === 'http-listener')!;
    assert.equal(l.declaredPort, 8080);
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: l.localPort, path: '/', headers: { Host: 'x' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      }).on('error', reject);
    });
    assert.equal(status, 200);
    await edge.reload(adapt(withExtraHeader(seedGateway(pki), 'five')));
    assert.equal(edge.listeners.some((x) => x.name === 'http-listener'), false);
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(
      new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: l.localPort, path: '/', agent: false }, resolve).on('error', reject);
      }),
    );
    assert.deepEqual(await get(), ['five']);
  });
});
