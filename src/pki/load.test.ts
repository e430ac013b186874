import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFromDer, loadCertificates, parseCertificates } from './index.js';
import { isGatehouseError } from '../core/errors.js';

const F = new URL('../../test/fixtures/bosma-certificates/', import.meta.url).pathname;
const read = (name: string) => readFileSync(join(F, name));
const DEV01 = 'B4AF863C2AB64C4FFEFB85E6A805A5346A8B0105';

test('dev-client-01 values are the ones .NET shows', () => {
  const [c] = parseCertificates(read('dev-client-01.cer'), { origin: 'dev-client-01.cer' });
  assert.ok(c);
  assert.equal(c.thumbprint, DEV01);
  assert.equal(c.subject, 'CN=Client 01');
  assert.equal(c.issuer, 'CN=APIM Sample DEV Intermediate CA');
  assert.equal(c.serialNumber, '19B72EEA84A4D4BD48C20892E65D0B92');
  assert.equal(c.notBefore.toISOString(), '2024-02-02T08:39:43.000Z');
  assert.equal(c.notAfter.toISOString(), '2074-02-02T08:49:43.000Z');
  assert.equal(c.isCA, false);
  assert.equal(c.isSelfIssued, false);
  assert.equal(c.sha256, c.x509.fingerprint256.replace(/:/g, ''));
  assert.equal(c.toPem(), c.x509.toString());
  assert.equal(
    c.toDotNetString(),
    [
      '[Subject]', '  CN=Client 01', '',
      '[Issuer]', '  CN=APIM Sample DEV Intermediate CA', '',
      '[Serial Number]', '  19B72EEA84A4D4BD48C20892E65D0B92', '',
      '[Not Before]', '  2/2/2024 8:39:43 AM', '',
      '[Not After]', '  2/2/2074 8:49:43 AM', '',
      '[Thumbprint]', '  B4AF863C2AB64C4FFEFB85E6A805A5346A8B0105', '',
    ].join('\r\n'),
  );
});

test('toEscapedPem is byte-for-byte what NGINX puts in $ssl_client_escaped_cert', () => {
  const [c] = parseCertificates(read('dev-client-01.cer'), { origin: 'x' });
  assert.equal(c!.toEscapedPem(), read('dev-client-01.nginx-escaped-cert.txt').toString('utf8'));
});

test('every text form and DER give the same certificate', () => {
  const pem = read('dev-client-01.cer');
  const der = parseCertificates(pem, { origin: 'x' })[0]!.der;
  const forms: [string | Buffer, string][] = [
    [pem, 'pem'],
    [pem.toString('utf8'), 'pem string'],
    [read('dev-client-01.without-markers.cer'), 'base64'],
    [read('dev-client-01.nginx-escaped-cert.txt').toString(), 'escaped'],
    [der, 'der'],
    ['\uFEFF' + pem.toString('utf8').replace(/\n/g, '\r\n'), 'BOM + CRLF'],
    [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pem.toString('utf8').replace(/\n/g, '\r\n'), 'utf16le')]), 'UTF-16LE (PowerShell Out-File)'],
    [Buffer.from(pem.toString('utf8').replace(/\n/g, ' ')), 'PEM folded onto one line (a header value)'],
  ];
  for (const [data, what] of forms) {
    const [c] = parseCertificates(data, { origin: what });
    assert.equal(c?.thumbprint, DEV01, what);
  }
  assert.equal(certificateFromDer(new Uint8Array(der)).thumbprint, DEV01);
});

test('a PEM chain gives every certificate in file order', () => {
  const certs = parseCertificates(read('dev-intermediate-ca-with-root-ca.cer'), { origin: 'chain' });
  assert.deepEqual(certs.map((c) => c.subject), ['CN=APIM Sample DEV Intermediate CA', 'CN=APIM Sample Root CA']);
  assert.equal(certs[0]!.isCA, true);
  assert.equal(certs[1]!.isSelfIssued, true);
});

test('loadCertificates reads the Windows PFX (3DES, SHA-1 MAC) with its chain and key', async () => {
  const m = await loadCertificates(read('dev-client-01.pfx'), { origin: 'dev-client-01.pfx', password: 'P@ssw0rd' });
  assert.equal(m.format, 'pkcs12');
  assert.deepEqual(m.certificates.map((c) => c.subject), ['CN=Client 01', 'CN=APIM Sample DEV Intermediate CA', 'CN=APIM Sample Root CA']);
  assert.equal(m.certificates[0]!.thumbprint, DEV01);
  assert.ok(m.privateKeyPem?.startsWith('-----BEGIN PRIVATE KEY-----'));
  assert.ok(m.certificates[0]!.x509.checkPrivateKey(m.privateKey!));
  // The same PFX as base64 text (ARM's sslCertificates[].properties.data).
  const b64 = await loadCertificates(read('dev-client-01.pfx').toString('base64'), { origin: 'data', password: 'P@ssw0rd' });
  assert.equal(b64.certificates[0]!.thumbprint, DEV01);
});

test('loadCertificates reads what OpenSSL 3 writes (AES-256-CBC, PBKDF2, SHA-256 MAC), and names .NET-quoted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-pki-'));
  try {
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem',
      '-subj', '/C=NL/O=Acme, Inc./OU=a;b/CN=x "y"', '-days', '2']);
    run(['pkcs12', '-export', '-in', 'c.pem', '-inkey', 'k.pem', '-out', 'a.pfx', '-passout', 'pass:P@ssw0rd']);
    run(['pkcs12', '-export', '-in', 'c.pem', '-inkey', 'k.pem', '-out', 'n.pfx', '-passout', 'pass:']);
    // What OpenSSL 1.x wrote by default: certificates under pbeWithSHAAnd40BitRC2-CBC, SHA-1 MAC.
    run(['pkcs12', '-export', '-legacy', '-in', 'c.pem', '-inkey', 'k.pem', '-out', 'rc2.pfx', '-passout', 'pass:P@ssw0rd']);
    const m = await loadCertificates(readFileSync(join(dir, 'a.pfx')), { origin: 'a.pfx', password: 'P@ssw0rd' });
    await assert.rejects(loadCertificates(readFileSync(join(dir, 'rc2.pfx')), { origin: 'rc2.pfx', password: 'wrong' }), (e) => isGatehouseError(e, 'GH_PKI_PFX_PASSWORD'));
    assert.equal(m.certificates[0]!.subject, 'CN="x ""y""", OU="a;b", O="Acme, Inc.", C=NL');
    assert.equal(m.privateKey?.asymmetricKeyType, 'ec');
    const rc2 = await loadCertificates(readFileSync(join(dir, 'rc2.pfx')), { origin: 'rc2.pfx', password: 'P@ssw0rd' });
    assert.equal(rc2.certificates[0]!.thumbprint, m.certificates[0]!.thumbprint);
    assert.ok(rc2.certificates[0]!.x509.checkPrivateKey(rc2.privateKey!));
    const n = await loadCertificates(readFileSync(join(dir, 'n.pfx')), { origin: 'n.pfx' });
    assert.equal(n.certificates.length, 1);
    // A PEM with certificate and key.
    const both = readFileSync(join(dir, 'c.pem'), 'utf8') + readFileSync(join(dir, 'k.pem'), 'utf8');
    const p = await loadCertificates(both, { origin: 'both.pem' });
    assert.equal(p.format, 'pem');
    assert.ok(p.certificates[0]!.x509.checkPrivateKey(p.privateKey!));
    // A key that belongs to another certificate is refused.
    run(['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.pem']);
    const wrong = readFileSync(join(dir, 'c.pem'), 'utf8') + readFileSync(join(dir, 'other.pem'), 'utf8');
    await assert.rejects(loadCertificates(wrong, { origin: 'wrong.pem' }), (e) => isGatehouseError(e, 'GH_PKI_KEY_MISMATCH') && /^wrong\.pem/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function failure(data: Uint8Array | string, password?: string): Promise<{ code: string; message: string }> {
  try {
    await loadCertificates(data, { origin: 'the-file.pfx', password });
  } catch (e) {
    assert.ok(isGatehouseError(e), `not a GatehouseError: ${e}`);
    return { code: e.code, message: e.message };
  }
  assert.fail('expected an error');
}

test('wrong password, truncated files and garbage give GatehouseErrors naming the origin', async () => {
  const pfx = read('dev-client-01.pfx');
  const cases: [Uint8Array | string, string | undefined, string][] = [
    [pfx, 'wrong', 'GH_PKI_PFX_PASSWORD'],
    [pfx, undefined, 'GH_PKI_PFX_PASSWORD'],
    [pfx.subarray(0, 600), 'P@ssw0rd', 'GH_PKI_PFX_MALFORMED'],
    [Buffer.from('not a certificate at all!'), undefined, 'GH_PKI_UNRECOGNISED_FORMAT'],
    [Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe]), undefined, 'GH_PKI_UNRECOGNISED_FORMAT'],
    [Buffer.alloc(0), undefined, 'GH_PKI_UNRECOGNISED_FORMAT'],
    [read('dev-client-01.cer').toString().slice(0, 400), undefined, 'GH_PKI_TRUNCATED'],
    [read('dev-client-01.cer').toString().replace(/MIID/, 'MIIE'), undefined, 'GH_PKI_TRUNCATED'],
    [parseCertificates(read('dev-client-01.cer'), { origin: 'x' })[0]!.der.subarray(0, 300), undefined, 'GH_PKI_TRUNCATED'],
    [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]), undefined, 'GH_PKI_PFX_MALFORMED'],
    [Buffer.from([0x30, 0x03, 0x01, 0x01, 0x05]), undefined, 'GH_PKI_MALFORMED_CERTIFICATE'],
  ];
  for (const [data, pw, code] of cases) {
    const f = await failure(data, pw);
    assert.equal(f.code, code, f.message);
    assert.match(f.message, /^the-file\.pfx/);
  }
  // Random bytes never crash.
  for (let i = 0; i < 200; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + (i % 60) }, (_, k) => (i * 31 + k * 17) & 0xff));
    bytes[0] = i % 2 ? 0x30 : bytes[0]!;
    await failure(bytes);
  }
  assert.throws(() => parseCertificates(pfx, { origin: 'p.pfx' }), /PKCS#12/);
});
