import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inbound, runPolicy } from '../testing.js';

test('rewrite-uri replaces the backend path, fills {params}, keeps unmatched query parameters (the docs example)', async () => {
  const r = await runPolicy(inbound('<rewrite-uri template="/put" />'), { target: '/api/get?a=b&c=d', templateQueryNames: ['a'] });
  assert.equal(r.backendRequests[0]!.url.path, '/base/put');
  assert.deepEqual(r.backendRequests[0]!.url.query, [['c', 'd']]);
  const off = await runPolicy(inbound('<rewrite-uri template="/put" copy-unmatched-params="false" />'), { target: '/api/get?a=b&c=d', templateQueryNames: ['a'] });
  assert.deepEqual(off.backendRequests[0]!.url.query, []);
  const p = await runPolicy(inbound('<rewrite-uri template="/v2/{store}/x?n={n}" />'), { target: '/api/s/1?n=5', matchedParameters: { store: 'a b', n: '5' }, templateQueryNames: ['n'] });
  assert.equal(p.backendRequests[0]!.url.path, '/base/v2/a%20b/x');
  assert.deepEqual(p.backendRequests[0]!.url.query, [['n', '5']]);
});
