import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { openPlatformCa, verifyChain } from './index.js';
import { isGatehouseError } from '../core/errors.js';

test('the platform CA is made once, kept, and shared by concurrent openers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-ca-'));
  try {
    const [a, b, c] = await Promise.all([openPlatformCa(dir), openPlatformCa(dir), openPlatformCa(dir)]);
    assert.equal(a.root.thumbprint, b.root.thumbprint);
    assert.equal(a.root.thumbprint, c.root.thumbprint);
    const again = await openPlatformCa(dir);
    assert.equal(again.root.thumbprint, a.root.thumbprint);
    assert.equal(a.root.isCA, true);
    assert.equal(a.root.x509.publicKey.asymmetricKeyType, 'ec');
    assert.equal(statSync(join(dir, 'platform-ca', 'root.key')).mode & 0o077, 0, 'the key is private to the user');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('server certificates for host names and IPs validate and serve real TLS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-ca-'));
  const ca = await openPlatformCa(dir);
  const issued = await ca.issueServerCertificate(['apim-sample.azure-api.net', 'localhost', '127.0.0.1']);
  assert.equal(issued.certificate.subject, 'CN=apim-sample.azure-api.net');
  assert.deepEqual(issued.chain.map((c) => c.thumbprint), [ca.root.thumbprint]);
  const r = verifyChain(issued.certificate, { anchors: [ca.root], requireServerAuth: true });
  assert.deepEqual(r.status, []);
  assert.equal(issued.certificate.x509.checkHost('apim-sample.azure-api.net'), 'apim-sample.azure-api.net');
  assert.equal(issued.certificate.x509.checkIP('127.0.0.1'), '127.0.0.1');
  const server = tls.createServer({ key: issued.privateKeyPem, cert: issued.certificate.toPem() + issued.chain.map((c) => c.toPem()).join('') }, (s) => s.end('hello'));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  try {
    const { port } = server.address() as AddressInfo;
    const got = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'apim-sample.azure-api.net', ca: ca.root.toPem() }, () => {
        let body = '';
        s.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
      });
      s.setTimeout(5000, () => s.destroy(new Error('timeout')));
      s.on('error', reject);
    });
    assert.equal(got, 'hello');
  } finally {
    await new Promise((res) => server.close(res));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unusable state directory is a GatehouseError naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-ca-'));
  try {
    const file = join(dir, 'not-a-dir');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'x'));
    await assert.rejects(openPlatformCa(file), (e) => isGatehouseError(e, 'GH_PKI_PLATFORM_CA') && e.message.includes(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
