import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateCache, parseCertificates, verifyChain, type Certificate } from './index.js';
import { GatehouseError } from '../core/errors.js';

const F = new URL('../../test/fixtures/bosma-certificates/', import.meta.url).pathname;
const pem = (name: string) => parseCertificates(readFileSync(join(F, name)), { origin: name });
const [root] = pem('root-ca.cer') as [Certificate];
const [devInt] = pem('dev-intermediate-ca.cer') as [Certificate];
const [dev01] = pem('dev-client-01.cer') as [Certificate];
const [dev02] = pem('dev-client-02.cer') as [Certificate];
const [tst01] = pem('tst-client-01.cer') as [Certificate];
const AT = new Date('2025-06-01T00:00:00Z');

test('CertificateCache: the same bytes give the same Certificate; a copy of the bytes too', () => {
  const cache = new CertificateCache(4);
  const a = cache.fromDer(Buffer.from(dev01.der));
  const b = cache.fromDer(new Uint8Array(dev01.der)); // a plain Uint8Array copy
  assert.equal(a, b);
  assert.equal(a.thumbprint, dev01.thumbprint);
  assert.notEqual(cache.fromDer(dev02.der), a);
  assert.deepEqual(cache.stats(), { hits: 1, misses: 2, size: 2 });
});

test('CertificateCache: keeps a private copy of the bytes (the caller may overwrite its buffer)', () => {
  const cache = new CertificateCache(4);
  const buf = Buffer.from(dev01.der);
  const a = cache.fromDer(buf);
  buf.fill(0);
  assert.equal(a.der.equals(dev01.der), true);
  assert.equal(cache.fromDer(Buffer.from(dev01.der)), a);
});

test('CertificateCache: bounded, least recently used dropped first', () => {
  const cache = new CertificateCache(2);
  const a = cache.fromDer(dev01.der);
  cache.fromDer(dev02.der);
  assert.equal(cache.fromDer(dev01.der), a); // dev01 now most recent
  cache.fromDer(tst01.der); // evicts dev02
  assert.equal(cache.size, 2);
  assert.equal(cache.fromDer(dev01.der), a);
  const before = cache.stats().misses;
  cache.fromDer(dev02.der);
  assert.equal(cache.stats().misses, before + 1);
  assert.equal(cache.size, 2);
  assert.throws(() => new CertificateCache(0), RangeError);
});

test('CertificateCache: malformed bytes throw GH_PKI_* and are not cached', () => {
  const cache = new CertificateCache(2);
  const bad = Buffer.from(dev01.der.subarray(0, 100));
  for (let i = 0; i < 2; i++) {
    assert.throws(() => cache.fromDer(bad), (e: unknown) => e instanceof GatehouseError && /^GH_PKI_/.test(e.code));
  }
  assert.equal(cache.size, 0);
});

test('CertificateCache: verifyChain on a cached certificate gives the same result every time (and at other times)', () => {
  const cache = new CertificateCache();
  const opts = { anchors: [root], intermediates: [devInt], requireClientAuth: true };
  for (let i = 0; i < 3; i++) {
    const r = verifyChain(cache.fromDer(Buffer.from(dev01.der)), { ...opts, at: AT });
    assert.equal(r.valid, true);
    assert.deepEqual(r.chain.map((c) => c.subject), ['CN=Client 01', 'CN=APIM Sample DEV Intermediate CA', 'CN=APIM Sample Root CA']);
  }
  // The time is checked on every call, not cached with the signatures.
  const late = verifyChain(cache.fromDer(dev01.der), { ...opts, at: new Date('2200-01-01T00:00:00Z') });
  assert.equal(late.valid, false);
  assert.ok(late.status.includes('NotTimeValid'));
  // A certificate not signed by the intermediate does not become valid through the cache.
  assert.equal(verifyChain(cache.fromDer(tst01.der), { ...opts, at: AT }).valid, false);
});

test('CertificateCache.verifyChain: remembered per leaf, store and purpose; the same answers as verifyChain', () => {
  const cache = new CertificateCache(4);
  const anchors = [root];
  const intermediates = [devInt];
  for (const leaf of [dev01, dev02, tst01]) {
    for (const requireServerAuth of [false, true]) {
      const want = verifyChain(leaf, { anchors, intermediates, at: AT, requireServerAuth });
      for (let i = 0; i < 3; i++) {
        const got = cache.verifyChain(leaf, { anchors, intermediates, at: AT, requireServerAuth });
        assert.equal(got.valid, want.valid);
        assert.deepEqual(got.status, want.status);
        assert.deepEqual(got.chain.map((c) => c.sha256), want.chain.map((c) => c.sha256));
      }
    }
  }
  // Each (leaf, purpose) searched once; a switch of purpose replaces the entry of that leaf.
  assert.deepEqual(cache.chainStats(), { hits: 12, misses: 6, size: 3 });
  assert.equal(cache.verifyChain(dev01, { anchors: [devInt], at: AT }).valid, true, 'another anchors array is another store');
  assert.equal(cache.verifyChain(dev01, { anchors, at: AT }).valid, false, 'without the intermediates the chain is partial');
  assert.equal(cache.stats().misses, 0, 'the cache\'s own lookups are not counted as the caller\'s');
});
