/**
 * X509Certificate2.Verify() and VerifyNoRevocation() against the deployment's stores: the answers,
 * and that a service's CertificateCache keeps them, so the path is not searched on every request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from '../../core/source.js';
import { CertificateCache, certificateFromDer, generateCertificate, parseCertificates, type Certificate } from '../../pki/index.js';
import { compileExpression, type CompiledExpression } from '../index.js';
import { makeTestHost, type TestHostOptions } from '../testing.js';

const fx = join(import.meta.dirname, '../../../test/fixtures/bosma-certificates');
const load = (f: string): Certificate => parseCertificates(readFileSync(join(fx, f)), { origin: f })[0]!;
const client01 = load('dev-client-01.cer');
const tstClient01 = load('tst-client-01.cer');
const root = load('root-ca.cer');
const devIntermediate = load('dev-intermediate-ca.cer');
const AT = new Date('2025-06-01T12:00:00Z');

function compile(src: string): CompiledExpression {
  const r = compileExpression(src, { file: new SourceFile('t.xml', src), offset: 0 });
  assert.deepEqual(r.diagnostics, []);
  return r.expression!;
}
const verifyNoRevocation = compile('@(context.Request.Certificate.VerifyNoRevocation())');
const verify = compile('@(context.Request.Certificate.Verify())');

test('VerifyNoRevocation() on every request searches the chain once per certificate and store (the service cache keeps the result)', () => {
  const cache = new CertificateCache(16);
  const store = { trustedRoots: [root], intermediates: [devIntermediate], certificateCache: cache };
  for (let i = 0; i < 50; i++) {
    // Each request parses its own copy, as a new TLS connection does.
    const host = makeTestHost({ ...store, certificate: certificateFromDer(Buffer.from(client01.der)), now: new Date(AT.getTime() + i * 60_000) });
    assert.equal(verifyNoRevocation.evaluate(host), true);
    assert.equal(verify.evaluate(host), false, 'offline, a certificate below the root has RevocationStatusUnknown');
  }
  const other = makeTestHost({ ...store, certificate: certificateFromDer(Buffer.from(tstClient01.der)), now: AT });
  for (let i = 0; i < 5; i++) assert.equal(verifyNoRevocation.evaluate(other), false);
  assert.deepEqual(cache.chainStats(), { hits: 53, misses: 2, size: 2 });
  // Another trust store (a reloaded service passes new arrays) is not answered from the old one's results.
  assert.equal(verifyNoRevocation.evaluate(makeTestHost({ trustedRoots: [], intermediates: [devIntermediate], certificateCache: cache, certificate: client01, now: AT })), false);
});

test('the remembered answers follow the validity of every certificate involved, in both directions of time', async () => {
  const t0 = Date.UTC(2030, 0, 1);
  const day = 86_400_000;
  const ca = await generateCertificate({ subject: 'CN=Windowed Root', notBefore: new Date(t0), notAfter: new Date(t0 + 100 * day), ca: {}, keyAlgorithm: 'ec-p256' });
  // The intermediate becomes valid on day 10 and expires at the end of day 40 (plus a second: notAfter is inclusive).
  const mid = await generateCertificate({ subject: 'CN=Windowed Intermediate', issuer: ca, notBefore: new Date(t0 + 10 * day), notAfter: new Date(t0 + 40 * day), ca: {}, keyAlgorithm: 'ec-p256' });
  const leaf = await generateCertificate({ subject: 'CN=Windowed Leaf', issuer: mid, notBefore: new Date(t0), notAfter: new Date(t0 + 90 * day), keyAlgorithm: 'ec-p256', extendedKeyUsage: ['clientAuth'] });
  const cache = new CertificateCache(4);
  const store: TestHostOptions = { trustedRoots: [ca.certificate], intermediates: [mid.certificate], certificateCache: cache, certificate: leaf.certificate };
  const at = (ms: number) => verifyNoRevocation.evaluate(makeTestHost({ ...store, now: new Date(t0 + ms) })) as boolean;
  const expected: [number, boolean][] = [
    [5 * day, false], [10 * day - 1000, false], [10 * day, true], [20 * day, true], [40 * day, true], [40 * day + 999, true],
    [40 * day + 1000, false], [5 * day, false], [39 * day, true], [95 * day, false], [20 * day, true],
  ];
  for (const [ms, want] of expected) assert.equal(at(ms), want, `day ${ms / day}`);
  // Verify() on the Root-store certificate itself: trusted as it stands, while it is valid.
  const self = (ms: number) => verify.evaluate(makeTestHost({ ...store, certificate: ca.certificate, now: new Date(t0 + ms) }));
  assert.equal(self(50 * day), true);
  assert.equal(self(101 * day), false);
  assert.equal(self(50 * day), true);
});

test('without a service cache the answers are the same', () => {
  const base = { trustedRoots: [root], intermediates: [devIntermediate], now: AT };
  assert.equal(verifyNoRevocation.evaluate(makeTestHost({ ...base, certificate: client01 })), true);
  assert.equal(verifyNoRevocation.evaluate(makeTestHost({ ...base, certificate: tstClient01 })), false);
  assert.equal(verify.evaluate(makeTestHost({ ...base, certificate: client01 })), false);
  assert.equal(verify.evaluate(makeTestHost({ ...base, certificate: root })), true);
});
