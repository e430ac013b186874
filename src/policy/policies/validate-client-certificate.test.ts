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
