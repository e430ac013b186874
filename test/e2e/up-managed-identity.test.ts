/**
 * `gatehouse up` passes the managed identity token endpoint of IDENTITY_ENDPOINT / IDENTITY_HEADER
 * (the App Service protocol) to its API Management services: authentication-managed-identity gets
 * its token from a token service on loopback, through the service's backend client.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../helpers/cli.js';
import { httpsRequest } from '../helpers/https.js';

let dir: string;
let tokens: http.Server;
let tokenPort: number;
const asked: { url: string; secret: string | undefined }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-up-msi-'));
  tokens = http.createServer((req, res) => {
    asked.push({ url: req.url ?? '', secret: req.headers['x-identity-header'] as string | undefined });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: 'local-token-1', expires_on: String(Math.floor(Date.now() / 1000) + 3600), token_type: 'Bearer' }));
  });
  await new Promise<void>((r) => tokens.listen(0, '127.0.0.1', r));
  tokenPort = (tokens.address() as { port: number }).port;
});
after(async () => {
  tokens.closeAllConnections();
  await new Promise((r) => tokens.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const policy = `<policies><inbound><base /><authentication-managed-identity resource="https://vault.azure.net" output-token-variable-name="msi" /><return-response><set-body>@((string)context.Variables["msi"])</set-body></return-response></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

test('authentication-managed-identity gets its token from IDENTITY_ENDPOINT with IDENTITY_HEADER', async () => {
  const file = join(dir, 'deployment.json');
  writeFileSync(
    file,
    JSON.stringify([
      { type: 'Microsoft.ApiManagement/service', name: 'apim-msi', properties: { publisherEmail: 'a@b.c', publisherName: 'T' }, sku: { name: 'Developer', capacity: 1 } },
      { type: 'Microsoft.ApiManagement/service/apis', name: 'apim-msi/vault', properties: { displayName: 'Vault', path: 'vault', protocols: ['https'], subscriptionRequired: false } },
      { type: 'Microsoft.ApiManagement/service/apis/operations', name: 'apim-msi/vault/get', properties: { displayName: 'Get', method: 'GET', urlTemplate: '/' } },
      { type: 'Microsoft.ApiManagement/service/apis/operations/policies', name: 'apim-msi/vault/get/policy', properties: { format: 'rawxml', value: policy } },
    ]),
  );
  const cli = startCli(['up', file, '--port-map', '443=0', '--no-watch', '--log-level', 'warn', '--state-dir', join(dir, 'state')], {
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${tokenPort}/msi/token`, IDENTITY_HEADER: 'local-secret' },
  });
  try {
    const out = await cli.waitFor(/^ready/m, 60000);
    const port = Number(/^apim-msi\s+gateway\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(out)?.[1]);
    assert.ok(port > 0, out);
    const r = await httpsRequest({ host: 'apim-msi.azure-api.net', port, path: '/vault/' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'local-token-1');
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.secret, 'local-secret');
    const asks = new URL(asked[0]!.url, 'http://x');
    assert.equal(asks.pathname, '/msi/token');
    assert.deepEqual([...asks.searchParams], [['resource', 'https://vault.azure.net'], ['api-version', '2019-08-01']]);
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});
