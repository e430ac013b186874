import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificates, type Certificate } from '../pki/index.js';
import { PeerCertificateCache } from './connection.js';

const F = new URL('../../test/fixtures/bosma-certificates/', import.meta.url).pathname;
const [dev01] = parseCertificates(readFileSync(join(F, 'dev-client-01.cer')), { origin: 'dev-client-01.cer' }) as [Certificate];

test('PeerCertificateCache: one Certificate and one set of log values per client certificate', () => {
  const cache = new PeerCertificateCache(4);
  const a = cache.certificates.fromDer(Buffer.from(dev01.der));
  const b = cache.certificates.fromDer(Buffer.from(dev01.der));
  assert.equal(a, b);
  const n = cache.namesOf(a);
  assert.equal(cache.namesOf(b), n);
  const x = new X509Certificate(dev01.der);
  assert.deepEqual(n, {
    escapedPem: readFileSync(join(F, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8').trim(),
    fingerprint: createHash('sha1').update(dev01.der).digest('hex'),
    subject: x.subject.split('\n').reverse().join(','),
    issuer: 'CN=APIM Sample DEV Intermediate CA',
    serial: x.serialNumber.toUpperCase(),
    startDate: x.validFrom,
    endDate: x.validTo,
  });
});
