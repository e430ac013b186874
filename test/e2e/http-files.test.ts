/**
 * The examples' test.http files, run with a real .http client (the httpyac CLI) against the
 * running examples, using httpyac's own client-certificate settings (.httpyac.json). Every
 * request of each file must be processed and every assertion in it must hold.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';
import { copyExample, createWorkspace, portOf, upExample, type Workspace } from '../helpers/example.js';

let ws: Workspace;
before(async () => {
  ws = await createWorkspace('gh-http-');
});
after(() => rmSync(ws.dir, { recursive: true, force: true }));

const httpyac = join(repoRoot, 'node_modules/.bin/httpyac');
const hostsHook = join(repoRoot, 'test/helpers/resolve-hosts.mjs');

function runHttpyac(dir: string, vars: Record<string, number>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const args = ['send', 'test.http', '--all', '-o', 'short', '--no-color', '--var', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)];
    const child = spawn(httpyac, args, {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: `--import ${hostsHook}`, GATEHOUSE_HOSTS: 'apim-sample.dev=127.0.0.1,apim-sample.azure-api.net=127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Points the example's httpyac client-certificate setting at the port the test runs it on. */
function rekeyClientCertificates(dir: string, from: string, to: string): void {
  const path = join(dir, '.httpyac.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as { clientCertificates: Record<string, unknown> };
  assert.ok(config.clientCertificates[from], `.httpyac.json has no client certificate for ${from}`);
  config.clientCertificates = { [to]: config.clientCertificates[from] };
  writeFileSync(path, JSON.stringify(config, null, 2));
}

function requestsIn(dir: string): number {
  return readFileSync(join(dir, 'test.http'), 'utf8').split('\n').filter((l) => l.startsWith('###')).length;
}

test('examples/apim-behind-agw/test.http: every request answers as the post says (httpyac)', async () => {
  const dir = copyExample(ws, 'apim-behind-agw');
  const cli = await upExample(ws, dir);
  try {
    const httpsPort = portOf(cli.stdout(), 'https-listener');
    const mtlsPort = portOf(cli.stdout(), 'mtls-listener');
    rekeyClientCertificates(dir, 'apim-sample.dev:53029', `apim-sample.dev:${mtlsPort}`);
    const r = await runHttpyac(dir, { httpsPort, mtlsPort });
    const n = requestsIn(dir);
    assert.ok(n >= 10, `test.http has ${n} requests`);
    assert.match(r.out, new RegExp(`${n} requests processed \\(${n} succeeded\\)`), r.out);
    assert.doesNotMatch(r.out, /✖/);
    assert.equal(r.code, 0, r.out);
  } finally {
    await cli.stop();
  }
});

test('examples/apim-direct-mtls/test.http: every request answers as the first post says (httpyac)', async () => {
  const dir = copyExample(ws, 'apim-direct-mtls');
  const cli = await upExample(ws, dir);
  try {
    const m = /^apim-sample\s+gateway\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(cli.stdout());
    assert.ok(m, cli.stdout());
    const apimPort = Number(m[1]);
    rekeyClientCertificates(dir, 'apim-sample.azure-api.net:8443', `apim-sample.azure-api.net:${apimPort}`);
    const r = await runHttpyac(dir, { apimPort });
    const n = requestsIn(dir);
    assert.match(r.out, new RegExp(`${n} requests processed \\(${n} succeeded\\)`), r.out);
    assert.equal(r.code, 0, r.out);
  } finally {
    await cli.stop();
  }
});
