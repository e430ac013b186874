/**
 * `gatehouse check` on the seed example: the finished deployment passes; the post's state before
 * "Plugging the security hole" fails with a finding at the HTTPS listener's routing rule; and the
 * hole's relatives (issuer DN not pinned, API Management reachable directly, a policy that trusts
 * the header without validating it) are each found.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { copyExample, createWorkspace, type Workspace } from '../helpers/example.js';

let ws: Workspace;
let n = 0;

/** A copy of the seed example with an edit applied to one of its files. */
function variant(edit?: { file: string; from: string | RegExp; to: string }): string {
  const dir = copyExample(ws, 'apim-behind-agw', `example-${n++}`);
  if (edit) {
    const path = join(dir, edit.file);
    const text = readFileSync(path, 'utf8');
    const next = text.replace(edit.from, edit.to);
    assert.notEqual(next, text, `the edit of ${edit.file} changed nothing`);
    writeFileSync(path, next);
  }
  return dir;
}

function lineOf(file: string, needle: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;
}

before(async () => {
  ws = await createWorkspace('gh-check-');
});
after(() => rmSync(ws.dir, { recursive: true, force: true }));

test('the finished seed deployment has no error findings', async () => {
  const r = await runCli(['check', variant()]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /: error /);
});

test('before "Plugging the security hole": a forgeable X-ARR-ClientCert at the HTTPS listener\'s routing rule', async () => {
  const dir = variant();
  const r = await runCli(['check', dir, '--param', 'removeClientCertHeaderOnHttpsListener=false'], { cwd: dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const line = lineOf(join(dir, 'application-gateway/application-gateway.bicep'), "name: 'apim-https-routing-rule'");
  assert.match(r.stdout, new RegExp(`^application-gateway/application-gateway\\.bicep:${line}:\\d+: error GH_CHECK_FORGEABLE_HEADER .*routing rule 'apim-https-routing-rule' \\(listener 'https-listener'.*X-ARR-ClientCert`, 'm'));
  assert.match(r.stdout, /hint: link a rewrite rule set to 'apim-https-routing-rule' that removes the header/);
  assert.doesNotMatch(r.stdout, /apim-mtls-routing-rule/, 'the mTLS listener sets the header and is not a finding');
});

test('verifyClientCertIssuerDN false: the TST intermediate under the same root would be accepted', async () => {
  const dir = variant({ file: 'application-gateway/application-gateway.bicep', from: 'verifyClientCertIssuerDN: true', to: 'verifyClientCertIssuerDN: false' });
  const r = await runCli(['check', dir], { cwd: dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /error GH_CHECK_ISSUER_DN_NOT_PINNED .*'mtls-ssl-profile'.*CN=APIM Sample DEV Intermediate CA.*CN=APIM Sample TST Intermediate CA/);
});

test('API Management outside the virtual network is reachable around the gateway', async () => {
  const dir = variant({ file: 'api-management/api-management.bicep', from: "virtualNetworkType: 'Internal'", to: "virtualNetworkType: 'External'" });
  const r = await runCli(['check', dir], { cwd: dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /error GH_CHECK_APIM_REACHABLE_DIRECTLY apim-sample: virtualNetworkType is 'External'/);
});

test('a policy that trusts the header without validating the certificate', async () => {
  const dir = variant({
    file: 'api-management/validate-from-agw.operation.cshtml',
    from: /return certificate\.VerifyNoRevocation\(\) &&\s*context\.Deployment\.Certificates\.Any\(c => c\.Value\.Thumbprint == certificate\.Thumbprint\);/,
    to: 'return certificate.Subject == "CN=Client 01";',
  });
  const r = await runCli(['check', dir], { cwd: dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^api-management\/validate-from-agw\.operation\.cshtml:\d+:\d+: error GH_CHECK_UNVALIDATED_CERT_HEADER /m);
});

test('an NSG rule that opens API Management\'s subnet to the Internet', async () => {
  const dir = variant({
    file: 'virtual-network/virtual-network.bicep',
    from: "    securityRules: [\n",
    to: "    securityRules: [\n      {\n        name: 'allow-https-from-internet'\n        properties: {\n          access: 'Allow'\n          sourcePortRange: '*'\n          destinationPortRange: '443'\n          direction: 'Inbound'\n          protocol: 'TCP'\n          sourceAddressPrefix: 'Internet'\n          destinationAddressPrefix: 'VirtualNetwork'\n          priority: 100\n        }\n      }\n",
  });
  const r = await runCli(['check', dir], { cwd: dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^virtual-network\/virtual-network\.bicep:\d+:\d+: error GH_CHECK_APIM_REACHABLE_DIRECTLY .*rule 'allow-https-from-internet' allows Internet/m);
});
