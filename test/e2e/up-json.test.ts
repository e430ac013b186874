/**
 * `gatehouse up FILE.json` with resources as ARM shows them: one resource, an array of resources,
 * or {"resources": [...]}; and an ARM template as `bicep build` writes it. Each runs an
 * Application Gateway in front of a local upstream, reached with a real HTTP client.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, runCli } from '../helpers/cli.js';

let dir: string;
let upstream: http.Server;
let upstreamPort: number;
const seen: http.IncomingHttpHeaders[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-upjson-'));
  upstream = http.createServer((req, res) => {
    seen.push(req.headers);
    res.end(`upstream saw ${req.url}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as { port: number }).port;
});
after(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const gw = 'agw-json';
const sub = (type: string, name: string) => ({ id: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/gatehouse-local/providers/Microsoft.Network/applicationGateways/${gw}/${type}/${name}` });

function gateway(): Record<string, unknown> {
  return {
    type: 'Microsoft.Network/applicationGateways',
    name: gw,
    apiVersion: '2023-05-01',
    location: 'westeurope',
    properties: {
      sku: { name: 'Standard_v2', tier: 'Standard_v2' },
      frontendIPConfigurations: [{ name: 'fe', properties: {} }],
      frontendPorts: [{ name: 'port-80', properties: { port: 80 } }],
      httpListeners: [{ name: 'http-listener', properties: { protocol: 'Http', frontendIPConfiguration: sub('frontendIPConfigurations', 'fe'), frontendPort: sub('frontendPorts', 'port-80') } }],
      backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ ipAddress: '127.0.0.1' }] } }],
      backendHttpSettingsCollection: [{ name: 'settings', properties: { port: upstreamPort, protocol: 'Http', cookieBasedAffinity: 'Disabled', requestTimeout: 5 } }],
      requestRoutingRules: [{ name: 'rule', properties: { priority: 10, ruleType: 'Basic', httpListener: sub('httpListeners', 'http-listener'), backendAddressPool: sub('backendAddressPools', 'pool'), backendHttpSettings: sub('backendHttpSettingsCollection', 'settings') } }],
    },
  };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

for (const [shape, json] of [
  ['one resource', () => gateway()],
  ['an array of resources', () => [gateway()]],
  ['{"resources": [...]}', () => ({ resources: [gateway()] })],
] as const) {
  test(`up runs a JSON file holding ${shape}`, async () => {
    const file = join(dir, `gw-${shape.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(json(), null, 2));
    const cli = startCli(['up', file, '--port-map', '80=0', '--no-watch', '--log-level', 'warn', '--state-dir', join(dir, 'state')]);
    try {
      const out = await cli.waitFor(/^ready/m);
      const port = Number(/^agw-json\s+http-listener\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(out)?.[1]);
      assert.ok(port > 0, out);
      const r = await get(port, '/hello?x=1');
      assert.equal(r.status, 200);
      assert.equal(r.body, 'upstream saw /hello?x=1');
      assert.equal(seen.at(-1)?.['x-original-host'], `127.0.0.1:${port}`);
    } finally {
      assert.equal(await cli.stop(), 0);
    }
  });
}

test('up runs an ARM template (bicep build output) through the same evaluator', async () => {
  const file = join(dir, 'template.json');
  const resource = gateway();
  const template = {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    parameters: { gatewayName: { type: 'string', defaultValue: gw } },
    resources: [{ ...resource, name: "[parameters('gatewayName')]" }],
  };
  writeFileSync(file, JSON.stringify(template, null, 2));
  const cli = startCli(['up', file, '--port-map', '80=0', '--no-watch', '--log-level', 'warn', '--state-dir', join(dir, 'state')]);
  try {
    const out = await cli.waitFor(/^ready/m);
    const port = Number(/^agw-json\s+http-listener\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(out)?.[1]);
    assert.equal((await get(port, '/arm')).body, 'upstream saw /arm');
  } finally {
    await cli.stop();
  }
});

test('a JSON syntax error is reported with line and column; a dangling id with its JSON path', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{\n  "type": "Microsoft.Network/applicationGateways",\n  "name": "x",\n  "properties": { ,}\n}\n');
  const r1 = await runCli(['up', bad, '--no-watch']);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /bad\.json:4:\d+: error GH_JSON_SYNTAX /);

  const dangling = gateway() as { properties: { requestRoutingRules: { properties: Record<string, unknown> }[] } };
  dangling.properties.requestRoutingRules[0]!.properties.backendAddressPool = sub('backendAddressPools', 'nope');
  const file = join(dir, 'dangling.json');
  writeFileSync(file, JSON.stringify(dangling));
  const r2 = await runCli(['up', file, '--no-watch']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /error GH_AGW_DANGLING_ID .*nope.*\(at properties\.requestRoutingRules\[0\]\.properties\.backendAddressPool\.id\)/);
  assert.match(r2.stderr, /nothing was started/);
});
