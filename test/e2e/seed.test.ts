/**
 * The seed document end to end: `gatehouse up` runs examples/apim-behind-agw (Application Gateway
 * in front of API Management) and examples/apim-direct-mtls (the series' first post), and each
 * request of the posts gets the answer the posts say it gets. Real TLS, real clients (node https
 * and curl with the .pfx files), real certificates from `gatehouse certs create`.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningCli } from '../helpers/cli.js';
import { copyExample, createWorkspace, portOf, upExample, type Workspace } from '../helpers/example.js';
import { httpsRequest, curl } from '../helpers/https.js';

let ws: Workspace;
const pfx = (name: string) => readFileSync(join(ws.certs, `${name}.pfx`));
const cer = (name: string) => readFileSync(join(ws.certs, `${name}.cer`), 'utf8');
/** NGINX's $ssl_client_escaped_cert, which Application Gateway's {var_client_certificate} equals. */
const escapedPem = (pem: string) => encodeURIComponent(pem);
const up = (name: string, extra: string[] = []) => upExample(ws, copyExample(ws, name, `${name}-${Math.random().toString(36).slice(2, 8)}`), extra);

before(async () => {
  ws = await createWorkspace('gh-seed-');
});

after(() => rmSync(ws.dir, { recursive: true, force: true }));

/** What the client saw per request, by --backend-hop: the two hops must look the same on the wire. */
const seen = new Map<string, Map<string, { status: number; statusMessage: string | undefined; headers: [string, string][]; body: string }>>();
const remember = (hop: string, key: string, r: { status: number; statusMessage?: string; headers: Record<string, string | string[] | undefined>; body: string }) => {
  const headers = Object.entries(r.headers)
    .filter(([k]) => k !== 'date')
    .map(([k, v]) => [k, String(v)] as [string, string]);
  (seen.get(hop) ?? seen.set(hop, new Map()).get(hop)!).set(key, { status: r.status, statusMessage: r.statusMessage, headers, body: r.body });
};

for (const hop of ['https', 'in-process'] as const) describe(`API Management behind Application Gateway (the seed post), --backend-hop ${hop}`, () => {
  let cli: RunningCli;
  let https: number;
  let mtls: number;
  let rootCa: Buffer;
  before(async () => {
    cli = await up('apim-behind-agw', ['--backend-hop', hop, '--log-level', 'info']);
    https = portOf(cli.stdout(), 'https-listener');
    mtls = portOf(cli.stdout(), 'mtls-listener');
    // The post's server certificate is self-signed: clients trust it directly.
    rootCa = readFileSync(join(ws.certs, 'ssl-cert.apim-sample.dev.cer'));
  });
  after(async () => {
    assert.equal(await cli.stop(), 0);
  });

  test('gatehouse up prints one line per listener, the internal API Management service and ready', () => {
    assert.match(cli.stdout(), /^agw-validate-client-certificate\s+https-listener\s/m);
    assert.match(cli.stdout(), /^agw-validate-client-certificate\s+mtls-listener\s.*mTLS/m);
    assert.match(cli.stdout(), /^apim-sample\s+gateway\s+https:\/\/apim-sample\.azure-api\.net\S*\s+127\.0\.1\.4:\d+\s+internal, reachable through 10\.0\.1\.4/m);
  });

  test('the status endpoint answers 200 through the HTTPS listener', async () => {
    const r = await httpsRequest({ port: https, path: '/status-0123456789abcdef', ca: rootCa });
    assert.equal(r.status, 200);
  });

  test('the status endpoint answers 200 through the mTLS listener with dev-client-01', async () => {
    const r = await httpsRequest({ port: mtls, path: '/status-0123456789abcdef', pfx: pfx('dev-client-01'), ca: rootCa });
    assert.equal(r.status, 200);
    remember(hop, 'status', r);
  });

  test('mTLS without a client certificate: 400 No required SSL certificate was sent', async () => {
    const r = await httpsRequest({ port: mtls, path: '/status-0123456789abcdef', ca: rootCa });
    assert.equal(r.status, 400);
    assert.equal(r.headers.server, 'Microsoft-Azure-Application-Gateway/v2');
    assert.match(r.body, /<title>400 No required SSL certificate was sent<\/title>/);
  });

  test('a client certificate from the TST intermediate: 400 The SSL certificate error', async () => {
    const r = await httpsRequest({ port: mtls, path: '/status-0123456789abcdef', pfx: pfx('tst-client-01'), ca: rootCa });
    assert.equal(r.status, 400);
    assert.match(r.body, /<title>400 The SSL certificate error<\/title>/);
  });

  for (const op of ['validate-using-policy', 'validate-using-context']) {
    test(`${op} through the gateway: 401 Client certificate missing (the gateway terminates TLS)`, async () => {
      const r = await httpsRequest({ port: mtls, path: `/client-cert/${op}`, pfx: pfx('dev-client-01'), ca: rootCa });
      assert.equal(r.status, 401);
      assert.equal(r.statusMessage, 'Client certificate missing');
      remember(hop, op, r);
    });
  }

  test('validate-from-agw with dev-client-01: 200 with the forwarded certificate', async () => {
    const r = await httpsRequest({ port: mtls, path: '/client-cert/validate-from-agw', pfx: pfx('dev-client-01'), ca: rootCa });
    assert.equal(r.status, 200);
    assert.equal(r.body, escapedPem(cer('dev-client-01')));
    remember(hop, 'validate-from-agw 01', r);
  });

  test('a POST with a body and HEAD reach API Management and answer as the service does', async () => {
    const post = await httpsRequest({ port: mtls, method: 'POST', path: '/client-cert/validate-from-agw', body: 'x'.repeat(3000), pfx: pfx('dev-client-01'), ca: rootCa });
    remember(hop, 'post', post);
    const head = await httpsRequest({ port: mtls, method: 'HEAD', path: '/status-0123456789abcdef', pfx: pfx('dev-client-01'), ca: rootCa });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    remember(hop, 'head', head);
  });

  test('API Management logs the request it answered', () => {
    assert.match(cli.stderr(), /"resource":"apim-sample".*"msg":"request".*"path":"\/client-cert\/validate-from-agw"/);
  });

  test('validate-from-agw with dev-client-02: 401 Invalid client certificate', async () => {
    const r = await httpsRequest({ port: mtls, path: '/client-cert/validate-from-agw', pfx: pfx('dev-client-02'), ca: rootCa });
    assert.equal(r.status, 401);
    assert.equal(r.statusMessage, 'Invalid client certificate');
    remember(hop, 'validate-from-agw 02', r);
  });

  test('validate-from-agw through the HTTPS listener: 401', async () => {
    const r = await httpsRequest({ port: https, path: '/client-cert/validate-from-agw', ca: rootCa });
    assert.equal(r.status, 401);
  });

  test('a forged X-ARR-ClientCert through the HTTPS listener: 401 (the default rewrite set removes it)', async () => {
    const forged = escapedPem(cer('dev-client-01'));
    const r = await httpsRequest({ port: https, path: '/client-cert/validate-from-agw', headers: { 'X-ARR-ClientCert': forged }, ca: rootCa });
    assert.equal(r.status, 401);
  });

  test('curl with --resolve and the .pfx, as the README shows: 200 from validate-from-agw', async () => {
    const r = await curl({
      url: `https://apim-sample.dev:${mtls}/client-cert/validate-from-agw`,
      resolve: `apim-sample.dev:${mtls}:127.0.0.1`,
      pfx: join(ws.certs, 'dev-client-01.pfx'),
      cacert: join(ws.certs, 'ssl-cert.apim-sample.dev.cer'),
    });
    assert.equal(r.status, 200, r.stderr);
    assert.match(r.body, /^-----BEGIN%20CERTIFICATE-----%0A/);
  });
});

test('--backend-hop https and in-process: the same status lines, headers (but Date) and bodies', () => {
  const a = seen.get('https') ?? new Map();
  const b = seen.get('in-process') ?? new Map();
  assert.ok(a.size >= 6 && b.size >= 6, 'both blocks ran');
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [k, v] of a) {
    const w = b.get(k);
    assert.ok(w, k);
    // The trace id and the request id differ per request; everything else must match.
    const norm = (h: [string, string][]) => h.filter(([n]) => !/^(x-appgw-trace-id|x-ms-request-id|x-request-id)$/i.test(n));
    assert.deepEqual({ ...w, headers: norm(w.headers) }, { ...v, headers: norm(v.headers) }, k);
  }
});

describe('the post before "Plugging the security hole"', () => {
  let cli: RunningCli;
  let https: number;
  before(async () => {
    cli = await up('apim-behind-agw', ['--param', 'removeClientCertHeaderOnHttpsListener=false']);
    https = portOf(cli.stdout(), 'https-listener');
  });
  after(async () => {
    await cli.stop();
  });

  test('a forged X-ARR-ClientCert through the HTTPS listener is accepted: 200', async () => {
    const forged = escapedPem(cer('dev-client-01'));
    const r = await httpsRequest({ port: https, path: '/client-cert/validate-from-agw', headers: { 'X-ARR-ClientCert': forged } });
    assert.equal(r.status, 200);
    assert.equal(r.body, forged);
  });
});

describe('API Management answering mTLS itself (the series\' first post)', () => {
  let cli: RunningCli;
  let port: number;
  let rootCa: Buffer;
  const host = 'apim-sample.azure-api.net';
  before(async () => {
    cli = await up('apim-direct-mtls');
    const m = /^apim-sample\s+gateway\s+\S+\s+127\.0\.0\.1:(\d+)/m.exec(cli.stdout());
    assert.ok(m, cli.stdout());
    port = Number(m[1]);
    rootCa = readFileSync(join(ws.stateDir, 'platform-ca', 'root.cer'));
  });
  after(async () => {
    await cli.stop();
  });

  test('the status endpoint answers 200', async () => {
    const r = await httpsRequest({ host, port, path: '/status-0123456789abcdef', ca: rootCa });
    assert.equal(r.status, 200);
  });

  test('validate-using-policy with dev-client-01: 200 with the certificate details', async () => {
    const r = await httpsRequest({ host, port, path: '/client-cert/validate-using-policy', pfx: pfx('dev-client-01'), ca: rootCa });
    assert.equal(r.status, 200);
    assert.match(r.body, /\[Subject\]\s+CN=Client 01/);
  });

  test('validate-using-context with dev-client-01: 200', async () => {
    const r = await httpsRequest({ host, port, path: '/client-cert/validate-using-context', pfx: pfx('dev-client-01'), ca: rootCa });
    assert.equal(r.status, 200);
  });

  test('validate-using-context with dev-client-02 (not uploaded): 401 Invalid client certificate', async () => {
    const r = await httpsRequest({ host, port, path: '/client-cert/validate-using-context', pfx: pfx('dev-client-02'), ca: rootCa });
    assert.equal(r.status, 401);
    assert.equal(r.statusMessage, 'Invalid client certificate');
  });

  test('validate-using-policy with tst-client-01 (other intermediate): 401', async () => {
    const r = await httpsRequest({ host, port, path: '/client-cert/validate-using-policy', pfx: pfx('tst-client-01'), ca: rootCa });
    assert.equal(r.status, 401);
  });

  for (const op of ['validate-using-policy', 'validate-using-context']) {
    test(`${op} without a client certificate: 401 Client certificate missing`, async () => {
      const r = await httpsRequest({ host, port, path: `/client-cert/${op}`, ca: rootCa });
      assert.equal(r.status, 401);
      assert.equal(r.statusMessage, 'Client certificate missing');
    });
  }
});
