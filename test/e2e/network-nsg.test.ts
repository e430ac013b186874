/**
 * The network model enforced on loopback (issue 6 item 3): `gatehouse up` on the seed example puts
 * the Internal API Management on the loopback address of its private IP (10.0.1.4 → 127.0.1.4),
 * the Application Gateway connects from its own (10.0.0.4 → 127.0.0.4), and the NSG of the API
 * Management subnet decides which connections get a TLS handshake at all. Real sockets, real TLS.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import https from 'node:https';
import type { RunningCli } from '../helpers/cli.js';
import { copyExample, createWorkspace, portOf, upExample, type Workspace } from '../helpers/example.js';
import { httpsRequest } from '../helpers/https.js';

let ws: Workspace;
const apimHost = 'apim-sample.azure-api.net';

before(async () => {
  ws = await createWorkspace('gh-nsg-');
});
after(() => rmSync(ws.dir, { recursive: true, force: true }));

/** The API Management line: `apim-sample  gateway  <url>  127.0.1.4:<port>  internal, …`. */
function apimAddress(stdout: string): { address: string; port: number } {
  const m = /^apim-sample\s+gateway\s+\S+\s+(127\.\d+\.\d+\.\d+):(\d+)\s+internal, /m.exec(stdout);
  assert.ok(m, stdout);
  return { address: m[1]!, port: Number(m[2]) };
}

/** A TLS handshake from `localAddress`: 'handshake' when the server answered, else the error code. */
function handshake(address: string, port: number, localAddress: string): Promise<string> {
  return new Promise((resolve) => {
    // localAddress is passed on to net.connect (the typings of tls.ConnectionOptions leave it out)
    const options: tls.ConnectionOptions & { localAddress: string } = { host: address, port, localAddress, servername: apimHost, rejectUnauthorized: false, timeout: 10_000 };
    const s = tls.connect(options);
    const done = (r: string) => {
      s.destroy();
      resolve(r);
    };
    s.once('secureConnect', () => done('handshake'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.once('close', () => done('closed'));
    s.once('timeout', () => done('timeout'));
  });
}

/** GET /status-0123456789abcdef straight to API Management, from `localAddress`. */
function apimStatus(address: string, port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: address, port, localAddress, path: '/status-0123456789abcdef', servername: apimHost, headers: { host: apimHost }, rejectUnauthorized: false, agent: false, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The JSON log records `gatehouse up` wrote to stderr with reason nsg_denied. */
function denials(cli: RunningCli): Record<string, unknown>[] {
  return cli
    .stderr()
    .split('\n')
    .filter((l) => l.includes('nsg_denied'))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
}

describe('the seed deployment: Internal API Management accepts connections only from the virtual network', () => {
  let cli: RunningCli;
  before(async () => {
    cli = await upExample(ws, copyExample(ws, 'apim-behind-agw', 'seed-nsg'));
  });
  after(async () => {
    assert.equal(await cli.stop(), 0);
  });

  test('API Management listens on the loopback address of 10.0.1.4; the gateway still reaches it: 200', async () => {
    const { address } = apimAddress(cli.stdout());
    assert.equal(address, '127.0.1.4');
    assert.match(cli.stdout(), /internal, reachable through 10\.0\.1\.4, inbound filtered by its subnet's NSG/);
    const r = await httpsRequest({ port: portOf(cli.stdout(), 'https-listener'), path: '/status-0123456789abcdef' });
    assert.equal(r.status, 200);
  });

  test('a direct TLS connection from 127.0.0.1 (the Internet) is reset before the handshake, and logged', async () => {
    const { address, port } = apimAddress(cli.stdout());
    const before = denials(cli).length;
    const r = await handshake(address, port, '127.0.0.1');
    assert.ok(r === 'ECONNRESET' || r === 'closed', `expected a reset, got ${r}`);
    // Dropped before TLS: node reports the reset, or the end of a socket that never completed the handshake.
    await assert.rejects(apimStatus(address, port, '127.0.0.1'), /ECONNRESET|socket hang up|disconnected before secure TLS connection was established/);
    // the records reach stderr through a pipe: wait for them, bounded
    for (let i = 0; i < 50 && denials(cli).length < before + 2; i++) await new Promise((res) => setTimeout(res, 20));
    const d = denials(cli).at(-1);
    assert.ok(d, cli.stderr());
    assert.equal(d.rule, 'DenyAllInBound');
    assert.match(String(d.peer), /^(::ffff:)?127\.0\.0\.1:\d+$/);
  });

  test('an address no resource of the deployment has (127.0.0.5) is the Internet too', async () => {
    const { address, port } = apimAddress(cli.stdout());
    assert.notEqual(await handshake(address, port, '127.0.0.5'), 'handshake');
  });

  test('from the gateway\'s address (127.0.0.4 = 10.0.0.4, AllowVnetInBound) the handshake and a request work', async () => {
    const { address, port } = apimAddress(cli.stdout());
    assert.equal(await handshake(address, port, '127.0.0.4'), 'handshake');
    assert.equal(await apimStatus(address, port, '127.0.0.4'), 200);
  });
});

describe('NSG rules added to the API Management subnet: priorities decide', () => {
  let cli: RunningCli;
  before(async () => {
    const dir = copyExample(ws, 'apim-behind-agw', 'seed-nsg-rules');
    const file = join(dir, 'virtual-network', 'virtual-network.bicep');
    const text = readFileSync(file, 'utf8');
    const rules = `securityRules: [
      {
        name: 'deny-app-gateway-subnet'
        properties: { access: 'Deny', sourcePortRange: '*', destinationPortRange: '443', direction: 'Inbound', protocol: 'Tcp', sourceAddressPrefix: '10.0.0.0/24', destinationAddressPrefix: 'VirtualNetwork', priority: 100 }
      }
      {
        name: 'allow-internet-https'
        properties: { access: 'Allow', sourcePortRange: '*', destinationPortRange: '443', direction: 'Inbound', protocol: 'Tcp', sourceAddressPrefix: 'Internet', destinationAddressPrefix: 'VirtualNetwork', priority: 200 }
      }`;
    assert.ok(text.includes('securityRules: ['));
    writeFileSync(file, text.replace('securityRules: [', rules));
    cli = await upExample(ws, dir);
  });
  after(async () => {
    assert.equal(await cli.stop(), 0);
  });

  test('allow Internet on 443: the direct connection from 127.0.0.1 works', async () => {
    const { address, port } = apimAddress(cli.stdout());
    assert.equal(await handshake(address, port, '127.0.0.1'), 'handshake');
    assert.equal(await apimStatus(address, port, '127.0.0.1'), 200);
  });

  test('deny the gateway subnet (priority 100, before AllowVnetInBound): the gateway gets no connection, clients 502', async () => {
    const { address, port } = apimAddress(cli.stdout());
    assert.notEqual(await handshake(address, port, '127.0.0.4'), 'handshake');
    const r = await httpsRequest({ port: portOf(cli.stdout(), 'https-listener'), path: '/status-0123456789abcdef' });
    assert.equal(r.status, 502);
    assert.ok(
      denials(cli).some((d) => d.rule === 'deny-app-gateway-subnet' && /^(::ffff:)?127\.0\.0\.4:\d+$/.test(String(d.peer))),
      cli.stderr(),
    );
  });
});

test('edge worker processes (--workers 2) connect from the gateway\'s address too: 200, nothing denied', async () => {
  const cli = await upExample(ws, copyExample(ws, 'apim-behind-agw', 'seed-nsg-workers'), ['--workers', '2']);
  try {
    const port = portOf(cli.stdout(), 'https-listener');
    for (let i = 0; i < 4; i++) {
      const r = await httpsRequest({ port, path: '/status-0123456789abcdef' });
      assert.equal(r.status, 200);
    }
    assert.deepEqual(denials(cli), []);
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});
