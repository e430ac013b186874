import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateDeploymentSync } from '../deployment.js';
import { isArmExpression, parseArmExpression } from './expression.js';

function withTemplate(template: unknown, f: (path: string, dir: string) => void, extra: Record<string, unknown> = {}): void {
  const dir = mkdtempSync(join(tmpdir(), 'gh-arm-'));
  try {
    writeFileSync(join(dir, 'azuredeploy.json'), JSON.stringify(template, null, 2));
    for (const [n, v] of Object.entries(extra)) writeFileSync(join(dir, n), typeof v === 'string' ? v : JSON.stringify(v));
    f(join(dir, 'azuredeploy.json'), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const P = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/gatehouse-local/providers';

const common = {
  $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
  contentVersion: '1.0.0.0',
  parameters: {
    apimName: { type: 'string', defaultValue: 'apim1' },
    subnetCount: { type: 'int', defaultValue: 2, minValue: 1 },
    deployExtra: { type: 'bool', defaultValue: false },
  },
  variables: {
    vnetName: 'vnet1',
    literal: '[[not an expression]',
    copy: [{ name: 'prefixes', count: "[parameters('subnetCount')]", input: "[format('10.0.{0}.0/24', copyIndex('prefixes'))]" }],
  },
};

function resourcesClassic() {
  return [
    {
      type: 'Microsoft.Network/virtualNetworks',
      apiVersion: '2023-05-01',
      name: "[variables('vnetName')]",
      location: "[resourceGroup().location]",
      properties: {
        addressSpace: { addressPrefixes: ['10.0.0.0/16'] },
        copy: [{ name: 'subnets', count: "[parameters('subnetCount')]", input: { name: "[format('snet-{0}', copyIndex('subnets'))]", properties: { addressPrefix: "[variables('prefixes')[copyIndex('subnets')]]" } } }],
      },
    },
    {
      type: 'Microsoft.ApiManagement/service',
      apiVersion: '2022-08-01',
      name: "[parameters('apimName')]",
      location: 'westeurope',
      sku: { name: 'Developer', capacity: 1 },
      properties: {
        publisherEmail: 'a@b.c',
        publisherName: 'x',
        virtualNetworkType: 'Internal',
        virtualNetworkConfiguration: { subnetResourceId: "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnetName'), 'snet-1')]" },
      },
      dependsOn: ["[resourceId('Microsoft.Network/virtualNetworks', variables('vnetName'))]"],
    },
    {
      type: 'Microsoft.Network/publicIPAddresses',
      apiVersion: '2023-05-01',
      name: "[format('pip-{0}', copyIndex())]",
      location: 'westeurope',
      copy: { name: 'pips', count: 2 },
      properties: { publicIPAllocationMethod: 'Static' },
    },
    {
      condition: "[parameters('deployExtra')]",
      type: 'Microsoft.Storage/storageAccounts',
      apiVersion: '2023-01-01',
      name: "[format('st{0}', uniqueString(resourceGroup().id))]",
      location: 'westeurope',
      kind: 'StorageV2',
      sku: { name: 'Standard_LRS' },
    },
    {
      type: 'Microsoft.Resources/deployments',
      apiVersion: '2025-04-01',
      name: 'agw',
      properties: {
        expressionEvaluationOptions: { scope: 'inner' },
        mode: 'Incremental',
        parameters: {
          backendIp: { value: "[reference(resourceId('Microsoft.ApiManagement/service', parameters('apimName')), '2022-08-01').privateIPAddresses[0]]" },
          host: { value: "[format('{0}.azure-api.net', parameters('apimName'))]" },
        },
        template: {
          $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
          contentVersion: '1.0.0.0',
          parameters: { backendIp: { type: 'string' }, host: { type: 'string' } },
          resources: [
            {
              type: 'Microsoft.Network/applicationGateways',
              apiVersion: '2023-05-01',
              name: 'agw1',
              location: 'westeurope',
              properties: {
                backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ ipAddress: "[parameters('backendIp')]" }] } }],
                backendHttpSettingsCollection: [{ name: 's', properties: { hostName: "[parameters('host')]", probe: { id: "[resourceId('Microsoft.Network/applicationGateways/probes', 'agw1', 'p')]" } } }],
              },
            },
          ],
          outputs: { ip: { type: 'string', value: "[parameters('backendIp')]" } },
        },
      },
    },
  ];
}

const outputs = {
  gateway: { type: 'string', value: "[reference(resourceId('Microsoft.ApiManagement/service', parameters('apimName')), '2022-08-01').gatewayUrl]" },
  agwIp: { type: 'string', value: "[reference(resourceId('Microsoft.Resources/deployments', 'agw'), '2025-04-01').outputs.ip.value]" },
  literal: { type: 'string', value: "[variables('literal')]" },
  prefixes: { type: 'array', value: "[variables('prefixes')]" },
  lambda: { type: 'array', value: "[map(createArray(1, 2), lambda('x', mul(lambdaVariables('x'), 10)))]" },
  names: { type: 'array', copy: { count: 2, input: "[format('n{0}', copyIndex())]" } },
};

function check(path: string): void {
  const r = evaluateDeploymentSync(path);
  assert.deepEqual(r.diagnostics, []);
  const names = r.resources.map((x) => `${x.type} ${x.name}`);
  assert.deepEqual(names, [
    'Microsoft.Network/virtualNetworks vnet1',
    'Microsoft.ApiManagement/service apim1',
    'Microsoft.Network/publicIPAddresses pip-0',
    'Microsoft.Network/publicIPAddresses pip-1',
    'Microsoft.Network/applicationGateways agw1',
  ]);
  const vnet = r.resources[0]!;
  assert.equal(vnet.id, `${P}/Microsoft.Network/virtualNetworks/vnet1`);
  assert.deepEqual((vnet.properties as any).subnets, [
    { name: 'snet-0', properties: { addressPrefix: '10.0.0.0/24' } },
    { name: 'snet-1', properties: { addressPrefix: '10.0.1.0/24' } },
  ]);
  const agw = r.resources[4]!;
  assert.equal((agw.properties as any).backendAddressPools[0].properties.backendAddresses[0].ipAddress, '10.0.1.4');
  assert.equal((agw.properties as any).backendHttpSettingsCollection[0].properties.hostName, 'apim1.azure-api.net');
  assert.equal(agw.id, `${P}/Microsoft.Network/applicationGateways/agw1`);
  assert.deepEqual(r.outputs, {
    gateway: 'https://apim1.azure-api.net',
    agwIp: '10.0.1.4',
    literal: '[not an expression]',
    prefixes: ['10.0.0.0/24', '10.0.1.0/24'],
    lambda: [10, 20],
    names: ['n0', 'n1'],
  });
  assert.deepEqual(r.network.privateAddresses.map((a) => a.address), ['10.0.1.4']);
  assert.ok(r.resources[1]!.origin.line! > 1, 'origin points into the JSON file');
}

test('ARM template, classic layout (resources array): loops, conditions, nested deployments, reference()', () => {
  withTemplate({ ...common, resources: resourcesClassic(), outputs }, (path) => check(path));
});

test('ARM template, languageVersion 2.0 layout (symbolic resources) and user functions', () => {
  const rs = resourcesClassic();
  const symbolic: Record<string, unknown> = { vnet: rs[0], apim: rs[1], pips: rs[2], extra: rs[3], agw: rs[4], existingKv: { existing: true, type: 'Microsoft.KeyVault/vaults', apiVersion: '2023-02-01', name: 'kv1' } };
  const out = {
    ...outputs,
    gateway: { type: 'string', value: "[reference('apim').gatewayUrl]" },
    agwIp: { type: 'string', value: "[reference('agw').outputs.ip.value]" },
    udf: { type: 'string', value: "[__bicep.greet('x')]" },
    kvUri: { type: 'string', value: "[reference('existingKv').vaultUri]" },
  };
  const t = { ...common, languageVersion: '2.0', functions: [{ namespace: '__bicep', members: { greet: { parameters: [{ type: 'string', name: 'n' }], output: { type: 'string', value: "[format('Hello {0}!', parameters('n'))]" } } } }], resources: symbolic, outputs: out };
  withTemplate(t, (path) => {
    const r = evaluateDeploymentSync(path);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.outputs.gateway, 'https://apim1.azure-api.net');
    assert.equal(r.outputs.agwIp, '10.0.1.4');
    assert.equal(r.outputs.udf, 'Hello x!');
    assert.match(String(r.outputs.kvUri), /unknown/);
    assert.ok(r.resources.some((x) => x.existing && x.type === 'Microsoft.KeyVault/vaults' && x.symbolicName === 'existingKv'));
  });
});

test('ARM parameters files and --param strings', () => {
  withTemplate(
    { ...common, resources: resourcesClassic(), outputs },
    (path, dir) => {
      const r = evaluateDeploymentSync(path, { parametersFile: join(dir, 'p.json'), params: { subnetCount: '3' } });
      assert.deepEqual(r.diagnostics, []);
      assert.equal(r.resources[1]!.name, 'apim9');
      assert.equal(((r.resources[0]!.properties as any).subnets as unknown[]).length, 3);
      assert.equal(r.resources.filter((x) => x.type === 'Microsoft.Storage/storageAccounts').length, 1);
    },
    { 'p.json': { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#', parameters: { apimName: { value: 'apim9' }, deployExtra: { value: true } } } },
  );
});

test('ARM expression syntax: literals, escapes, accessors, errors with a position', () => {
  assert.equal(isArmExpression('[concat(1)]'), true);
  assert.equal(isArmExpression('[[literal]'), false);
  assert.deepEqual(parseArmExpression("['it''s']"), { k: 'str', v: "it's", at: 0 });
  const e = parseArmExpression("[reference('a').b[0].c]");
  assert.equal(e.k, 'prop');
  assert.throws(() => parseArmExpression("[concat('a',]"), /unexpected/);
  withTemplate({ ...common, resources: [], outputs: { bad: { type: 'string', value: "[concat('a', nope(1))]" }, syn: { type: 'string', value: "[concat('a'"+ "]" } } }, (path) => {
    const r = evaluateDeploymentSync(path);
    const codes = r.diagnostics.map((d) => d.code).sort();
    assert.deepEqual(codes, ['GH_ARM_EXPRESSION', 'GH_BICEP_UNKNOWN_FUNCTION']);
    for (const d of r.diagnostics) {
      assert.ok(d.line && d.line > 1 && d.column, 'points at the expression in the file');
      assert.match(d.sourceLine!, /concat/);
    }
  });
});

test('ARM diagnostics point at the failing expression in its own resource', () => {
  const t = {
    ...common,
    resources: [
      { type: 'Microsoft.Network/publicIPAddresses', apiVersion: '2023-05-01', name: 'a', properties: { x: "[variables('vnetName')]" } },
      { type: 'Microsoft.Network/publicIPAddresses', apiVersion: '2023-05-01', name: 'b', properties: { x: "[variables('nope')]" } },
    ],
    outputs: { o: { type: 'string', value: "[variables('nope')]" } },
  };
  withTemplate(t, (path) => {
    const r = evaluateDeploymentSync(path);
    const text = JSON.stringify(t, null, 2).split('\n');
    const lines = r.diagnostics.map((d) => d.line!);
    assert.equal(r.diagnostics.length, 2, JSON.stringify(r.diagnostics));
    const inB = text.findIndex((l) => l.includes('"name": "b"')) + 1;
    const inOutputs = text.findIndex((l) => l.includes('"outputs"')) + 1;
    assert.ok(lines.some((l) => l > inB && l < inOutputs), `${lines} within resource b (${inB})`);
    assert.ok(lines.some((l) => l > inOutputs), `${lines} within outputs (${inOutputs})`);
  });
});
