import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticBag } from '../core/diagnostics.js';
import { generateCertificate, type GeneratedCertificate } from '../pki/index.js';
import { CompiledClientAuth, loadTrustedClientCertificate } from './clientAuth.js';

const year = 365 * 86400_000;
async function ca(name: string, issuer?: GeneratedCertificate) {
  return generateCertificate({ subject: `CN=${name}`, keyAlgorithm: 'ec-p256', notAfter: new Date(Date.now() + year), ca: {}, ...(issuer ? { issuer: { certificate: issuer.certificate, privateKey: issuer.privateKey } } : {}) });
}
async function leaf(name: string, issuer: GeneratedCertificate, notAfter = new Date(Date.now() + year)) {
  return generateCertificate({ subject: `CN=${name}`, keyAlgorithm: 'ec-p256', notAfter, extendedKeyUsage: ['clientAuth'], issuer: { certificate: issuer.certificate, privateKey: issuer.privateKey } });
}
const pem = (...cs: GeneratedCertificate[]) => cs.map((c) => c.certificate.toPem()).join('');

let root: GeneratedCertificate, root2: GeneratedCertificate, int1: GeneratedCertificate, int2: GeneratedCertificate, int3: GeneratedCertificate, leaf1: GeneratedCertificate, leaf2: GeneratedCertificate;
before(async () => {
  root = await ca('Root');
  root2 = await ca('Root Two');
  int1 = await ca('Int1', root);
  int2 = await ca('Int2', root);
  int3 = await ca('Int3', int2);
  leaf1 = await leaf('Leaf1', int1);
  leaf2 = await leaf('Leaf2', int3);
});

const load = (data: string) => {
  const bag = new DiagnosticBag();
  const chain = loadTrustedClientCertificate({ name: 'tc', data, path: 'properties.trustedClientCertificates[0].properties.data' }, bag);
  return { chain, bag };
};

test('issuer DN scenarios of the Azure docs (spec 1.4)', () => {
  assert.equal(load(pem(root, int1, leaf1)).chain!.clientCertIssuerDN, 'CN=Int1'); // 1
  assert.equal(load(pem(int3, int2, root)).chain!.clientCertIssuerDN, 'CN=Int3'); // 2 (any order)
  assert.equal(load(pem(root, leaf1)).chain!.clientCertIssuerDN, 'CN=Root'); // 3: the leaf is ignored
  assert.equal(load(pem(int1, int2, root)).chain!.clientCertIssuerDN, 'CN=Int1'); // 4: same length, first chain
  assert.equal(load(pem(int1, root, int2, int3)).chain!.clientCertIssuerDN, 'CN=Int3'); // 5: longest chain
});

test('upload checks with the Azure error codes', () => {
  const code = (data: string) => load(data).bag.errors.map((d) => d.message.split(': ')[1]);
  assert.deepEqual(code(''), ['ApplicationGatewayTrustedClientCertificateMustSpecifyData']);
  assert.deepEqual(code(pem(root) + leaf1.privateKeyPem), ['ApplicationGatewayTrustedClientCertificateMustNotHavePrivateKey']);
  assert.deepEqual(code('not a certificate'), ['ApplicationGatewayTrustedClientCertificateInvalidData']);
  assert.deepEqual(code(pem(leaf1)), ['ApplicationGatewayTrustedClientCertificateDoesNotContainAnyCACertificate']);
  assert.deepEqual(code(pem(root, root2)), ['ApplicationGatewayOnlyOneRootCAAllowedInTrustedClientCertificate']);
  assert.deepEqual(code(pem(int1)), ['ApplicationGatewayOnlyOneRootCAAllowedInTrustedClientCertificate']);
  assert.deepEqual(code(pem(int1, root, leaf1)), []);
  assert.equal(load('').bag.errors[0]!.path, 'properties.trustedClientCertificates[0].properties.data');
});

test('verification: chain, expiry, issuer DN', async () => {
  const chain = load(pem(int1, root)).chain!;
  const strictDN = new CompiledClientAuth({ name: 'p', trustedClientCertificates: ['tc'] }, { verifyClientCertIssuerDN: true, verifyClientRevocation: 'None', verifyClientAuthMode: 'Strict' }, [chain]);
  const loose = new CompiledClientAuth({ name: 'p', trustedClientCertificates: ['tc'] }, { verifyClientCertIssuerDN: false, verifyClientRevocation: 'None', verifyClientAuthMode: 'Strict' }, [chain]);
  const now = new Date();
  const good = strictDN.verify(leaf1.certificate, [], now);
  assert.equal(good.ok, true);
  assert.equal(good.sslClientVerify, 'SUCCESS');
  assert.equal(good.ok && good.issuer?.subject, 'CN=Int1');
  // A sibling intermediate under the same root, sent by the client: the chain is valid, the DN is not.
  const sibling = await leaf('Sibling', int2);
  assert.equal(loose.verify(sibling.certificate, [int2.certificate], now).ok, true);
  const v = strictDN.verify(sibling.certificate, [int2.certificate], now);
  assert.equal(v.ok, false);
  assert.equal(!v.ok && v.reason, 'client_cert_issuer_dn_mismatch');
  // Expired (checked at a later time).
  const later = new Date(Date.now() + 2 * year);
  const exp = strictDN.verify(leaf1.certificate, [], later);
  assert.equal(!exp.ok && exp.reason, 'client_cert_expired');
  assert.equal(!exp.ok && exp.sslClientVerify, 'FAILED:certificate has expired');
  // Untrusted.
  const other = await leaf('Other', await ca('Other Root'));
  const u = strictDN.verify(other.certificate, [], now);
  assert.equal(!u.ok && u.reason, 'client_cert_untrusted');
});
