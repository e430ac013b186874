import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApimOperation } from '../model/apiManagement.js';
import { compileTemplate, matchOperation, sortOperations } from './matcher.js';

const op = (name: string, method: string, urlTemplate: string, required = true): ApimOperation => ({
  name,
  displayName: name,
  method,
  urlTemplate,
  templateParameters: [...urlTemplate.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1]!, required })),
  origin: { path: name },
});

const ops = sortOperations([
  op('byId', 'GET', '/customers/{cid}/orders/{oid}'),
  op('latest', 'GET', '/customers/{cid}/orders/latest'),
  op('all', 'GET', '/*'),
  op('search', 'GET', '/search?q={q}'),
  op('post', 'POST', '/customers'),
].map(compileTemplate));

const match = (method: string, path: string, query: [string, string][] = []) => {
  const m = matchOperation(ops, method, path, query);
  return m ? { name: m.op.operation.name, params: Object.fromEntries(m.params) } : undefined;
};

test('literal segments win over parameters, parameters over wildcards', () => {
  assert.deepEqual(match('GET', '/customers/7/orders/latest'), { name: 'latest', params: { cid: '7' } });
  assert.deepEqual(match('GET', '/customers/7/orders/9'), { name: 'byId', params: { cid: '7', oid: '9' } });
  assert.deepEqual(match('GET', '/anything/else'), { name: 'all', params: { '*': 'anything/else' } });
});

test('method must match (a mismatch is no match: 404 upstream); trailing slash and case are tolerated; params are decoded', () => {
  assert.equal(match('DELETE', '/customers'), undefined);
  assert.deepEqual(match('POST', '/Customers/'), { name: 'post', params: {} });
  // The gateway hands the matcher a path decodeURI has decoded (gateway.ts handle()).
  assert.deepEqual(match('GET', decodeURI('/customers/a%20b/orders/1'))?.params, { cid: 'a b', oid: '1' });
});

test('query parameters named in the template are captured and, when required, needed', () => {
  assert.deepEqual(match('GET', '/search', [['q', 'x'], ['page', '2']]), { name: 'search', params: { q: 'x' } });
  assert.equal(match('GET', '/search')?.name, 'all');
});

test('a path parameter keeps a + as a plus (only query strings use + for a space); escapes decodeURI left are decoded', () => {
  const users = [compileTemplate(op('user', 'GET', '/users/{id}'))];
  assert.equal(matchOperation(users, 'GET', decodeURI('/users/a+b'), [])?.params.get('id'), 'a+b');
  assert.equal(matchOperation(users, 'GET', decodeURI('/users/a%2Bb%20c'), [])?.params.get('id'), 'a+b c');
});

test('a path parameter is decoded once: %25 gives a literal %, never a second round of decoding', () => {
  const users = [compileTemplate(op('user', 'GET', '/users/{id}'))];
  const param = (raw: string) => matchOperation(users, 'GET', decodeURI(raw), [])?.params.get('id');
  assert.equal(param('/users/a%2541'), 'a%41');
  assert.equal(param('/users/100%25'), '100%');
  assert.equal(param('/users/a%2520b'), 'a%20b');
  assert.equal(param('/users/%25E2%2582%25AC'), '%E2%82%AC');
  // Escapes of reserved characters decodeURI leaves are still decoded, once.
  assert.equal(param('/users/a%2Fb%3Fc%23d%40e%3Df%26g%3Bh%3Ai%2Cj%24k'), 'a/b?c#d@e=f&g;h:i,j$k');
  assert.equal(param('/users/%C3%A9t%C3%A9'), 'été');
});
