import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateDeploymentSync } from '../deployment.js';

function withFiles(files: Record<string, string>, f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bicep-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function evalText(text: string, params?: Record<string, unknown>, extra: Record<string, string> = {}) {
  let result: ReturnType<typeof evaluateDeploymentSync> | undefined;
  withFiles({ 'main.bicep': text, ...extra }, (dir) => {
    result = evaluateDeploymentSync(join(dir, 'main.bicep'), params ? { params } : {});
  });
  return result!;
}

test('unknown function, type error, undefined symbol and cycle are all reported with file:line:column and the source line', () => {
  const r = evalText(["var a = foo(1)", "var b = 1 + 'x'", 'var c = missing', 'var d = e', 'var e = d', "output o string = 'ok'"].join('\n'));
  const by = (code: string) => r.diagnostics.filter((d) => d.code === code);
  const unknown = by('GH_BICEP_UNKNOWN_FUNCTION');
  assert.equal(unknown.length, 1);
  assert.equal(unknown[0]!.line, 1);
  assert.equal(unknown[0]!.column, 9);
  assert.equal(unknown[0]!.sourceLine, 'var a = foo(1)');
  assert.match(unknown[0]!.message, /the function 'foo' does not exist/);
  assert.match(unknown[0]!.file!, /main\.bicep$/);
  const type = by('GH_BICEP_TYPE');
  assert.equal(type.length, 1);
  assert.equal(type[0]!.line, 2);
  assert.equal(type[0]!.sourceLine, "var b = 1 + 'x'");
  const undef = by('GH_BICEP_UNDEFINED_SYMBOL');
  assert.equal(undef.length, 1);
  assert.deepEqual([undef[0]!.line, undef[0]!.column], [3, 9]);
  const cycle = by('GH_BICEP_CYCLE');
  assert.ok(cycle.length >= 1);
  assert.ok(cycle.every((d) => d.line === 4 || d.line === 5));
  assert.ok(cycle.every((d) => /a cycle: var '(d|e)' → var '(d|e)' → var '(d|e)'/.test(d.message)), cycle.map((d) => d.message).join('; '));
  assert.equal(r.outputs.o, 'ok');
});

test('the parser reports every syntax error, not just the first', () => {
  const r = evalText(['var a = 1 + * 2', 'var ok = 1', "var b = 'unterminated", 'param p string = ]', 'var c = "double"'].join('\n'));
  const syntax = r.diagnostics.filter((d) => d.code === 'GH_BICEP_SYNTAX');
  assert.ok(syntax.length >= 4, JSON.stringify(syntax));
  assert.deepEqual([...new Set(syntax.map((d) => d.line))].sort(), [1, 3, 4, 5]);
});

test('errors in a module are reported against the module file', () => {
  withFiles(
    {
      'main.bicep': "module m 'mod/m.bicep' = {\n  name: 'm'\n  params: { x: 1 }\n}\noutput y int = m.outputs.y\n",
      'mod/m.bicep': 'param x int\noutput y int = x + nope(2)\n',
    },
    (dir) => {
      const r = evaluateDeploymentSync(dir);
      const d = r.diagnostics.find((x) => x.code === 'GH_BICEP_UNKNOWN_FUNCTION');
      assert.ok(d);
      assert.equal(d.file, join(dir, 'mod/m.bicep'));
      assert.deepEqual([d.line, d.column], [2, 20]);
    },
  );
});

test('a missing parameter is an error, or Unknown with unknownParamsAllowed', () => {
  withFiles({ 'main.bicep': "param secret string\nparam name string = 'n'\nvar s = '${name}-${secret}'\noutput name string = name\noutput s string = s\n" }, (dir) => {
    const strict = evaluateDeploymentSync(dir);
    assert.ok(strict.diagnostics.some((d) => d.code === 'GH_BICEP_PARAM_MISSING' && d.line === 1));
    const lax = evaluateDeploymentSync(dir, { unknownParamsAllowed: true });
    assert.deepEqual(lax.diagnostics, []);
    assert.equal(lax.outputs.name, 'n');
    assert.match(String(lax.outputs.s), /unknown/);
  });
});

test('decorators validate parameters', () => {
  const r = evalText("@allowed(['a', 'b'])\nparam p string\n@minValue(2)\nparam n int = 1\n", { p: 'c' });
  assert.equal(r.diagnostics.filter((d) => d.code === 'GH_BICEP_PARAM_INVALID').length, 2);
});

test('language: loops with index, conditions, lambdas, user functions, types, multi-line strings, spread, operators', () => {
  const r = evalText(
    [
      "type sku = 'Basic' | 'Standard'",
      '@export()',
      'func greet(n string) string => \'Hello ${n}!\'',
      "param s sku = 'Basic'",
      "var names = ['a', 'b', 'c']",
      'var idx = [for (n, i) in names: \'${i}:${n}\']',
      'var filtered = [for n in names: if (n != \'b\') n]',
      'var m = map(range(0, 3), i => i * 2)',
      'var f = filter(m, x => x > 0)',
      "var red = reduce(names, '', (acc, x) => '${acc}${x}')",
      'var srt = sort([3, 1, 2], (a, b) => a < b)',
      "var obj = { a: 1, 'b-c': 2, ...{ d: 3 } }",
      'var arr = [1, ...[2, 3]]',
      "var ml = '''\nline1\n  line2'''",
      'var ops = [7 / 2, -7 / 2, 7 % 3, -7 % 3, 1 < 2, \'a\' =~ \'A\', \'a\' !~ \'A\', null ?? 5, true ? 1 : 2, !false, 2 + 3 * 4]',
      'var sa = obj.?missing',
      'var last = names[^1]',
      "var g = greet('x')",
      "var esc = 'a\\'b\\${c}${1 + 1}\\u{1F600}'",
      "resource pips 'Microsoft.Network/publicIPAddresses@2023-05-01' = [for (n, i) in names: if (i != 1) {",
      "  name: 'pip-${n}'",
      "  location: 'westeurope'",
      '}]',
      'output idx array = idx',
      'output filtered array = filtered',
      'output m array = m',
      'output f array = f',
      'output red string = red',
      'output srt array = srt',
      'output obj object = obj',
      'output arr array = arr',
      'output ml string = ml',
      'output ops array = ops',
      'output sa object? = sa',
      'output last string = last',
      'output g string = g',
      'output esc string = esc',
      'output s string = s',
      'output pipIds array = [for i in range(0, 3): pips[i].name]',
    ].join('\n'),
  );
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.outputs.idx, ['0:a', '1:b', '2:c']);
  assert.deepEqual(r.outputs.filtered, ['a', 'c']);
  assert.deepEqual(r.outputs.m, [0, 2, 4]);
  assert.deepEqual(r.outputs.f, [2, 4]);
  assert.equal(r.outputs.red, 'abc');
  assert.deepEqual(r.outputs.srt, [1, 2, 3]);
  assert.deepEqual(r.outputs.obj, { a: 1, 'b-c': 2, d: 3 });
  assert.deepEqual(r.outputs.arr, [1, 2, 3]);
  assert.equal(r.outputs.ml, 'line1\n  line2');
  assert.deepEqual(r.outputs.ops, [3, -3, 1, -1, true, true, false, 5, 1, true, 14]);
  assert.equal(r.outputs.sa, null);
  assert.equal(r.outputs.last, 'c');
  assert.equal(r.outputs.g, 'Hello x!');
  assert.equal(r.outputs.esc, "a'b${c}2😀");
  assert.equal(r.outputs.s, 'Basic');
  assert.deepEqual(r.outputs.pipIds, ['pip-a', 'pip-b', 'pip-c']);
  assert.deepEqual(r.resources.map((x) => x.name), ['pip-a', 'pip-c']);
  assert.deepEqual(r.resources.map((x) => x.symbolicName), ['pips[0]', 'pips[2]']);
});

test('imports, .bicepparam files and user types from another file', () => {
  withFiles(
    {
      'shared.bicep': "@export()\nvar prefix = 'gh'\n@export()\nfunc name(s string) string => '${prefix2()}-${s}'\nfunc prefix2() string => 'x'\n@export()\ntype t = { a: string }\n",
      'main.bicep': "import { prefix, name } from 'shared.bicep'\nimport * as sh from 'shared.bicep'\nparam p string\nparam q int = 1\noutput a string = '${prefix}-${p}-${q}'\noutput b string = name('y')\noutput c string = sh.prefix\noutput d string = sh.name('z')\n",
      'main.bicepparam': "using 'main.bicep'\nparam p = toUpper('v')\nparam q = 2 + 3\n",
    },
    (dir) => {
      const r = evaluateDeploymentSync(join(dir, 'main.bicepparam'));
      assert.deepEqual(r.diagnostics, []);
      assert.deepEqual(r.outputs, { a: 'gh-V-5', b: 'x-y', c: 'gh', d: 'x-z' });
      const r2 = evaluateDeploymentSync(join(dir, 'main.bicep'), { parametersFile: join(dir, 'main.bicepparam'), params: { q: '9' } });
      assert.deepEqual(r2.diagnostics, []);
      assert.equal(r2.outputs.a, 'gh-V-9');
      assert.ok(r2.files.includes(join(dir, 'shared.bicep')));
    },
  );
});

test('resource ids: parent, slash names, nested, scope, extension resources, resourceId() forms', () => {
  const r = evalText(
    [
      "resource vnet 'Microsoft.Network/virtualNetworks@2023-05-01' = {",
      "  name: 'vnet1'",
      "  resource s3 'subnets' = { name: 'c' }",
      '}',
      "resource s1 'Microsoft.Network/virtualNetworks/subnets@2023-05-01' = { parent: vnet, name: 'a' }",
      "resource s2 'Microsoft.Network/virtualNetworks/subnets@2023-05-01' = { name: '${vnet.name}/b' }",
      "resource other 'Microsoft.Network/virtualNetworks@2023-05-01' existing = { name: 'v2', scope: resourceGroup('sub2', 'rg2') }",
      "resource lock 'Microsoft.Authorization/locks@2020-05-01' = { name: 'lk', scope: vnet, properties: { level: 'CanNotDelete' } }",
      'output ids array = [vnet::s3.id, s1.id, s2.id, other.id, lock.id, s1.name, s2.name, vnet::s3.name]',
      "output r array = [resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's'), resourceId('rgX', 'Microsoft.Network/virtualNetworks', 'v'), resourceId('subY', 'rgX', 'Microsoft.Network/virtualNetworks', 'v'), subscriptionResourceId('Microsoft.Resources/resourceGroups', 'rg'), tenantResourceId('Microsoft.Management/managementGroups', 'mg'), extensionResourceId('/x/y', 'Microsoft.Authorization/locks', 'l')]",
      "output u array = [uniqueString('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myRg'), uniqueString('asd', 'asdf', 'asdf'), guid('asdf'), uniqueString(resourceGroup().id)]",
    ].join('\n'),
  );
  assert.deepEqual(r.diagnostics, []);
  const P = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/gatehouse-local/providers';
  assert.deepEqual(r.outputs.ids, [
    `${P}/Microsoft.Network/virtualNetworks/vnet1/subnets/c`,
    `${P}/Microsoft.Network/virtualNetworks/vnet1/subnets/a`,
    `${P}/Microsoft.Network/virtualNetworks/vnet1/subnets/b`,
    '/subscriptions/sub2/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/v2',
    `${P}/Microsoft.Network/virtualNetworks/vnet1/providers/Microsoft.Authorization/locks/lk`,
    'a',
    'vnet1/b',
    'c',
  ]);
  assert.deepEqual(r.outputs.r, [
    `${P}/Microsoft.Network/virtualNetworks/v/subnets/s`,
    '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rgX/providers/Microsoft.Network/virtualNetworks/v',
    '/subscriptions/subY/resourceGroups/rgX/providers/Microsoft.Network/virtualNetworks/v',
    '/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Resources/resourceGroups/rg',
    '/providers/Microsoft.Management/managementGroups/mg',
    '/x/y/providers/Microsoft.Authorization/locks/l',
  ]);
  const u = r.outputs.u as string[];
  assert.deepEqual(u.slice(0, 3), ['js26ofeqkqeve', 'iizpqit7ih3cc', '228d27cc-6fdb-5934-b7ac-1efccebade04']);
  assert.match(u[3]!, /^[a-z2-7]{13}$/);
  assert.deepEqual(r.resources.map((x) => x.name), ['vnet1', 'vnet1/c', 'vnet1/a', 'vnet1/b', 'v2', 'lk']);
});

test('values known only after deployment are Unknown markers, not exceptions', () => {
  const r = evalText(
    [
      "resource kv 'Microsoft.KeyVault/vaults@2023-02-01' existing = { name: 'kv' }",
      "resource st 'Microsoft.Storage/storageAccounts@2023-01-01' = { name: 'st', location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' } }",
      "var secret = kv.getSecret('s')",
      'var kvUri = kv.properties.vaultUri',
      'var ep = st.properties.primaryEndpoints.web',
      'output blob string = st.properties.primaryEndpoints.blob',
      "var combined = '${ep}/container'",
      'output kvUri string = kvUri',
      'output combined string = combined',
      'output kind string = st.kind',
    ].join('\n'),
  );
  assert.deepEqual(r.diagnostics, []);
  assert.match(String(r.outputs.kvUri), /^\[unknown: /);
  assert.match(String(r.outputs.combined), /^\[unknown: /);
  assert.equal(r.outputs.kind, 'StorageV2');
  assert.equal(r.outputs.blob, 'https://st.blob.core.windows.net/');
});

test('gatehouse check mode: unknown parameters in conditions, loops and names are warnings', () => {
  withFiles(
    {
      'main.bicep': [
        'param deploy bool',
        'param names array',
        'param prefix string',
        "resource a 'Microsoft.Network/publicIPAddresses@2023-05-01' = if (deploy) { name: 'pip-a', location: 'westeurope' }",
        "resource b 'Microsoft.Network/publicIPAddresses@2023-05-01' = [for n in names: { name: n, location: 'westeurope' }]",
        "resource c 'Microsoft.Network/publicIPAddresses@2023-05-01' = { name: '${prefix}-c', location: 'westeurope' }",
      ].join('\n'),
    },
    (dir) => {
      const strict = evaluateDeploymentSync(dir, { params: { deploy: true, names: ['x'], prefix: 'p' } });
      assert.deepEqual(strict.diagnostics, []);
      assert.deepEqual(strict.resources.map((r) => r.name), ['pip-a', 'x', 'p-c']);
      const lax = evaluateDeploymentSync(dir, { unknownParamsAllowed: true });
      assert.deepEqual(lax.diagnostics.filter((d) => d.severity === 'error'), []);
      assert.equal(lax.diagnostics.filter((d) => d.code === 'GH_BICEP_UNKNOWN_CONDITION').length, 3);
      assert.deepEqual(lax.resources.map((r) => r.name), ['pip-a', '{c}']);
    },
  );
});

test('a module that does not exist is a diagnostic at the module path', () => {
  const r = evalText("module m './nope.bicep' = {\n  name: 'm'\n}\n");
  const d = r.diagnostics.find((x) => x.code === 'GH_BICEP_FILE');
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.deepEqual([d.line, d.column], [1, 10]);
  assert.match(d.message, /nope\.bicep/);
});

test('language: interpolated multi-line strings, logical operators, nullable params, safe access, object keys', () => {
  const r = evalText(
    [
      "param maybe string?",
      "param obj object = { 'a-b': { c: [1, 2, 3] } }",
      "var name = 'gh'",
      "var ml = $'''",
      "Hello ${name}",
      "  $${name}'''",
      "var ml2 = $$'''x $${name} ${name}'''",
      'var logic = [true && false, true || false, !(1 > 2) && (2 >= 2), false || (1 == 1), 1 != 2]',
      "var keyed = { '${name}-key': 1, '1abc': 2 }",
      'var safe = [obj.?missing.?deeper, obj[?\'zz\'], obj[\'a-b\'].c[^1], obj[\'a-b\'].c[?10]]',
      'var n = maybe ?? \'default\'',
      "var cidr = [cidrSubnet('10.0.0.0/16', 24, 1), cidrHost('10.0.1.0/24', 3), parseCidr('10.0.1.0/24').firstUsable]",
      'output ml string = ml',
      'output ml2 string = ml2',
      'output logic array = logic',
      'output keyed object = keyed',
      'output safe array = safe',
      'output n string = n',
      'output cidr array = cidr',
    ].join('\n'),
  );
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.outputs.ml, 'Hello gh\n  $gh');
  assert.equal(r.outputs.ml2, 'x gh ${name}');
  assert.deepEqual(r.outputs.logic, [false, true, true, true, true]);
  assert.deepEqual(r.outputs.keyed, { 'gh-key': 1, '1abc': 2 });
  assert.deepEqual(r.outputs.safe, [null, null, 3, null]);
  assert.equal(r.outputs.n, 'default');
  assert.deepEqual(r.outputs.cidr, ['10.0.1.0/24', '10.0.1.4', '10.0.1.1']);
});

test('user-defined types check parameter values', () => {
  const text = [
    "type port = { name: string\n  number: int\n  tls: bool? }",
    'type ports = port[]',
    "type mode = 'Internal' | 'External'",
    'param p ports',
    'param m mode',
    'output n int = length(p)',
  ].join('\n');
  const ok = evalText(text, { p: [{ name: 'https', number: 443 }], m: 'Internal' });
  assert.deepEqual(ok.diagnostics, []);
  const bad = evalText(text, { p: [{ name: 'https', number: '443' }, { number: 1 }], m: 'None' });
  const msgs = bad.diagnostics.filter((d) => d.code === 'GH_BICEP_PARAM_INVALID').map((d) => d.message);
  assert.equal(msgs.length, 2, JSON.stringify(bad.diagnostics));
  assert.match(msgs.join('\n'), /expected int at \[0\]\.number/);
  assert.match(msgs.join('\n'), /"None" is not one of/);
});

test('two resources with the same id in one file are an error at both', () => {
  const r = evalText(
    [
      "resource a 'Microsoft.Network/publicIPAddresses@2023-05-01' = { name: 'pip', location: 'westeurope' }",
      "resource b 'Microsoft.Network/publicIPAddresses@2023-05-01' = {",
      "  name: 'PIP'",
      "  location: 'westeurope'",
      '}',
    ].join('\n'),
  );
  const d = r.diagnostics.filter((x) => x.code === 'GH_BICEP_DUPLICATE_RESOURCE');
  assert.deepEqual(d.map((x) => [x.line, x.severity]), [[1, 'error'], [3, 'error']]);
});

test('misspelt names get a suggestion', () => {
  const r = evalText("param location string = 'x'\nvar a = loadTextContnet('x')\nvar b = locaton\nvar c = if(true, 1, 2)\n");
  const m = r.diagnostics.map((d) => d.message);
  assert.ok(m.some((x) => x.includes("did you mean 'loadTextContent'?")), m.join('\n'));
  assert.ok(m.some((x) => x.includes("did you mean 'location'?")));
  assert.ok(m.some((x) => x.includes("'if' is not available in Bicep: use the '?:' operator")));
});

test('syntax errors inside one resource body are all reported', () => {
  const r = evalText(["resource r 'Microsoft.Network/publicIPAddresses@2023-05-01' = {", "  name: 'x'", '  properties: {', '    a: 1 +', "    b: 'ok'", '    c: [1, 2,, 3]', '  }', '}', 'var after = )'].join('\n'));
  const lines = r.diagnostics.filter((d) => d.code === 'GH_BICEP_SYNTAX').map((d) => d.line);
  assert.deepEqual(lines, [4, 6, 9]);
});

test('only @export() declarations can be imported', () => {
  withFiles({ 'lib.bicep': "var hidden = 1\n@export()\nvar shown = 2\n", 'main.bicep': "import { hidden, shown } from 'lib.bicep'\noutput s int = shown\noutput h int = hidden\n" }, (dir) => {
    const r = evaluateDeploymentSync(dir);
    const d = r.diagnostics.filter((x) => x.code === 'GH_BICEP_UNDEFINED_SYMBOL');
    assert.ok(d.some((x) => /'hidden' in .* is not exported/.test(x.message) && x.line === 1), JSON.stringify(r.diagnostics));
    assert.equal(r.outputs.s, 2);
  });
});

test('sub-resources get ids at deployment: vnet.properties.subnets[1].id places API Management', () => {
  const r = evalText(
    [
      "resource vnet 'Microsoft.Network/virtualNetworks@2023-05-01' = {",
      "  name: 'v'",
      "  location: 'westeurope'",
      '  properties: {',
      "    addressSpace: { addressPrefixes: ['10.1.0.0/16'] }",
      "    subnets: [ { name: 'a', properties: { addressPrefix: '10.1.0.0/24' } }, { name: 'b', properties: { addressPrefix: '10.1.7.0/24' } } ]",
      '  }',
      '}',
      "resource apim 'Microsoft.ApiManagement/service@2022-08-01' = {",
      "  name: 'apim1'",
      "  location: 'westeurope'",
      "  sku: { name: 'Developer', capacity: 1 }",
      "  properties: { publisherEmail: 'a@b.c', publisherName: 'n', virtualNetworkType: 'Internal', virtualNetworkConfiguration: { subnetResourceId: vnet.properties.subnets[1].id } }",
      '}',
      'output subnetId string = vnet.properties.subnets[1].id',
      'output ip string = apim.properties.privateIPAddresses[0]',
    ].join('\n'),
  );
  assert.deepEqual(r.diagnostics, []);
  assert.match(String(r.outputs.subnetId), /\/providers\/Microsoft\.Network\/virtualNetworks\/v\/subnets\/b$/);
  assert.equal(r.outputs.ip, '10.1.7.4');
});

test('a module without a required parameter is reported where the module is used; @secure() outputs stay secret', () => {
  withFiles({ 'main.bicep': "module m 'm.bicep' = {\n  name: 'm'\n  params: {}\n}\n@secure()\noutput s string = 'p@ss'\n", 'm.bicep': 'param needed string\n' }, (dir) => {
    const r = evaluateDeploymentSync(dir);
    const d = r.diagnostics.find((x) => x.code === 'GH_BICEP_PARAM_MISSING' && x.file === join(dir, 'main.bicep'));
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.line, 1);
    assert.match(d.message, /'needed'/);
    assert.equal(String(r.outputs.s), '[secret]');
    assert.equal((r.outputs.s as { reveal(): unknown }).reveal(), 'p@ss');
  });
});
