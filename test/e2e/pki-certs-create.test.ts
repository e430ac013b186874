/**
 * `gatehouse certs create` end to end: the real command in a child process, its output checked
 * with openssl (verify, pkcs12), with Gatehouse's own loader and validator, and over a real mTLS
 * connection on loopback with the generated .pfx files.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import { loadCertificates, parseCertificates, verifyChain } from '../../src/pki/index.js';

/**
 * The real command in a child process with its working directory in a temporary folder (the
 * default --out is ./certificates). tsx is resolved from the repository, not from the cwd.
 */
function runCli(args: string[], options: { cwd: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const entry = resolvePath(import.meta.dirname, '../../src/cli/main.ts');
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse ${args.join(' ')} did not finish in 60 s\n${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

let dir: string;
let out: string;
let firstRun: { code: number | null; stdout: string; stderr: string };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-certs-'));
  out = join(dir, 'certificates');
  firstRun = await runCli(['certs', 'create'], { cwd: dir });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const NAMES = ['root-ca', 'dev-intermediate-ca', 'tst-intermediate-ca', 'dev-client-01', 'dev-client-02', 'tst-client-01', 'tst-client-02', 'dev-expired-client', 'ssl-cert.apim-sample.dev'];
const f = (name: string) => join(out, name);

function openssl(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('writes every file into ./certificates and warns about the default password', () => {
  assert.equal(firstRun.code, 0, firstRun.stderr);
  assert.match(firstRun.stderr, /warning: .*P@ssw0rd/);
  for (const n of NAMES) for (const ext of ['.cer', '.without-markers.cer', '.pfx']) assert.ok(statSync(f(n + ext)).size > 0, n + ext);
  assert.equal(parseCertificates(readFileSync(f('dev-intermediate-ca-with-root-ca.cer')), { origin: 'x' }).length, 2);
  assert.equal(parseCertificates(readFileSync(f('tst-intermediate-ca-with-root-ca.cer')), { origin: 'x' }).length, 2);
  const pem = parseCertificates(readFileSync(f('root-ca.cer')), { origin: 'pem' })[0]!;
  const b64 = parseCertificates(readFileSync(f('root-ca.without-markers.cer')), { origin: 'b64' })[0]!;
  assert.equal(b64.thumbprint, pem.thumbprint);
  assert.doesNotMatch(readFileSync(f('root-ca.without-markers.cer'), 'utf8'), /-----/);
});

test('openssl verify accepts the clients under their intermediates and refuses the expired one', () => {
  for (const env of ['dev', 'tst']) {
    for (const n of ['01', '02']) {
      const r = openssl(['verify', '-purpose', 'sslclient', '-CAfile', f('root-ca.cer'), '-untrusted', f(`${env}-intermediate-ca.cer`), f(`${env}-client-${n}.cer`)]);
      assert.equal(r.code, 0, r.out);
    }
    const chainFile = openssl(['verify', '-CAfile', f(`${env}-intermediate-ca-with-root-ca.cer`), f(`${env}-client-01.cer`)]);
    assert.equal(chainFile.code, 0, chainFile.out);
  }
  const crossed = openssl(['verify', '-CAfile', f('root-ca.cer'), '-untrusted', f('dev-intermediate-ca.cer'), f('tst-client-01.cer')]);
  assert.notEqual(crossed.code, 0, 'a TST client does not chain through the DEV intermediate');
  const expired = openssl(['verify', '-CAfile', f('root-ca.cer'), '-untrusted', f('dev-intermediate-ca.cer'), f('dev-expired-client.cer')]);
  assert.notEqual(expired.code, 0);
  assert.match(expired.out, /expired/);
  const server = openssl(['verify', '-purpose', 'sslserver', '-CAfile', f('ssl-cert.apim-sample.dev.cer'), f('ssl-cert.apim-sample.dev.cer')]);
  assert.equal(server.code, 0, server.out);
});

test('the intermediates are CA:TRUE, pathlen 1, keyCertSign; clients have clientAuth and SAN DNS "Client 01"', () => {
  const text = execFileSync('openssl', ['x509', '-in', f('dev-intermediate-ca.cer'), '-noout', '-text'], { encoding: 'utf8' });
  assert.match(text, /CA:TRUE, pathlen:1/);
  assert.match(text, /Certificate Sign/);
  const client = execFileSync('openssl', ['x509', '-in', f('tst-client-01.cer'), '-noout', '-text'], { encoding: 'utf8' });
  assert.match(client, /TLS Web Client Authentication/);
  assert.match(client, /DNS:Client 01/);
  assert.match(client, /Issuer: CN = APIM Sample TST Intermediate CA/);
});

test('openssl pkcs12 reads every .pfx with the password (key + chain) and refuses a wrong one', async () => {
  for (const n of NAMES) {
    const r = openssl(['pkcs12', '-in', f(n + '.pfx'), '-nodes', '-passin', 'pass:P@ssw0rd']);
    assert.equal(r.code, 0, `${n}: ${r.out}`);
    assert.match(r.out, /BEGIN PRIVATE KEY/);
    const m = await loadCertificates(readFileSync(f(n + '.pfx')), { origin: n, password: 'P@ssw0rd' });
    assert.ok(m.certificates[0]!.x509.checkPrivateKey(m.privateKey!), n);
  }
  const client = openssl(['pkcs12', '-in', f('dev-client-01.pfx'), '-nokeys', '-passin', 'pass:P@ssw0rd']);
  assert.equal((client.out.match(/BEGIN CERTIFICATE/g) ?? []).length, 3, 'client, intermediate and root');
  const wrong = openssl(['pkcs12', '-in', f('dev-client-01.pfx'), '-noout', '-passin', 'pass:nope']);
  assert.notEqual(wrong.code, 0);
});

test("Gatehouse's validator agrees: DEV client valid for clientAuth, expired client NotTimeValid", async () => {
  const root = parseCertificates(readFileSync(f('root-ca.cer')), { origin: 'root' });
  const devInt = parseCertificates(readFileSync(f('dev-intermediate-ca.cer')), { origin: 'dev' });
  const ok = (await loadCertificates(readFileSync(f('dev-client-01.pfx')), { origin: 'pfx', password: 'P@ssw0rd' })).certificates[0]!;
  const r = verifyChain(ok, { anchors: root, intermediates: devInt, requireClientAuth: true });
  assert.deepEqual(r.status, []);
  assert.equal(r.valid, true);
  assert.deepEqual(r.chain.map((c) => c.subject), ['CN=Client 01', 'CN=APIM Sample DEV Intermediate CA', 'CN=APIM Sample Root CA']);
  const expired = parseCertificates(readFileSync(f('dev-expired-client.cer')), { origin: 'expired' })[0]!;
  const e = verifyChain(expired, { anchors: root, intermediates: devInt, requireClientAuth: true });
  assert.equal(e.valid, false);
  assert.deepEqual(e.status, ['NotTimeValid']);
});

test('a real mTLS handshake on loopback with the generated server and client .pfx files', async () => {
  const server = https.createServer(
    {
      pfx: readFileSync(f('ssl-cert.apim-sample.dev.pfx')),
      passphrase: 'P@ssw0rd',
      requestCert: true,
      rejectUnauthorized: true,
      ca: [readFileSync(f('root-ca.cer')), readFileSync(f('dev-intermediate-ca.cer'))],
    },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
      res.end(peer?.subject ?? 'none');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const get = (pfx: string) =>
    new Promise<string>((resolve, reject) => {
      const req = https.get(
        { host: '127.0.0.1', port, servername: 'apim-sample.dev', path: '/', pfx: readFileSync(f(pfx)), passphrase: 'P@ssw0rd', ca: readFileSync(f('ssl-cert.apim-sample.dev.cer')), timeout: 5000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
  try {
    assert.equal(await get('dev-client-01.pfx'), 'CN=Client 01');
    await assert.rejects(get('dev-expired-client.pfx'));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('without --force nothing is overwritten; with --force everything is', async () => {
  const before = readFileSync(f('dev-client-01.cer'), 'utf8');
  writeFileSync(join(dir, 'marker.txt'), 'x');
  const again = await runCli(['certs', 'create'], { cwd: dir });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /GH_PKI_FILE_EXISTS/);
  assert.match(again.stderr, /--force/);
  assert.equal(readFileSync(f('dev-client-01.cer'), 'utf8'), before);
  // One file present is enough to refuse, and the others are not written either.
  const other = join(dir, 'other');
  const partial = await runCli(['certs', 'create', '--out', other], { cwd: dir });
  assert.equal(partial.code, 0);
  rmSync(join(other, 'root-ca.pfx'));
  const keep = readFileSync(join(other, 'tst-client-02.cer'), 'utf8');
  writeFileSync(join(other, 'tst-client-02.cer'), 'mine');
  const refused = await runCli(['certs', 'create', '--out', other], { cwd: dir });
  assert.equal(refused.code, 1);
  assert.equal(readFileSync(join(other, 'tst-client-02.cer'), 'utf8'), 'mine');
  assert.throws(() => statSync(join(other, 'root-ca.pfx')));
  void keep;
  const forced = await runCli(['certs', 'create', '--out', other, '--force', '--password', 'Other1!', '--valid-months', '3'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.doesNotMatch(forced.stderr, /warning/);
  assert.notEqual(readFileSync(join(other, 'tst-client-02.cer'), 'utf8'), 'mine');
  const r = openssl(['pkcs12', '-in', join(other, 'root-ca.pfx'), '-noout', '-passin', 'pass:Other1!']);
  assert.equal(r.code, 0, r.out);
  const months = parseCertificates(readFileSync(join(other, 'dev-client-01.cer')), { origin: 'x' })[0]!;
  const days = (months.notAfter.getTime() - Date.now()) / 86_400_000;
  assert.ok(days > 85 && days < 95, `valid for ${days} days`);
});

test('--help prints the usage; bad options are usage errors', async () => {
  const help = await runCli(['certs', 'create', '--help'], { cwd: dir });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: gatehouse certs create \[--out DIR\] \[--password P\] \[--valid-months N\] \[--force\]/);
  assert.match(help.stdout, /dev-expired-client/);
  const bad = await runCli(['certs', 'create', '--valid-months', 'x'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--valid-months/);
  const unknown = await runCli(['certs', 'create', '--bogus'], { cwd: dir });
  assert.equal(unknown.code, 2);
});
