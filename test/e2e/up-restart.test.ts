/**
 * `gatehouse up` when an edit adds, removes or renames resources (a restart, not a swap in place):
 * the new deployment starts beside the running one when their ports do not collide, and the
 * running one closes only once the new one serves; when the new one needs a port the running one
 * holds, the running one is stopped first and started again if the new one fails. Either way an
 * edit that cannot start never leaves nothing serving, and stderr says what happened.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { httpsRequest } from '../helpers/https.js';
import { gatewayChild, helloBehindGateway, helloService } from '../helpers/deployments.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-up-restart-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** One External API Management service answering `body` on /hello/, optionally with a gateway whose only listener is on declared port 81. */
function deployment(name: string, body: string, gateway = false): string {
  const sub = (type: string, n: string) => gatewayChild('agw-r', type, n);
  return JSON.stringify([
    ...helloService(name, body, false),
    ...(gateway
      ? [
          {
            type: 'Microsoft.Network/applicationGateways',
            name: 'agw-r',
            properties: {
              frontendIPConfigurations: [{ name: 'fe', properties: {} }],
              frontendPorts: [{ name: 'p81', properties: { port: 81 } }],
              httpListeners: [{ name: 'l', properties: { protocol: 'Http', frontendIPConfiguration: sub('frontendIPConfigurations', 'fe'), frontendPort: sub('frontendPorts', 'p81') } }],
              backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ fqdn: `${name}.azure-api.net` }] } }],
              backendHttpSettingsCollection: [{ name: 's', properties: { port: 443, protocol: 'Https', hostName: `${name}.azure-api.net`, requestTimeout: 5 } }],
              requestRoutingRules: [{ name: 'r', properties: { priority: 1, ruleType: 'Basic', httpListener: sub('httpListeners', 'l'), backendAddressPool: sub('backendAddressPools', 'pool'), backendHttpSettings: sub('backendHttpSettingsCollection', 's') } }],
            },
          },
        ]
      : []),
  ]);
}

async function listening(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

async function freePort(): Promise<number> {
  const { server, port } = await listening();
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const hello = async (name: string, port: number) => {
  const r = await httpsRequest({ host: `${name}.azure-api.net`, port, path: '/hello/' });
  return `${r.status} ${r.body}`;
};

async function eventually(what: string, cli: RunningCli, check: () => Promise<boolean> | boolean, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await Promise.resolve(check()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: not met in ${ms} ms\nstdout: ${cli.stdout()}\nstderr: ${cli.stderr()}`);
}

const gatewayPorts = (cli: RunningCli, name: string) => [...cli.stdout().matchAll(new RegExp(`^${name}\\s+gateway\\s+\\S+\\s+127\\.0\\.0\\.1:(\\d+)`, 'gm'))].map((m) => Number(m[1]));

test('an edit that cannot start (the platform CA became unreadable) leaves the previous configuration serving on its port', async () => {
  const ws = mkdtempSync(join(dir, 'ca-'));
  const file = join(ws, 'deployment.json');
  const state = join(ws, 'state');
  const port = await freePort();
  writeFileSync(file, deployment('apim-a', 'v1'));
  const cli = startCli(['up', file, '--port-map', `443=${port}`, '--state-dir', state, '--log-level', 'warn']);
  try {
    await cli.waitFor(/^ready/m, 60000);
    assert.equal(await hello('apim-a', port), '200 v1');
    writeFileSync(join(state, 'platform-ca', 'root.key'), 'not a key');
    writeFileSync(file, deployment('apim-b', 'v2'));
    await eventually('the failed reload is reported', cli, () => /reload failed: .*; still serving the previous configuration/.test(cli.stderr()));
    assert.doesNotMatch(cli.stderr(), /nothing is serving|restart failed/);
    assert.equal(await hello('apim-a', port), '200 v1', cli.stderr());
    assert.equal(cli.child.exitCode, null);
  } finally {
    assert.equal(await cli.stop('SIGINT'), 0);
  }
});

test('ports that do not collide: an edit whose new gateway port is taken by another process leaves the previous configuration on its own port', async () => {
  const ws = mkdtempSync(join(dir, 'beside-'));
  const file = join(ws, 'deployment.json');
  const blocker = await listening();
  writeFileSync(file, deployment('apim-c', 'v1'));
  const cli = startCli(['up', file, '--port-map', '443=0', '--port-map', `81=${blocker.port}`, '--state-dir', join(ws, 'state'), '--log-level', 'warn']);
  try {
    await cli.waitFor(/^ready/m, 60000);
    const [port] = gatewayPorts(cli, 'apim-c');
    assert.ok(port! > 0, cli.stdout());
    assert.equal(await hello('apim-c', port!), '200 v1');
    writeFileSync(file, deployment('apim-c', 'v2', true));
    await eventually('the failed reload is reported', cli, () => /reload failed: .*in use.*; still serving the previous configuration/.test(cli.stderr()));
    // Never stopped, so never moved to another free port.
    assert.deepEqual(gatewayPorts(cli, 'apim-c'), [port]);
    assert.doesNotMatch(cli.stdout(), /restarted the previous configuration/);
    assert.equal(await hello('apim-c', port!), '200 v1');

    // Once the port is free, the same edit starts beside the running deployment, which then closes.
    await new Promise<void>((r) => blocker.server.close(() => r()));
    writeFileSync(file, deployment('apim-c', 'v3', true));
    await cli.waitFor(/^reloaded/m, 30000);
    const newer = gatewayPorts(cli, 'apim-c').at(-1)!;
    assert.notEqual(newer, port);
    assert.equal(await hello('apim-c', newer), '200 v3');
    await assert.rejects(hello('apim-c', port!), /ECONNREFUSED/);
  } finally {
    assert.equal(await cli.stop('SIGINT'), 0);
    blocker.server.close();
  }
});

test('the same port: the new configuration takes the port of the previous one, and a start that fails after that brings the previous one back on it', async () => {
  const ws = mkdtempSync(join(dir, 'same-'));
  const file = join(ws, 'deployment.json');
  const port = await freePort();
  const blocker = await listening();
  writeFileSync(file, deployment('apim-d', 'v1'));
  const cli = startCli(['up', file, '--port-map', `443=${port}`, '--port-map', `81=${blocker.port}`, '--state-dir', join(ws, 'state'), '--log-level', 'warn']);
  try {
    await cli.waitFor(/^ready/m, 60000);
    assert.equal(await hello('apim-d', port), '200 v1');

    // Renamed: the new service needs the running one's port.
    writeFileSync(file, deployment('apim-e', 'v2'));
    await cli.waitFor(/^reloaded/m, 30000);
    assert.match(cli.stderr(), new RegExp(`needs port ${port}, which the previous configuration holds; stopping it`));
    assert.equal(await hello('apim-e', port), '200 v2');

    // Renamed again and a gateway added on a port another process holds: the previous one comes back.
    writeFileSync(file, deployment('apim-f', 'v3', true));
    await cli.waitFor(/^restarted the previous configuration/m, 30000);
    assert.match(cli.stderr(), /reload failed: .*in use.*; restarting the previous configuration/);
    assert.equal(await hello('apim-e', port), '200 v2');
  } finally {
    assert.equal(await cli.stop('SIGINT'), 0);
    blocker.server.close();
  }
});

test('--workers 2: a restart on the same gateway port has no gap (the new workers take the port beside the old ones)', async () => {
  const ws = mkdtempSync(join(dir, 'workers-'));
  const file = join(ws, 'deployment.json');
  const port = await freePort();
  const withService = (name: string, body: string) => helloBehindGateway('agw-w', name, body);
  writeFileSync(file, withService('apim-w1', 'one'));
  const cli = startCli(['up', file, '--workers', '2', '--port-map', `80=${port}`, '--state-dir', join(ws, 'state'), '--log-level', 'warn']);
  try {
    await cli.waitFor(/^ready/m, 60000);
    // A new connection for each request: what is measured is whether the port accepts and answers
    // (a keep-alive connection to a worker that is closing may be reset, as with any server that stops).
    const get = () =>
      new Promise<string>((resolve) => {
        const req = httpGet({ host: '127.0.0.1', port, path: '/hello/', agent: false, headers: { connection: 'close' }, timeout: 3000 }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve(`${res.statusCode} ${body}`));
          res.on('error', (e) => resolve(`failed: ${e.message}`));
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', (e) => resolve(`failed: ${e.message}`));
      });
    assert.equal(await get(), '200 one');
    // Renamed: a restart. Requests go on throughout, one after the other.
    writeFileSync(file, withService('apim-w2', 'two'));
    const answers: string[] = [];
    const end = Date.now() + 45000;
    // Eight clients at once, so that connections are being handed to the old workers as they close.
    const client = async () => {
      while (Date.now() < end && answers.length < 8000 && !(/^reloaded/m.test(cli.stdout()) && answers.at(-1) === '200 two')) answers.push(await get());
    };
    await Promise.all(Array.from({ length: 8 }, client));
    assert.match(cli.stdout(), /^reloaded/m, cli.stderr());
    // Never refused, never lost: the port is served throughout, and a connection the primary hands
    // to an old worker as it closes is refused by that worker and given to another.
    const failed = answers.filter((a) => a !== '200 one' && a !== '200 two');
    assert.deepEqual(failed, [], `${failed.length} of ${answers.length} requests failed`);
    assert.ok(answers.includes('200 two'));
  } finally {
    assert.equal(await cli.stop('SIGINT'), 0);
  }
});
