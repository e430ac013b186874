/**
 * `gatehouse up` as a user runs it: what it prints, reload on edit (a broken edit keeps the last
 * good configuration serving), resources it does not run, diagnostics before anything starts,
 * and clear errors for ports it cannot bind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot, runCli, startCli } from '../helpers/cli.js';
import { httpsRequest } from '../helpers/https.js';
import { helloBehindGateway } from '../helpers/deployments.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-up-'));
  chmodSync(dir, 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const policy = (body: string) => `<policies>
  <inbound>
    <base />
    <return-response>
      <set-status code="200" />
      <set-body>${body}</set-body>
    </return-response>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>
`;

const bicep = `param serviceName string = 'apim-reload'

resource apim 'Microsoft.ApiManagement/service@2022-08-01' = {
  name: serviceName
  location: 'westeurope'
  sku: { name: 'Developer', capacity: 1 }
  properties: { publisherEmail: 'a@b.c', publisherName: 'Test' }
}

resource api 'Microsoft.ApiManagement/service/apis@2022-08-01' = {
  parent: apim
  name: 'hello'
  properties: { displayName: 'Hello', path: 'hello', protocols: [ 'https' ], subscriptionRequired: false }

  resource op 'operations' = {
    name: 'get'
    properties: { displayName: 'Get', method: 'GET', urlTemplate: '/' }

    resource policy 'policies' = {
      name: 'policy'
      properties: { format: 'rawxml', value: loadTextContent('hello.xml') }
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-02-01' = {
  name: 'kv-reload'
  location: 'westeurope'
  properties: { tenantId: subscription().tenantId, sku: { family: 'A', name: 'standard' } }
}
`;

async function hello(port: number): Promise<string> {
  const r = await httpsRequest({ host: 'apim-reload.azure-api.net', port, path: '/hello/' });
  assert.equal(r.status, 200);
  return r.body;
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: not met in ${ms} ms`);
}

/** A small deployment: one API Management service with one operation, and a Key Vault Gatehouse does not run. */
function app(name: string, body = 'v1'): string {
  const path = join(dir, name);
  spawnSync('mkdir', ['-p', path]);
  writeFileSync(join(path, 'main.bicep'), bicep);
  writeFileSync(join(path, 'hello.xml'), policy(body));
  return path;
}

test('up prints the listeners, what it does not run and ready; reloads an edit; keeps serving through a broken edit; stops on SIGINT', async () => {
  const reload = app('reload');
  const cli = startCli(['up', reload, '--port-map', '443=0', '--state-dir', join(dir, 'state'), '--log-level', 'warn']);
  try {
    const out = await cli.waitFor(/^ready/m);
    assert.match(out, /^not run: Microsoft\.KeyVault\/vaults kv-reload$/m);
    const port = Number(/^apim-reload\s+gateway\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(out)?.[1]);
    assert.ok(port > 0, out);
    assert.equal(await hello(port), 'v1');

    // With --port-map 443=0 every start takes a free port: read the newest line each time.
    const latestPort = () => Number([...cli.stdout().matchAll(/^apim-reload\s+gateway\s+\S+\s+127\.0\.0\.1:(\d+)/gm)].at(-1)?.[1]);
    writeFileSync(join(reload, 'hello.xml'), policy('v2'));
    await cli.waitFor(/^reloaded/m);
    await eventually('the edit is served', async () => (await hello(latestPort())) === 'v2');
    const port2 = latestPort();
    assert.equal(port2, port, 'an edit is swapped in on the same socket');

    writeFileSync(join(reload, 'hello.xml'), policy('<set-status code="oops" /> <unclosed>'));
    await eventually('the broken edit is reported', async () => /reload failed: .* has errors; still serving the previous configuration/.test(cli.stderr()));
    assert.match(cli.stderr(), /hello\.xml:\d+:\d+: error /);
    assert.equal(await hello(port2), 'v2');
  } finally {
    assert.equal(await cli.stop('SIGINT'), 0);
  }
  assert.match(cli.stdout(), /^stopping \(SIGINT\)\nstopped$/m);
});

test('an editor that saves by renaming: the fix after a broken edit is still noticed', async () => {
  const path = app('atomic');
  const save = (file: string, text: string) => {
    writeFileSync(join(path, `.${file}.tmp`), text);
    renameSync(join(path, `.${file}.tmp`), join(path, file));
  };
  const cli = startCli(['up', path, '--port-map', '443=0', '--state-dir', join(dir, 'state'), '--log-level', 'warn']);
  try {
    const out = await cli.waitFor(/^ready/m);
    const port = Number(/^apim-reload\s+gateway\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(out)?.[1]);
    assert.equal(await hello(port), 'v1');
    save('hello.xml', policy('<unclosed>'));
    await eventually('the broken edit is reported', async () => /reload failed: .* has errors/.test(cli.stderr()));
    save('hello.xml', policy('v3'));
    await eventually('the fixed edit is served', async () => (await hello(port)) === 'v3');
  } finally {
    assert.equal(await cli.stop('SIGINT'), 0);
  }
});

test('a restart whose new configuration cannot start keeps the previous one serving on its socket; the next edit starts again', async () => {
  const path = app('restart');
  const state = join(dir, 'state-restart');
  const cli = startCli(['up', path, '--port-map', '443=0', '--state-dir', state, '--log-level', 'warn']);
  const get = async (host: string, port: number) => (await httpsRequest({ host, port, path: '/hello/' })).body;
  const latestPort = (name: string) => Number([...cli.stdout().matchAll(new RegExp(`^${name}\\s+gateway\\s+\\S+\\s+127\\.0\\.0\\.1:(\\d+)`, 'gm'))].at(-1)?.[1]);
  try {
    await cli.waitFor(/^ready/m);
    const port = latestPort('apim-reload');
    assert.equal(await get('apim-reload.azure-api.net', port), 'v1');
    // The platform CA becomes unreadable, then the service is renamed: a restart whose new
    // deployment fails to start beside the running one, which is left as it was.
    writeFileSync(join(state, 'platform-ca', 'root.key'), 'not a key');
    writeFileSync(join(path, 'main.bicep'), bicep.replace("'apim-reload'", "'apim-renamed'"));
    await eventually('the failed restart is reported', async () => /reload failed: .*; still serving the previous configuration/.test(cli.stderr()));
    assert.equal(cli.child.exitCode, null, cli.stderr());
    assert.equal(await get('apim-reload.azure-api.net', port), 'v1');
    // The CA is made again and the next edit starts the deployment.
    rmSync(join(state, 'platform-ca'), { recursive: true, force: true });
    writeFileSync(join(path, 'hello.xml'), policy('v2'));
    await cli.waitFor(/^reloaded/m);
    assert.equal(await get('apim-renamed.azure-api.net', latestPort('apim-renamed')), 'v2');
  } finally {
    assert.equal(await cli.stop('SIGINT'), 0);
  }
  assert.match(cli.stdout(), /^stopping \(SIGINT\)\nstopped$/m);
});

test('errors in the Bicep are reported with file:line:column and the source line, and nothing starts', async () => {
  const broken = join(dir, 'broken');
  spawnSync('mkdir', ['-p', broken]);
  writeFileSync(join(broken, 'main.bicep'), "var a = frobnicate('x')\nvar b = 1 + 'two'\noutput o string = '${a}${b}'\n");
  const r = await runCli(['up', join(broken, 'main.bicep'), '--state-dir', join(dir, 'state')], { cwd: broken });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /main\.bicep:1:9: error \S+ .*frobnicate/);
  assert.match(r.stderr, /1 \| var a = frobnicate\('x'\)/);
  assert.match(r.stderr, /nothing was started/);
  assert.doesNotMatch(r.stdout, /ready/);
});

test('a port that is in use: an error that names it and suggests --port-map', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await runCli(['up', app('in-use'), '--port-map', `443=${port}`, '--state-dir', join(dir, 'state'), '--no-watch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`GH_PORT_IN_USE: .*${port}.*--port-map 443=`));
  } finally {
    blocker.close();
  }
});

test('a port below 1024 without privileges: an error that suggests --port-map', { skip: process.getuid?.() !== 0 ? 'needs root to drop privileges with setpriv' : false }, async () => {
  const state = join(dir, 'state-nobody');
  spawnSync('mkdir', ['-p', state]);
  chmodSync(state, 0o777);
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--import', import.meta.resolve('tsx'), join(repoRoot, 'src/cli/main.ts'), 'up', app('privileged'), '--state-dir', state, '--no-watch'], { encoding: 'utf8', cwd: dir, timeout: 30000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /GH_PORT_PRIVILEGED: .*443.*--port-map 443=/);
});

test('--workers 2 runs the gateway in two worker processes that reach the in-process API Management; the workers write their own access lines', async () => {
  const ws = mkdtempSync(join(dir, 'workers-'));
  const gatewayFile = join(ws, 'deployment.json');
  writeFileSync(gatewayFile, helloBehindGateway('agw-w', 'apim-w', 'from-apim'));
  const cli = startCli(['up', gatewayFile, '--workers', '2', '--port-map', '80=0', '--state-dir', join(dir, 'state'), '--no-watch', '--log-level', 'info']);
  const accessLines = () =>
    cli
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"msg":"access"') && l.includes('ApplicationGatewayAccessLog'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  try {
    const out = await cli.waitFor(/^ready/m, 60000);
    const port = Number(/^agw-w\s+l\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(out)?.[1]);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/hello/`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'from-apim');
    }
    const deadline = Date.now() + 5000;
    while (accessLines().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const lines = accessLines();
    assert.equal(lines.length, 4, cli.stderr());
    for (const l of lines) {
      assert.equal(l.resource, 'agw-w');
      assert.equal(l.httpStatus, 200);
      assert.equal(typeof l.worker, 'number');
      assert.notEqual(l.worker, cli.child.pid);
    }
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test('an edit that one gateway cannot take (its new port is in use) leaves every service on the previous configuration', async () => {
  const ws = mkdtempSync(join(dir, 'partial-'));
  const file = join(ws, 'deployment.json');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const blocked = (blocker.address() as { port: number }).port;
  const sub = (type: string, name: string) => ({ id: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/gatehouse-local/providers/Microsoft.Network/applicationGateways/agw-p/${type}/${name}` });
  const deployment = (body: string, extraListener: boolean) =>
    JSON.stringify([
      { type: 'Microsoft.ApiManagement/service', name: 'apim-p', properties: { publisherEmail: 'a@b.c', publisherName: 'T', virtualNetworkType: 'Internal', privateIPAddresses: ['10.0.1.4'] }, sku: { name: 'Developer', capacity: 1 } },
      { type: 'Microsoft.ApiManagement/service/apis', name: 'apim-p/hello', properties: { displayName: 'Hello', path: 'hello', protocols: ['https'], subscriptionRequired: false } },
      { type: 'Microsoft.ApiManagement/service/apis/operations', name: 'apim-p/hello/get', properties: { displayName: 'Get', method: 'GET', urlTemplate: '/' } },
      { type: 'Microsoft.ApiManagement/service/apis/operations/policies', name: 'apim-p/hello/get/policy', properties: { format: 'rawxml', value: policy(body) } },
      {
        type: 'Microsoft.Network/applicationGateways',
        name: 'agw-p',
        properties: {
          frontendIPConfigurations: [{ name: 'fe', properties: {} }],
          frontendPorts: [{ name: 'p80', properties: { port: 80 } }, ...(extraListener ? [{ name: 'p81', properties: { port: 81 } }] : [])],
          httpListeners: [
            { name: 'l', properties: { protocol: 'Http', frontendIPConfiguration: sub('frontendIPConfigurations', 'fe'), frontendPort: sub('frontendPorts', 'p80') } },
            ...(extraListener ? [{ name: 'l2', properties: { protocol: 'Http', frontendIPConfiguration: sub('frontendIPConfigurations', 'fe'), frontendPort: sub('frontendPorts', 'p81') } }] : []),
          ],
          backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ ipAddress: '10.0.1.4' }] } }],
          probes: [{ name: 'probe', properties: { protocol: 'Https', path: '/status-0123456789abcdef', interval: 30, timeout: 5, unhealthyThreshold: 3, pickHostNameFromBackendHttpSettings: true } }],
          backendHttpSettingsCollection: [{ name: 's', properties: { port: 443, protocol: 'Https', hostName: 'apim-p.azure-api.net', requestTimeout: 5, probe: sub('probes', 'probe') } }],
          requestRoutingRules: [
            { name: 'r', properties: { priority: 1, ruleType: 'Basic', httpListener: sub('httpListeners', 'l'), backendAddressPool: sub('backendAddressPools', 'pool'), backendHttpSettings: sub('backendHttpSettingsCollection', 's') } },
            ...(extraListener ? [{ name: 'r2', properties: { priority: 2, ruleType: 'Basic', httpListener: sub('httpListeners', 'l2'), backendAddressPool: sub('backendAddressPools', 'pool'), backendHttpSettings: sub('backendHttpSettingsCollection', 's') } }] : []),
          ],
        },
      },
    ]);
  writeFileSync(file, deployment('v1', false));
  const cli = startCli(['up', file, '--port-map', '80=0', '--port-map', `81=${blocked}`, '--state-dir', join(dir, 'state'), '--log-level', 'warn']);
  try {
    const out = await cli.waitFor(/^ready/m, 60000);
    const port = Number(/^agw-p\s+l\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(out)?.[1]);
    const get = async () => (await fetch(`http://127.0.0.1:${port}/hello/`)).text();
    await eventually('the first configuration is served', async () => (await get()) === 'v1');
    writeFileSync(file, deployment('v2', true));
    await eventually('the failed reload is reported', async () => /reload failed: .*still serving the previous configuration/.test(cli.stderr()));
    assert.equal(await get(), 'v1', cli.stderr());
  } finally {
    assert.equal(await cli.stop('SIGINT'), 0);
    blocker.close();
  }
});
