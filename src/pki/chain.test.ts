import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCertificate, generateKey, parseCertificates, verifyChain, type Certificate, type ChainOptions, type GeneratedCertificate } from './index.js';
import { oid, seq, tlv } from './der.js';

const F = new URL('../../test/fixtures/bosma-certificates/', import.meta.url).pathname;
const pem = (name: string) => parseCertificates(readFileSync(join(F, name)), { origin: name });
const [root] = pem('root-ca.cer') as [Certificate];
const [devInt] = pem('dev-intermediate-ca.cer') as [Certificate];
const [tstInt] = pem('tst-intermediate-ca.cer') as [Certificate];
const [dev01] = pem('dev-client-01.cer') as [Certificate];
const [tst01] = pem('tst-client-01.cer') as [Certificate];
const AT = new Date('2025-06-01T00:00:00Z');

test('the seed fixtures: DEV client chains to the root through the DEV intermediate', () => {
  const r = verifyChain(dev01, { anchors: [root], intermediates: [tstInt, devInt], at: AT, requireClientAuth: true });
  assert.deepEqual(r.status, []);
  assert.equal(r.valid, true);
  assert.deepEqual(r.chain.map((c) => c.subject), ['CN=Client 01', 'CN=APIM Sample DEV Intermediate CA', 'CN=APIM Sample Root CA']);
});

test('the seed fixtures: missing intermediates, other anchors, explicit trust of the leaf', () => {
  const table: [string, Certificate, ChainOptions, readonly string[]][] = [
    ['TST client, only the DEV intermediate', tst01, { anchors: [root], intermediates: [devInt], at: AT }, ['PartialChain']],
    ['DEV client, no intermediates', dev01, { anchors: [root], at: AT }, ['PartialChain']],
    ['DEV client, the DEV intermediate as the anchor', dev01, { anchors: [devInt], at: AT }, []],
    ['TST client, the DEV intermediate as the anchor', tst01, { anchors: [devInt], intermediates: [tstInt], at: AT }, ['PartialChain']],
    ['the leaf itself trusted', dev01, { anchors: [dev01], at: AT }, []],
    ['before notBefore', dev01, { anchors: [root], intermediates: [devInt], at: new Date('2024-02-02T08:39:42Z') }, ['NotTimeValid']],
    ['serverAuth asked of a client certificate', dev01, { anchors: [root], intermediates: [devInt], at: AT, requireServerAuth: true }, ['NotValidForUsage']],
    ['the root as a leaf (self-signed, not trusted)', root, { anchors: [devInt], at: AT }, ['UntrustedRoot']],
  ];
  for (const [what, leaf, options, status] of table) {
    const r = verifyChain(leaf, options);
    assert.deepEqual(r.status, status, `${what}: ${r.reasons.join('; ')}`);
    assert.equal(r.valid, status.length === 0, what);
    assert.equal(r.reasons.length >= status.length, true, what);
  }
});

test('validity is compared in whole seconds, both ends inclusive', () => {
  const nb = dev01.notBefore.getTime();
  const na = dev01.notAfter.getTime();
  const at = (ms: number) => verifyChain(dev01, { anchors: [devInt], at: new Date(ms) }).status;
  assert.deepEqual(at(nb), []);
  assert.deepEqual(at(nb - 1), ['NotTimeValid']); // 08:39:42.999 floors to :42
  assert.deepEqual(at(na), []);
  assert.deepEqual(at(na + 999), []);
  assert.deepEqual(at(na + 1000), ['NotTimeValid']);
});

// ---- generated chains ----
const YEAR = 365 * 86_400_000;
const now = Date.now();
const base = { notBefore: new Date(now - 60_000), notAfter: new Date(now + YEAR), keyAlgorithm: 'ec-p256' } as const;
const by = (g: GeneratedCertificate) => ({ certificate: g.certificate, privateKey: g.privateKey });

test('basicConstraints, pathLen, keyUsage, EKU on issuers, unknown critical extensions', async () => {
  const ca = await generateCertificate({ ...base, subject: 'CN=Root', ca: {} });
  const notCa = await generateCertificate({ ...base, subject: 'CN=Not a CA', issuer: by(ca) });
  const underNotCa = await generateCertificate({ ...base, subject: 'CN=Leaf', issuer: by(notCa) });
  let r = verifyChain(underNotCa.certificate, { anchors: [ca.certificate], intermediates: [notCa.certificate] });
  assert.deepEqual(r.status, ['InvalidBasicConstraints', 'NotValidForUsage']); // cA FALSE, and keyUsage without keyCertSign

  const p0 = await generateCertificate({ ...base, subject: 'CN=P0', issuer: by(ca), ca: { pathLen: 0 } });
  const sub = await generateCertificate({ ...base, subject: 'CN=Sub', issuer: by(p0), ca: {} });
  const leaf = await generateCertificate({ ...base, subject: 'CN=Leaf', issuer: by(sub), extendedKeyUsage: ['clientAuth'] });
  r = verifyChain(leaf.certificate, { anchors: [ca.certificate], intermediates: [p0.certificate, sub.certificate] });
  assert.deepEqual(r.status, ['InvalidBasicConstraints']);
  assert.match(r.reasons.join(), /pathLenConstraint 0/);
  // The leaf directly under the pathLen 0 CA is fine.
  const direct = await generateCertificate({ ...base, subject: 'CN=Direct', issuer: by(p0) });
  assert.equal(verifyChain(direct.certificate, { anchors: [ca.certificate], intermediates: [p0.certificate] }).valid, true);

  const noSign = await generateCertificate({ ...base, subject: 'CN=No keyCertSign', issuer: by(ca), ca: {}, keyUsage: ['digitalSignature'] });
  const l2 = await generateCertificate({ ...base, subject: 'CN=L2', issuer: by(noSign) });
  r = verifyChain(l2.certificate, { anchors: [ca.certificate], intermediates: [noSign.certificate] });
  assert.deepEqual(r.status, ['NotValidForUsage']);

  const serverOnly = await generateCertificate({ ...base, subject: 'CN=Server-only CA', issuer: by(ca), ca: {}, extendedKeyUsage: ['serverAuth'] });
  const l3 = await generateCertificate({ ...base, subject: 'CN=L3', issuer: by(serverOnly), extendedKeyUsage: ['clientAuth'] });
  r = verifyChain(l3.certificate, { anchors: [ca.certificate], intermediates: [serverOnly.certificate], requireClientAuth: true });
  assert.deepEqual(r.status, ['NotValidForUsage']);
  assert.equal(verifyChain(l3.certificate, { anchors: [ca.certificate], intermediates: [serverOnly.certificate] }).valid, true);

  const odd = await generateCertificate({ ...base, subject: 'CN=Odd', issuer: by(ca), extraExtensions: [{ oid: '1.3.6.1.4.1.55738.666.1', critical: true, value: Buffer.from([0x05, 0x00]) }] });
  r = verifyChain(odd.certificate, { anchors: [ca.certificate] });
  assert.deepEqual(r.status, ['HasNotSupportedCriticalExtension']);
  const fine = await generateCertificate({ ...base, subject: 'CN=Fine', issuer: by(ca), extraExtensions: [{ oid: '1.3.6.1.4.1.55738.666.1', critical: false, value: Buffer.from([0x05, 0x00]) }] });
  assert.equal(verifyChain(fine.certificate, { anchors: [ca.certificate] }).valid, true);
  // issuerAltName is not among the critical extensions OpenSSL supports (X509_supported_extension).
  const ian = seq(tlv(0x82, Buffer.from('ca.example')));
  const criticalIan = await generateCertificate({ ...base, subject: 'CN=IAN', issuer: by(ca), extraExtensions: [{ oid: '2.5.29.18', critical: true, value: ian }] });
  assert.deepEqual(verifyChain(criticalIan.certificate, { anchors: [ca.certificate] }).status, ['HasNotSupportedCriticalExtension']);
  const plainIan = await generateCertificate({ ...base, subject: 'CN=IAN', issuer: by(ca), extraExtensions: [{ oid: '2.5.29.18', critical: false, value: ian }] });
  assert.equal(verifyChain(plainIan.certificate, { anchors: [ca.certificate] }).valid, true);
});

test('path building backtracks: an expired and a wrong-key intermediate with the same name come first', async () => {
  const ca = await generateCertificate({ ...base, subject: 'CN=Root', ca: {} });
  const key = await generateKey('ec-p256');
  const expired = await generateCertificate({ ...base, key, subject: 'CN=Issuing CA', issuer: by(ca), ca: {}, notBefore: new Date(now - 2 * YEAR), notAfter: new Date(now - YEAR) });
  const otherKey = await generateCertificate({ ...base, subject: 'CN=Issuing CA', issuer: by(ca), ca: {} });
  const good = await generateCertificate({ ...base, key, subject: 'CN=Issuing CA', issuer: by(ca), ca: {} });
  const leaf = await generateCertificate({ ...base, subject: 'CN=Leaf', issuer: { certificate: good.certificate, privateKey: key } });
  const r = verifyChain(leaf.certificate, { anchors: [ca.certificate], intermediates: [expired.certificate, otherKey.certificate, good.certificate] });
  assert.deepEqual(r.status, []);
  assert.equal(r.chain[1]!.thumbprint, good.certificate.thumbprint);
  // Without the good one: the report names the expiry (same key) rather than a bare PartialChain.
  const bad = verifyChain(leaf.certificate, { anchors: [ca.certificate], intermediates: [otherKey.certificate, expired.certificate] });
  assert.equal(bad.valid, false);
  assert.deepEqual(bad.status, ['NotTimeValid']);
});

test('a forged signature is NotSignatureValid; a cycle of cross-signed CAs ends as PartialChain', async () => {
  const ca = await generateCertificate({ ...base, subject: 'CN=Root', ca: {} });
  const impostor = await generateCertificate({ ...base, subject: 'CN=Root', ca: {} });
  const forged = await generateCertificate({ ...base, subject: 'CN=Leaf', issuer: by(impostor) });
  const r = verifyChain(forged.certificate, { anchors: [ca.certificate] });
  assert.deepEqual(r.status, ['NotSignatureValid']);

  const ka = await generateKey('ec-p256');
  const kb = await generateKey('ec-p256');
  const aSelf = await generateCertificate({ ...base, key: ka, subject: 'CN=A', ca: {} });
  const bByA = await generateCertificate({ ...base, key: kb, subject: 'CN=B', issuer: { certificate: aSelf.certificate, privateKey: ka }, ca: {} });
  const aByB = await generateCertificate({ ...base, key: ka, subject: 'CN=A', issuer: { certificate: bByA.certificate, privateKey: kb }, ca: {} });
  const leaf = await generateCertificate({ ...base, subject: 'CN=Leaf', issuer: { certificate: aByB.certificate, privateKey: ka } });
  const started = performance.now();
  const c = verifyChain(leaf.certificate, { anchors: [ca.certificate], intermediates: [aByB.certificate, bByA.certificate] });
  assert.ok(performance.now() - started < 1000);
  assert.equal(c.valid, false);
  assert.ok(c.status.includes('PartialChain'), c.status.join());
});

function dnsNames(kind: 0xa0 | 0xa1, names: string[]): Buffer {
  return tlv(kind, ...names.map((n) => seq(tlv(0x82, Buffer.from(n)))));
}

test('name constraints: permitted and excluded DNS, email and IP subtrees; malformed constraints', async () => {
  const ca = await generateCertificate({ ...base, subject: 'CN=Root', ca: {} });
  const nc = (value: Buffer) => [{ oid: '2.5.29.30', critical: true, value }];
  const constrained = await generateCertificate({ ...base, subject: 'CN=Constrained', issuer: by(ca), ca: {}, extraExtensions: nc(seq(dnsNames(0xa0, ['example.com']), dnsNames(0xa1, ['bad.example.com']))) });
  const leaf = (dns: string[], ip: string[] = []) => generateCertificate({ ...base, subject: 'CN=Leaf', issuer: by(constrained), dnsNames: dns, ipAddresses: ip });
  const check = async (dns: string[]) => verifyChain((await leaf(dns)).certificate, { anchors: [ca.certificate], intermediates: [constrained.certificate] }).status;
  assert.deepEqual(await check(['api.example.com']), []);
  assert.deepEqual(await check(['example.com']), []);
  assert.deepEqual(await check(['example.org']), ['HasNotPermittedNameConstraint']);
  assert.deepEqual(await check(['x.bad.example.com']), ['HasExcludedNameConstraint']);
  assert.deepEqual(await check(['notexample.com']), ['HasNotPermittedNameConstraint']);

  const ipCa = await generateCertificate({ ...base, subject: 'CN=IP', issuer: by(ca), ca: {}, extraExtensions: nc(seq(tlv(0xa0, seq(tlv(0x87, Buffer.from([10, 0, 0, 0, 255, 0, 0, 0])))))) });
  const ipLeaf = async (ip: string) => verifyChain((await generateCertificate({ ...base, subject: 'CN=L', issuer: by(ipCa), ipAddresses: [ip] })).certificate, { anchors: [ca.certificate], intermediates: [ipCa.certificate] }).status;
  assert.deepEqual(await ipLeaf('10.1.2.3'), []);
  assert.deepEqual(await ipLeaf('11.1.2.3'), ['HasNotPermittedNameConstraint']);

  const emailCa = await generateCertificate({ ...base, subject: 'CN=Mail', issuer: by(ca), ca: {}, extraExtensions: nc(seq(tlv(0xa0, seq(tlv(0x81, Buffer.from('example.com')))))) });
  const mailLeaf = await generateCertificate({ ...base, subject: 'CN=M, E=alice@example.org', issuer: by(emailCa) });
  assert.deepEqual(verifyChain(mailLeaf.certificate, { anchors: [ca.certificate], intermediates: [emailCa.certificate] }).status, ['HasNotPermittedNameConstraint']);

  const badNc = await generateCertificate({ ...base, subject: 'CN=Bad NC', issuer: by(ca), ca: {}, extraExtensions: nc(seq(tlv(0xa0, seq(tlv(0x81, Buffer.from('a@b@example.com')))))) });
  const l = await generateCertificate({ ...base, subject: 'CN=L', issuer: by(badNc) });
  assert.deepEqual(verifyChain(l.certificate, { anchors: [ca.certificate], intermediates: [badNc.certificate] }).status, ['InvalidNameConstraints']);

  const dirCa = await generateCertificate({ ...base, subject: 'CN=Dir', issuer: by(ca), ca: {}, extraExtensions: nc(seq(tlv(0xa0, seq(tlv(0xa4, seq(tlv(0x31, seq(oid('2.5.4.10'), tlv(0x0c, Buffer.from('Acme')))))))))) });
  const inAcme = await generateCertificate({ ...base, subject: [['O', 'Acme'], ['CN', 'x']], issuer: by(dirCa) });
  const outside = await generateCertificate({ ...base, subject: [['O', 'Other'], ['CN', 'x']], issuer: by(dirCa) });
  const caseAndSpace = await generateCertificate({ ...base, subject: [['O', '  ACME '], ['CN', 'x']], issuer: by(dirCa) });
  assert.deepEqual(verifyChain(caseAndSpace.certificate, { anchors: [ca.certificate], intermediates: [dirCa.certificate] }).status, []);
  assert.deepEqual(verifyChain(inAcme.certificate, { anchors: [ca.certificate], intermediates: [dirCa.certificate] }).status, []);
  assert.deepEqual(verifyChain(outside.certificate, { anchors: [ca.certificate], intermediates: [dirCa.certificate] }).status, ['HasNotPermittedNameConstraint']);
});

test('RSA-PSS, RSA PKCS#1 v1.5, ECDSA P-384 and Ed25519 signatures made by OpenSSL verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-sig-'));
  try {
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ext = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'];
    const cases: [string, string[], string[]][] = [
      ['pss', ['-newkey', 'rsa:2048'], ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']],
      ['rsa', ['-newkey', 'rsa:2048'], []],
      ['p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], ['-sha384']],
      ['ed25519', ['-newkey', 'ed25519'], []],
    ];
    for (const [name, key, sig] of cases) {
      run(['req', '-x509', ...key, '-nodes', '-keyout', `${name}-ca.key`, '-out', `${name}-ca.pem`, '-subj', `/CN=${name} CA`, '-days', '2', ...ext, ...sig]);
      run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}-leaf.key`, '-out', `${name}-leaf.csr`, '-subj', `/CN=${name} leaf`]);
      run(['x509', '-req', '-in', `${name}-leaf.csr`, '-CA', `${name}-ca.pem`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-out', `${name}-leaf.pem`, '-days', '1', ...sig]);
      const ca = parseCertificates(readFileSync(join(dir, `${name}-ca.pem`)), { origin: name })[0]!;
      const leaf = parseCertificates(readFileSync(join(dir, `${name}-leaf.pem`)), { origin: name })[0]!;
      const r = verifyChain(leaf, { anchors: [ca] });
      assert.deepEqual(r.status, [], `${name}: ${r.reasons.join('; ')}`);
      // Tampering with the signed part breaks the signature.
      const der = Buffer.from(leaf.der);
      der[der.length - 20] ^= 0x01;
      const tampered = parseCertificates(der, { origin: 'tampered' })[0]!;
      assert.deepEqual(verifyChain(tampered, { anchors: [ca] }).status, ['NotSignatureValid'], name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a signature labelled Ed25519 but made with the issuer RSA/EC key and SHA-256 does not verify', async () => {
  const { sign } = await import('node:crypto');
  const { readTlv, children, slice } = await import('./der.js');
  const { certificateFromDer } = await import('./certificate.js');
  for (const keyAlgorithm of ['ec-p256', 'rsa-2048'] as const) {
    const ca = await generateCertificate({ ...base, keyAlgorithm, subject: 'CN=Relabel Root', ca: {} });
    const leaf = await generateCertificate({ ...base, subject: 'CN=Relabelled', issuer: by(ca) });
    // Rebuild the leaf with the Ed25519 AlgorithmIdentifier in both places, signed by the CA key with SHA-256.
    const der = leaf.certificate.der;
    const top = readTlv(der, 0);
    const tbsT = children(der, top)[0]!;
    const fields = children(der, tbsT).map((t) => slice(der, t));
    const ed25519 = seq(oid('1.3.101.112'));
    const sigIndex = fields[0]![0] === 0xa0 ? 2 : 1;
    fields[sigIndex] = ed25519;
    const tbs = seq(...fields);
    const signature = sign('sha256', tbs, ca.privateKey);
    const forged = certificateFromDer(seq(tbs, ed25519, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))));
    const r = verifyChain(forged, { anchors: [ca.certificate] });
    assert.equal(r.valid, false, keyAlgorithm);
    assert.deepEqual(r.status, ['NotSignatureValid'], `${keyAlgorithm}: ${r.reasons.join('; ')}`);
  }
});

test('policy extensions: the dotnet profile accepts well-formed critical ones unprocessed, webpki refuses them, a malformed one is InvalidExtension in both', async () => {
  const ca = await generateCertificate({ ...base, subject: 'CN=Policy Root', ca: {} });
  const int = (n: number) => tlv(0x02, Buffer.from([n]));
  const policies = (...oids: string[]) => seq(...oids.map((o) => seq(oid(o))));
  const kinds: [string, string, Buffer][] = [
    ['certificatePolicies', '2.5.29.32', policies('2.23.140.1.2.1', '1.3.6.1.4.1.55738.1')],
    // requireExplicitPolicy 0 with a leaf that declares no policy: RFC 5280 would refuse the chain.
    ['policyConstraints', '2.5.29.36', seq(tlv(0x80, Buffer.from([0])), tlv(0x81, Buffer.from([1])))],
    ['inhibitAnyPolicy', '2.5.29.54', int(0)],
    ['policyMappings', '2.5.29.33', seq(seq(oid('1.3.6.1.4.1.55738.1'), oid('1.3.6.1.4.1.55738.2')))],
  ];
  for (const [name, extOid, value] of kinds) {
    const ica = await generateCertificate({ ...base, subject: `CN=ICA ${name}`, issuer: by(ca), ca: {}, extraExtensions: [{ oid: extOid, critical: true, value }] });
    const leaf = await generateCertificate({ ...base, subject: 'CN=Leaf', issuer: by(ica), extendedKeyUsage: ['clientAuth'] });
    const opts = { anchors: [ca.certificate], intermediates: [ica.certificate], requireClientAuth: true };
    assert.deepEqual(verifyChain(leaf.certificate, opts).status, [], `dotnet, critical ${name}`);
    const w = verifyChain(leaf.certificate, { ...opts, profile: 'webpki' });
    assert.deepEqual(w.status, ['HasNotSupportedCriticalExtension'], `webpki, critical ${name}: ${w.reasons.join('; ')}`);
    assert.match(w.reasons.join(), new RegExp(`critical ${name} is not processed`));
  }
  // Not critical: certificatePolicies is fine in both (every public TLS certificate has one).
  const icaNc = await generateCertificate({ ...base, subject: 'CN=ICA nc', issuer: by(ca), ca: {}, extraExtensions: [{ oid: '2.5.29.32', critical: false, value: policies('2.23.140.1.2.1') }] });
  const leafNc = await generateCertificate({ ...base, subject: 'CN=Leaf', issuer: by(icaNc), extraExtensions: [{ oid: '2.5.29.32', critical: false, value: policies('2.23.140.1.2.1') }] });
  for (const profile of ['dotnet', 'webpki'] as const) assert.deepEqual(verifyChain(leafNc.certificate, { anchors: [ca.certificate], intermediates: [icaNc.certificate], profile }).status, [], profile);

  const malformed: [string, string, Buffer][] = [
    ['certificatePolicies', '2.5.29.32', seq()],
    ['certificatePolicies', '2.5.29.32', seq(seq(tlv(0x0c, Buffer.from('not an OID'))))],
    ['policyConstraints', '2.5.29.36', seq(tlv(0x81, Buffer.from([0])), tlv(0x80, Buffer.from([0])))],
    ['inhibitAnyPolicy', '2.5.29.54', tlv(0x02, Buffer.from([0xff]))],
    ['policyMappings', '2.5.29.33', seq(seq(oid('1.3.6.1.4.1.55738.1')))],
  ];
  for (const [name, extOid, value] of malformed) {
    const ica = await generateCertificate({ ...base, subject: `CN=Bad ${name}`, issuer: by(ca), ca: {}, extraExtensions: [{ oid: extOid, critical: true, value }] });
    const leaf = await generateCertificate({ ...base, subject: 'CN=Leaf', issuer: by(ica) });
    const r = verifyChain(leaf.certificate, { anchors: [ca.certificate], intermediates: [ica.certificate] });
    assert.ok(r.status.includes('InvalidExtension'), `${name} ${value.toString('hex')}: ${r.status.join()}`);
  }
});
