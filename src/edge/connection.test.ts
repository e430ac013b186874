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

test('ConnectionInfo.peerCertificate: the leaf and the chain the client sent, over real TLS', async () => {
  const { createServer, connect } = await import('node:tls');
  const { ConnectionInfo } = await import('./connection.js');
  const { generateCertificate, loadCertificates } = await import('../pki/index.js');
  const client = await loadCertificates(readFileSync(join(F, 'dev-client-01.pfx')), { origin: 'dev-client-01.pfx', password: 'P@ssw0rd' });
  const devInt = readFileSync(join(F, 'dev-intermediate-ca.cer'), 'utf8');
  const server = await generateCertificate({ subject: 'CN=conn.test', dnsNames: ['conn.test'], keyAlgorithm: 'ec-p256', extendedKeyUsage: ['serverAuth'], notAfter: new Date(Date.now() + 86_400_000) });
  const cache = new PeerCertificateCache(4);
  const seen: { leaf: string; sent: string[] }[] = [];
  const s = createServer({ cert: server.certificate.toPem(), key: server.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, requestCert: true, rejectUnauthorized: false }, (sock) => {
    const info = new ConnectionInfo(sock, 443, sock, 'l', cache).peerCertificate();
    seen.push({ leaf: info?.certificate.subject ?? '-', sent: info?.sent.map((c) => c.subject) ?? [] });
    sock.end();
  });
  try {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    for (const chain of [client.certificates[0]!.toPem() + devInt, client.certificates[0]!.toPem()]) {
      await new Promise<void>((resolve, reject) => {
        const c = connect({ port, host: '127.0.0.1', servername: 'conn.test', rejectUnauthorized: false, cert: chain, key: client.privateKeyPem!, timeout: 10_000 });
        c.on('error', reject);
        c.on('timeout', () => c.destroy(new Error('timed out')));
        c.on('close', () => resolve());
        c.resume();
      });
    }
  } finally {
    s.close();
  }
  assert.deepEqual(seen, [
    { leaf: 'CN=Client 01', sent: ['CN=APIM Sample DEV Intermediate CA'] },
    { leaf: 'CN=Client 01', sent: [] },
  ]);
  assert.equal(cache.certificates.stats().hits, 1);
});
