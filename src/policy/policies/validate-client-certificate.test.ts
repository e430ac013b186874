import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fixedClock } from '../../core/clock.js';
import { parseCertificates } from '../../pki/index.js';
import { inbound, runPolicy } from '../testing.js';

const dir = resolve(import.meta.dirname, '../../../test/fixtures/bosma-certificates');
const cert = (name: string) => parseCertificates(readFileSync(resolve(dir, name)), { origin: name })[0]!;
const root = cert('root-ca.cer');
const dev = cert('dev-intermediate-ca.cer');
const client1 = cert('dev-client-01.cer');
const client2 = cert('dev-client-02.cer');
const tst1 = cert('tst-client-01.cer');
const store = { trustedRoots: [root], intermediates: [dev], certificates: new Map([['dev-ca', dev], ['client-01', client1]]) };
const vcc = (identities: string, attrs = 'validate-revocation="false"') => inbound(`<validate-client-certificate ${attrs}><identities>${identities}</identities></validate-client-certificate>`);
const reason = async (policy: string, c = client1, clock = fixedClock('2030-01-01T00:00:00Z')) => {
  const r = await runPolicy(policy, { certificate: c, store, clock });
  return r.ctx.lastError?.reason ?? (r.backendRequests.length ? 'passed' : 'stopped');
};

test('every identity field matches, and only all claims of one identity count', async () => {
  const idents: [string, string][] = [
    [`<identity thumbprint="${client1.thumbprint.toLowerCase()}"/>`, 'passed'],
    [`<identity serial-number="${client1.serialNumber}"/>`, 'passed'],
    ['<identity common-name="client 01"/>', 'passed'],
    ['<identity subject="CN=Client 01"/>', 'passed'],
    ['<identity dns-name="Client 01"/>', 'passed'],
    ['<identity issuer-subject="CN=APIM Sample DEV Intermediate CA"/>', 'passed'],
    [`<identity issuer-thumbprint="${dev.thumbprint}"/>`, 'passed'],
    ['<identity issuer-certificate-id="dev-ca"/>', 'passed'],
    ['<identity issuer-certificate-id="client-01"/>', 'ClientCertificateIdentityNotMatched'],
    ['<identity subject="CN=Client 01" issuer-subject="CN=Other"/>', 'ClientCertificateIdentityNotMatched'],
    ['<identity subject="CN=Client 02"/><identity subject="CN=Client 01"/>', 'passed'],
  ];
  for (const [ids, want] of idents) assert.equal(await reason(vcc(ids)), want, ids);
});

test('failure reasons in order: missing, not yet valid, expired, untrusted, identity; ignore-error proceeds', async () => {
  const r = await runPolicy(vcc('<identity subject="CN=Client 01"/>'), { store });
  assert.equal(r.ctx.lastError?.reason, 'ClientCertificateNotFound');
  assert.equal(r.ctx.response.statusCode, 401);
  assert.equal(r.ctx.lastError?.message, 'Client certificate missing');
  assert.equal(await reason(vcc('<identity subject="CN=Client 01"/>'), client1, fixedClock('2020-01-01T00:00:00Z')), 'ClientCertificateNotYetValid');
  assert.equal(await reason(vcc('<identity subject="CN=Client 01"/>'), client1, fixedClock('2080-01-01T00:00:00Z')), 'ClientCertificateExpired');
  assert.equal(await reason(vcc('<identity subject="CN=Client 01"/>'), tst1), 'ClientCertificateNotTrusted');
  assert.equal(await reason(vcc('<identity subject="CN=Client 01"/>'), client2), 'ClientCertificateIdentityNotMatched');
  assert.equal(await reason(vcc('<identity subject="CN=Client 01"/>', 'validate-revocation="false" ignore-error="true"'), client2), 'passed');
  assert.equal(await reason(vcc('<identity subject="CN=Client 01"/>', 'validate-revocation="false" validate-not-after="false"'), client1, fixedClock('2080-01-01T00:00:00Z')), 'passed');
  assert.equal(await reason(vcc('<identity common-name="Client 01"/>', 'validate-revocation="false" validate-trust="false"'), tst1), 'passed');
});

test('without identities only the rules apply', async () => {
  assert.equal(await reason(inbound('<validate-client-certificate validate-revocation="false" />'), client2), 'passed');
});

test('the chain of a returning certificate is built once: inside its validity and, with dates not checked, outside it', async () => {
  const { createTrustCache } = await import('../trust.js');
  const inner = createTrustCache();
  let builds = 0;
  const trustCache = { get: (k: string) => inner.get(k), set: (k: string, v: Parameters<typeof inner.set>[1]) => (builds++, inner.set(k, v)) };
  const policy = vcc('<identity subject="CN=Client 01"/>', 'validate-revocation="false" validate-not-after="false"');
  const run = async (c: typeof client1, iso: string) => {
    const r = await runPolicy(policy, { certificate: c, store, clock: fixedClock(iso), trustCache });
    return r.ctx.lastError?.reason ?? 'passed';
  };
  for (let i = 0; i < 5; i++) assert.equal(await run(client1, `2030-01-0${i + 1}T00:00:00Z`), 'passed');
  assert.equal(builds, 1);
  // After the leaf expired (2074), the chain is checked in the middle of its validity: the same answer, built once.
  for (let i = 0; i < 5; i++) assert.equal(await run(client1, `2080-01-0${i + 1}T00:00:00Z`), 'passed');
  assert.equal(builds, 2);
  // Another certificate has its own entry, and an untrusted answer is kept as well.
  for (let i = 0; i < 3; i++) assert.equal(await run(tst1, '2030-01-01T00:00:00Z'), 'ClientCertificateNotTrusted');
  assert.equal(builds, 3);
});

test('a remembered chain result holds only between the validity boundaries it was checked within, in both directions of time', async () => {
  const { createTrustCache, trustOf } = await import('../trust.js');
  const { generateCertificate } = await import('../../pki/index.js');
  const t0 = Date.UTC(2030, 0, 1);
  const day = 86_400_000;
  const ca = await generateCertificate({ subject: 'CN=Trust Root', notBefore: new Date(t0), notAfter: new Date(t0 + 100 * day), ca: {}, keyAlgorithm: 'ec-p256' });
  const mid = await generateCertificate({ subject: 'CN=Trust Intermediate', issuer: ca, notBefore: new Date(t0 + 10 * day), notAfter: new Date(t0 + 40 * day), ca: {}, keyAlgorithm: 'ec-p256' });
  const leaf = await generateCertificate({ subject: 'CN=Trust Leaf', issuer: mid, notBefore: new Date(t0), notAfter: new Date(t0 + 90 * day), keyAlgorithm: 'ec-p256' });
  const cache = createTrustCache();
  const at = (d: number) => trustOf(leaf.certificate, [ca.certificate], [mid.certificate], cache, new Date(t0 + d * day)).trusted;
  // Inside the leaf's validity, the intermediate is valid only from day 10 to day 40; after the leaf
  // expired (day 90) the chain is checked in the middle of its validity, day 45, after the intermediate's.
  const expected: [number, boolean][] = [[20, true], [5, false], [20, true], [5, false], [41, false], [12, true], [95, false]];
  for (const [d, want] of expected) assert.equal(at(d), want, `day ${d}`);
});

test('issuer identities of a returning certificate check the issuer signature once, not on every request or connection', async () => {
  const { X509Certificate } = await import('node:crypto');
  const { CertificateCache, certificateFromDer } = await import('../../pki/index.js');
  const cache = new CertificateCache(8);
  const realVerify = X509Certificate.prototype.verify;
  let verifies = 0;
  X509Certificate.prototype.verify = function (this: InstanceType<typeof X509Certificate>, key) {
    verifies++;
    return realVerify.call(this, key);
  };
  try {
    const policy = vcc('<identity issuer-certificate-id="dev-ca"/>', 'validate-revocation="false" validate-trust="false"');
    for (let i = 0; i < 20; i++) {
      // Each request arrives on a new connection: its own parsed copy of the same certificate.
      const r = await runPolicy(policy, { certificate: certificateFromDer(Buffer.from(client1.der)), store, clock: fixedClock('2030-01-01T00:00:00Z'), certificateCache: cache });
      assert.equal(r.ctx.lastError?.reason, undefined);
    }
    const other = await runPolicy(policy, { certificate: certificateFromDer(Buffer.from(tst1.der)), store, clock: fixedClock('2030-01-01T00:00:00Z'), certificateCache: cache });
    assert.equal(other.ctx.lastError?.reason, 'ClientCertificateIdentityNotMatched');
  } finally {
    X509Certificate.prototype.verify = realVerify;
  }
  assert.ok(verifies <= 2, `${verifies} signature checks for 21 requests`);
});
