/**
 * The service's CA stores (properties.certificates[]) take one certificate per entry, as Azure
 * does: a bundle in a Root entry makes only its first certificate a trust anchor, with a warning
 * that names the entry.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '../../src/core/logger.js';
import { loadServiceCertificates, startApiManagement, type RunningApim } from '../../src/apim/index.js';
import type { Diagnostic } from '../../src/core/diagnostics.js';
import { httpsRequest } from '../helpers/https.js';
import { base64Of, fixture, makeServerTls, modelOf, res, seedService, type ServerTls } from './apim-support.js';

const HOST = 'apim-sample.azure-api.net';
const pem = (name: string) => fixture(name).toString('utf8').trim() + '\n';
// A Root entry holding the root and the TST intermediate; the DEV intermediate has its own CertificateAuthority entry.
const bundle = Buffer.from(pem('root-ca.cer') + pem('tst-intermediate-ca.cer')).toString('base64');
const certificates = [
  { encodedCertificate: bundle, storeName: 'Root' },
  { encodedCertificate: base64Of('dev-intermediate-ca.cer'), storeName: 'CertificateAuthority' },
];

const policy = `<policies><inbound><base/>
  <validate-client-certificate validate-revocation="false" validate-trust="true" validate-not-before="true" validate-not-after="true" ignore-error="false" />
  <return-response><set-status code="200"/><set-body>@(context.Request.Certificate.Subject)</set-body></return-response>
</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`;

function resources() {
  return [
    ...seedService('apim-sample', { certificates }),
    res('apis/operations', 'apim-sample/client-cert-api/who', { method: 'GET', urlTemplate: '/who' }),
    res('apis/operations/policies', 'apim-sample/client-cert-api/who/policy', { format: 'rawxml', value: policy }),
  ];
}

describe('API Management CA stores: one certificate per entry', () => {
  let tls: ServerTls;
  let apim: RunningApim;
  const logger = memoryLogger();

  before(async () => {
    tls = makeServerTls([HOST]);
    apim = await startApiManagement(modelOf(resources()), { tls: { cert: tls.cert, key: tls.key }, portMap: new Map([[443, 0]]), logger });
  });
  after(async () => {
    await apim?.close();
    tls?.cleanup();
  });

  test('only the first certificate of a Root entry is a trust anchor; the rest are reported, with the entry', async () => {
    const diagnostics: Diagnostic[] = [];
    const store = await loadServiceCertificates(modelOf(resources()), diagnostics);
    assert.deepEqual(store.trustedRoots.map((c) => c.subject), ['CN=APIM Sample Root CA']);
    assert.deepEqual(store.intermediates.map((c) => c.subject), ['CN=APIM Sample DEV Intermediate CA']);
    assert.equal(diagnostics.length, 1);
    const d = diagnostics[0]!;
    assert.equal(d.severity, 'warning');
    assert.equal(d.code, 'GH_APIM_CERTIFICATE');
    assert.match(d.path ?? '', /properties\.certificates\[0\]$/);
    assert.match(d.message, /Root store entry holds 2 certificates; only the first \(CN=APIM Sample Root CA, thumbprint [0-9A-F]{40}\) is used.*Ignored: CN=APIM Sample TST Intermediate CA/);
    assert.ok(logger.records.some((r) => r.level === 'warn' && r.code === 'GH_APIM_CERTIFICATE'), 'the running service logs the warning');
  });

  test('a client certificate issued by the ignored intermediate is not trusted; one chaining to the root through a CertificateAuthority entry is', async () => {
    const get = (pfx: string) => httpsRequest({ port: apim.localPort, path: '/client-cert/who', host: HOST, ca: tls.cert, pfx: fixture(pfx) });
    const dev = await get('dev-client-01.pfx');
    assert.equal(dev.status, 200, dev.body);
    assert.equal(dev.body, 'CN=Client 01');
    const tst = await get('tst-client-01.pfx');
    assert.equal(tst.status, 401, tst.body);
    assert.match(tst.body, /Invalid client certificate/);
  });
});
