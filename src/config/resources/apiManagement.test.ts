import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticBag } from '../../core/diagnostics.js';
import { resourceIdOf, type ArmResource } from '../../model/resources.js';
import { adaptApiManagement } from './apiManagement.js';

const r = (type: string, name: string, properties: Record<string, unknown>): ArmResource => {
  const t = `Microsoft.ApiManagement/service${type ? '/' + type : ''}`;
  return { type: t, name, id: resourceIdOf(t, name), properties };
};

test('child resources attach to their parents whatever the order', () => {
  const bag = new DiagnosticBag();
  const [m] = adaptApiManagement(
    [
      r('apis/operations/policies', 'apim/api/op/policy', { format: 'rawxml', value: '<policies/>' }),
      r('apis/operations', 'apim/api/op', { method: 'get', urlTemplate: 'items/{id}' }),
      r('subscriptions', 'apim/s', { scope: '/products/starter', primaryKey: 'k1' }),
      r('products/apis', 'apim/starter/api', {}),
      r('products', 'apim/starter', { subscriptionRequired: false }),
      r('apis', 'apim/api', { path: '/api/', serviceUrl: 'https://backend.example/v1' }),
      r('', 'apim', { virtualNetworkType: 'Internal', certificates: [{ encodedCertificate: 'AAAA', storeName: 'Root' }] }),
      r('namedValues', 'apim/nv', { displayName: 'Tenant', value: 'contoso' }),
      r('backends', 'apim/be', { url: 'https://be.example', credentials: { certificateIds: ['/subscriptions/x/resourceGroups/y/providers/Microsoft.ApiManagement/service/apim/certificates/c1'] } }),
      r('certificates', 'apim/c1', { data: 'AAAA' }),
    ],
    { diagnostics: bag, baseDir: '.' },
  );
  assert.deepEqual(bag.items, []);
  assert.ok(m);
  assert.equal(m.virtualNetworkType, 'Internal');
  assert.equal(m.apis[0]!.path, 'api');
  assert.equal(m.apis[0]!.subscriptionRequired, true);
  assert.equal(m.apis[0]!.operations[0]!.method, 'GET');
  assert.equal(m.apis[0]!.operations[0]!.urlTemplate, '/items/{id}');
  assert.equal(m.apis[0]!.operations[0]!.policy?.value, '<policies/>');
  assert.deepEqual(m.products[0]!.apis, ['api']);
  assert.deepEqual(m.subscriptions[0]!.scope, { kind: 'product', product: 'starter' });
  assert.equal(m.namedValues[0]!.displayName, 'Tenant');
  assert.deepEqual(m.backends[0]!.certificateIds, ['c1']);
  assert.equal(m.caCertificates[0]!.storeName, 'Root');
});

test('every problem is reported at once with the resource and JSON path', () => {
  const bag = new DiagnosticBag();
  adaptApiManagement(
    [
      r('', 'apim', { virtualNetworkType: 'Sideways', certificates: [{ encodedCertificate: 'AAAA', storeName: 'My' }], hostnameConfigurations: [{ type: 'Proxy' }] }),
      r('apis', 'apim/a', { path: 'a', subscriptionRequired: 'maybe' }),
      r('apis/operations', 'apim/a/op', { urlTemplate: '/x/{id}/{id}' }),
      r('apis/operations', 'apim/missing/op', { method: 'GET', urlTemplate: '/' }),
      r('policies', 'apim/policy', { format: 'json', value: '{}' }),
      r('subscriptions', 'apim/s', { scope: '/products/nope' }),
    ],
    { diagnostics: bag, baseDir: '.' },
  );
  const got = bag.items.map((d) => `${d.code} ${d.path}`);
  assert.deepEqual(got.sort(), [
    'GH_APIM_CONFIG_INVALID properties.certificates[0].storeName',
    'GH_APIM_CONFIG_INVALID properties.format',
    'GH_APIM_CONFIG_INVALID properties.subscriptionRequired',
    'GH_APIM_CONFIG_INVALID properties.urlTemplate',
    'GH_APIM_CONFIG_INVALID properties.virtualNetworkType',
    'GH_APIM_CONFIG_MISSING properties.hostnameConfigurations[0].hostName',
    'GH_APIM_CONFIG_MISSING properties.method',
    'GH_APIM_CONFIG_ORPHAN name',
    'GH_APIM_CONFIG_ORPHAN properties.scope',
  ]);
});
