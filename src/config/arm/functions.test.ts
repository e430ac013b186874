import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armGuid, callBuiltin, uniqueString, type FunctionContext } from './functions.js';
import { LambdaValue, Unknown } from './value.js';
import { rootScope } from './context.js';

const ctx: FunctionContext = { scope: rootScope('resourceGroup', 'S', 'R', 'dep'), now: new Date('2024-05-06T07:08:09Z') };
const call = (name: string, ...args: unknown[]) => callBuiltin(name, args, ctx);
const lam = (f: (...a: any[]) => unknown) => new LambdaValue(f.length, (a) => f(...a));

test('uniqueString matches values produced by the ARM engine and real deployments', () => {
  const vectors: [string[], string][] = [
    [['/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myRg'], 'js26ofeqkqeve'],
    [['asd', 'asdf', 'asdf'], 'iizpqit7ih3cc'],
    [['aaa'], 'zavj67f3en4hc'],
    [['bbb'], 'w5eragfxe33cy'],
    [['zzz'], 'cryksdzzzawae'],
    [['xxx', 'yyy', 'zzz'], 'lghi7k5js7itq'],
    [['test'], 'rbgf3xv4ufgzg'],
    [['hello', 'world'], 'a7wkljktk6wne'],
    [['abc'], 'cgtzqvhu4i23s'],
    [['foo', 'bar', 'baz'], 'xzi4ioaxtmth4'],
  ];
  for (const [args, want] of vectors) assert.equal(uniqueString(...args), want, args.join(','));
});

test('guid is a version 5 UUID in the ARM namespace', () => {
  assert.equal(armGuid('asdf'), '228d27cc-6fdb-5934-b7ac-1efccebade04');
  assert.match(armGuid('a', 'b'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('string functions (values from the bicepparam Expressions baseline)', () => {
  assert.equal(call('format', '->{0}<-', 123), '->123<-');
  assert.equal(call('format', '{0:N0} {1,4}|{{x}}', 1234567, 'ab'), '1,234,567   ab|{x}');
  assert.equal(call('toLower', 'AiKInIniIN'), 'aikininiin');
  assert.equal(call('lastIndexOf', 'abcba', 'b'), 3);
  assert.equal(call('indexOf', 'ABC', 'b'), 1);
  assert.equal(call('padLeft', 13, 5), '   13');
  assert.equal(call('uriComponent', 'UB*8h 0+=_)9h9n'), 'UB%2A8h%200%2B%3D_%299h9n');
  assert.equal(call('uriComponentToString', '%20%25%20'), ' % ');
  assert.equal(call('uri', 'https://github.com', 'Azure/bicep'), 'https://github.com/Azure/bicep');
  assert.equal(call('uri', 'http://contoso.org/firstpath', 'myscript.sh'), 'http://contoso.org/myscript.sh');
  assert.equal(call('substring', 'asdfasf', 3), 'fasf');
  assert.throws(() => call('substring', 'abc', 2, 5), /outside/);
  assert.equal(call('string', true), 'True');
  assert.equal(call('string', { a: [1, 'x'] }), '{"a":[1,"x"]}');
  assert.equal(call('base64ToString', call('base64', 'abc')), 'abc');
  assert.equal(call('dataUriToString', call('dataUri', 'abc')), 'abc');
  assert.equal(call('dateTimeAdd', call('dateTimeFromEpoch', 1680224438), 'P1D'), '2023-04-01T01:00:38Z');
  assert.equal(call('dateTimeToEpoch', '2023-03-31T01:00:38Z'), 1680224438);
  assert.equal(call('utcNow', 'yyyy-MM-dd'), '2024-05-06');
  assert.equal(call('startsWith', 'Abc', 'a'), true);
  assert.deepEqual(call('split', 'a/b,c', ['/', ',']), ['a', 'b', 'c']);
  assert.equal(call('concat', 'a', 1, true), 'a1True');
  assert.deepEqual(call('concat', ['a'], ['b']), ['a', 'b']);
});

test('array and object functions', () => {
  assert.deepEqual(call('range', 5, 3), [5, 6, 7]);
  assert.deepEqual(call('union', { a: { x: 1, y: [1] } }, { a: { y: [2], z: 3 } }), { a: { x: 1, y: [2], z: 3 } });
  assert.deepEqual(call('union', [1, 2], [2, 3]), [1, 2, 3]);
  assert.deepEqual(call('intersection', [1, 2, 3], [2, 3, 4]), [2, 3]);
  assert.deepEqual(call('items', { foo: 'abc', bar: 123 }), [{ key: 'bar', value: 123 }, { key: 'foo', value: 'abc' }]);
  assert.deepEqual(call('map', [1, 2], lam((x: number, i: number) => x * 10 + i)), [10, 21]);
  assert.equal(call('reduce', ['a', 'b', 'c'], '', lam((a: string, b: string) => `${a}-${b}`)), '-a-b-c');
  assert.deepEqual(call('sort', ['c', 'd', 'a'], lam((a: string, b: string) => a < b)), ['a', 'c', 'd']);
  assert.deepEqual(call('toObject', ['a', 'b'], lam((x: string) => x), lam((x: string) => `Hi ${x}!`)), { a: 'Hi a!', b: 'Hi b!' });
  assert.deepEqual(call('groupBy', ['ab', 'ac', 'b'], lam((x: string) => x[0])), { a: ['ab', 'ac'], b: ['b'] });
  assert.equal(call('contains', { Key: 1 }, 'key'), true);
  assert.equal(call('equals', { a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }), true);
  assert.equal(call('equals', 1, '1'), false);
  assert.equal(call('tryGet', { a: { b: 1 } }, 'a', 'c'), null);
  assert.equal(call('coalesce', null, null, 3), 3);
  assert.equal(call('max', [1, 5, 3]), 5);
  assert.equal(call('div', -7, 2), -3);
  assert.equal(call('mod', -7, 3), -1);
  assert.throws(() => call('add', 1, 'x'), { code: 'GH_BICEP_TYPE' });
  assert.throws(() => call('div', 1, 0), /division by zero/);
});

test('CIDR functions', () => {
  assert.deepEqual(call('parseCidr', '10.144.0.0/20'), { network: '10.144.0.0', netmask: '255.255.240.0', broadcast: '10.144.15.255', firstUsable: '10.144.0.1', lastUsable: '10.144.15.254', cidr: 20 });
  assert.equal(call('cidrSubnet', '10.144.0.0/20', 24, 3), '10.144.3.0/24');
  assert.equal(call('cidrHost', '10.144.3.0/24', 0), '10.144.3.1');
});

test('scope functions and resource ids', () => {
  assert.deepEqual(call('resourceGroup'), { id: '/subscriptions/S/resourceGroups/R', name: 'R', type: 'Microsoft.Resources/resourceGroups', location: 'westeurope', tags: {}, properties: { provisioningState: 'Succeeded' } });
  assert.equal((call('subscription') as any).id, '/subscriptions/S');
  assert.equal((call('deployment') as any).name, 'dep');
  assert.equal(call('resourceId', 'Microsoft.ApiManagement/service/apis/operations', 'apim1', 'api1', 'op1'), '/subscriptions/S/resourceGroups/R/providers/Microsoft.ApiManagement/service/apim1/apis/api1/operations/op1');
  assert.throws(() => call('resourceId', 'Microsoft.Network/applicationGateways/sslProfiles', 'agw'), /requires '2' resource name/);
  assert.throws(() => call('resourceId', 'a', 'b'), /multi-segmented/);
  const sub: FunctionContext = { scope: rootScope('subscription', 'S', 'R', 'd') };
  assert.equal(callBuiltin('resourceId', ['Microsoft.Resources/resourceGroups', 'rg'], sub), '/subscriptions/S/providers/Microsoft.Resources/resourceGroups/rg');
});

test('Unknown arguments give Unknown results; unknown functions throw', () => {
  assert.ok(call('toUpper', new Unknown('x')) instanceof Unknown);
  assert.ok(call('format', '{0}', new Unknown('x')) instanceof Unknown);
  assert.equal(call('coalesce', null, 'a', new Unknown('x')), 'a');
  assert.throws(() => call('nope'), { code: 'GH_BICEP_UNKNOWN_FUNCTION' });
});

test('resourceId at subscription scope takes at most a subscription before the type', () => {
  const sub: FunctionContext = { scope: rootScope('subscription', 'S', 'R', 'd') };
  assert.equal(callBuiltin('resourceId', ['S2', 'Microsoft.Resources/resourceGroups', 'rg'], sub), '/subscriptions/S2/providers/Microsoft.Resources/resourceGroups/rg');
  assert.throws(() => callBuiltin('resourceId', ['S2', 'rg', 'Microsoft.Network/virtualNetworks', 'v'], sub), /first two arguments/);
  const mg: FunctionContext = { scope: rootScope('managementGroup', 'S', 'R', 'd') };
  assert.equal(callBuiltin('resourceId', ['Microsoft.Authorization/policyDefinitions', 'p'], mg), '/providers/Microsoft.Authorization/policyDefinitions/p');
});
