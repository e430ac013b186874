/**
 * The seed's policy expressions (validate-from-agw, both versions; validate-using-context) against
 * hand-built HostContexts with the seed author's real certificates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from '../core/source.js';
import { sign } from 'node:crypto';
import { CertificateCache, loadCertificates, parseCertificates, type Certificate } from '../pki/index.js';
import { compileExpression, ExpressionError, type CompiledExpression } from './index.js';
import { makeTestHost, type TestHostOptions } from './testing.js';

const fx = join(import.meta.dirname, '../../test/fixtures/bosma-certificates');
const load = (f: string): Certificate => parseCertificates(readFileSync(join(fx, f)), { origin: f })[0]!;
const client01 = load('dev-client-01.cer');
const client02 = load('dev-client-02.cer');
const tstClient01 = load('tst-client-01.cer');
const root = load('root-ca.cer');
const devIntermediate = load('dev-intermediate-ca.cer');
const tstIntermediate = load('tst-intermediate-ca.cer');
const forwarded01 = readFileSync(join(fx, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8');

const VALIDATE_FROM_AGW = `<policies>
  <inbound>
  <base />
  <choose>
    <when condition="@{
      var clientCertHeader = context.Request.Headers.GetValueOrDefault("X-ARR-ClientCert");

      // Return false if the certificate was not forwarded in the header
      if (string.IsNullOrWhiteSpace(clientCertHeader))
      {
          return false;
      }

      // Decode the header value (e.g. replace %20 with a whitespace) and remove the begin and end certificate markers.
      // The result is the base64 encoded certificate in X.509 (.cer) format without the private key.
      var pem = System.Net.WebUtility.UrlDecode(clientCertHeader)
                                     .Replace("-----BEGIN CERTIFICATE-----", "")
                                     .Replace("-----END CERTIFICATE-----", "");

      // Convert the base64 encoded certificate to a byte[] and create an X509Certificate2 instance
      var certificate = new X509Certificate2(Convert.FromBase64String(pem));

      // Check that the certificate is valid and matches one of the uploaded client certificates
      return certificate.VerifyNoRevocation() &&
             context.Deployment.Certificates.Any(c => c.Value.Thumbprint == certificate.Thumbprint);
    }">
      <return-response>
        <set-status code="200" />
        <set-body>@(context.Request.Headers.GetValueOrDefault("X-ARR-ClientCert"))</set-body>
      </return-response>
    </when>
  </choose>
  </inbound>
</policies>`;

const FIRST_VERSION = `<set-body>@(context.Request.Headers.GetValueOrDefault("X-ARR-ClientCert", "No client certificate passed"))</set-body>`;

const VALIDATE_USING_CONTEXT = `<choose>
    <when condition="@(context.Request.Certificate == null)">
        <return-response><set-status code="401" reason="Client certificate missing" /></return-response>
    </when>
    <when condition="@(!context.Request.Certificate.VerifyNoRevocation())">
        <return-response><set-status code="401" reason="Invalid client certificate" /></return-response>
    </when>
    <when condition="@(!context.Deployment.Certificates.Any(c => c.Value.Thumbprint == context.Request.Certificate.Thumbprint))">
        <return-response><set-status code="401" reason="Invalid client certificate" /></return-response>
    </when>
</choose>`;

/** Every @(…)/@{…} in a policy text, compiled with its offset (a small scanner: enough for these fixtures). */
function expressionsOf(path: string, text: string): { text: string; offset: number; compiled: CompiledExpression }[] {
  const file = new SourceFile(path, text);
  const out: { text: string; offset: number; compiled: CompiledExpression }[] = [];
  for (let i = text.indexOf('@'); i >= 0; i = text.indexOf('@', i + 1)) {
    const open = text[i + 1];
    if (open !== '(' && open !== '{') continue;
    const close = open === '(' ? ')' : '}';
    let depth = 0;
    let j = i + 1;
    let inStr = false;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"' && open === '(') inStr = true;
      if (c === open) depth++;
      else if (c === close && --depth === 0) break;
    }
    const src = text.slice(i, j + 1);
    const r = compileExpression(src, { file, offset: i });
    assert.deepEqual(r.diagnostics, [], `${path}: ${src}`);
    out.push({ text: src, offset: i, compiled: r.expression! });
    i = j;
  }
  return out;
}

const deployment: TestHostOptions = { certificates: { 'dev-client-01': client01 }, trustedRoots: [root], intermediates: [devIntermediate, tstIntermediate] };

test('validate-from-agw (final version): dev-client-01 forwarded by the gateway passes', () => {
  const [condition, body] = expressionsOf('validate-from-agw.operation.cshtml', VALIDATE_FROM_AGW);
  assert.equal(client01.thumbprint, 'B4AF863C2AB64C4FFEFB85E6A805A5346A8B0105');
  const host = makeTestHost({ ...deployment, headers: { 'X-ARR-ClientCert': forwarded01 } });
  assert.equal(condition!.compiled.evaluate(host), true);
  assert.equal(body!.compiled.evaluate(host), forwarded01);
});

test('validate-from-agw with the service certificate cache: same answers, one parse per certificate', () => {
  const [condition, body] = expressionsOf('validate-from-agw.operation.cshtml', VALIDATE_FROM_AGW);
  const cache = new CertificateCache(8);
  for (let i = 0; i < 3; i++) {
    const host = makeTestHost({ ...deployment, certificateCache: cache, headers: { 'X-ARR-ClientCert': forwarded01 } });
    assert.equal(condition!.compiled.evaluate(host), true);
    assert.equal(body!.compiled.evaluate(host), forwarded01);
    assert.equal(condition!.compiled.evaluate(makeTestHost({ ...deployment, certificateCache: cache, headers: { 'X-ARR-ClientCert': client02.toEscapedPem() } })), false);
    assert.equal(condition!.compiled.evaluate(makeTestHost({ ...deployment, certificateCache: cache, trustedRoots: [], headers: { 'X-ARR-ClientCert': forwarded01 } })), false);
  }
  assert.equal(cache.stats().misses, 2);
  assert.ok(cache.stats().hits >= 7);
});

test('validate-from-agw: dev-client-02 (trusted chain, not uploaded) fails', () => {
  const [condition] = expressionsOf('validate-from-agw.operation.cshtml', VALIDATE_FROM_AGW);
  const host = makeTestHost({ ...deployment, headers: { 'X-ARR-ClientCert': client02.toEscapedPem() } });
  assert.equal(condition!.compiled.evaluate(host), false);
});

test('validate-from-agw: a missing or blank header fails', () => {
  const [condition] = expressionsOf('validate-from-agw.operation.cshtml', VALIDATE_FROM_AGW);
  assert.equal(condition!.compiled.evaluate(makeTestHost(deployment)), false);
  assert.equal(condition!.compiled.evaluate(makeTestHost({ ...deployment, headers: { 'X-ARR-ClientCert': '  ' } })), false);
});

test('validate-from-agw: an uploaded certificate whose chain is not trusted fails', () => {
  const [condition] = expressionsOf('validate-from-agw.operation.cshtml', VALIDATE_FROM_AGW);
  const untrusted = makeTestHost({ certificates: { 'dev-client-01': client01 }, trustedRoots: [], intermediates: [devIntermediate], headers: { 'X-ARR-ClientCert': forwarded01 } });
  assert.equal(condition!.compiled.evaluate(untrusted), false);
  const tst = makeTestHost({ ...deployment, certificates: { 'dev-client-01': client01 }, headers: { 'X-ARR-ClientCert': tstClient01.toEscapedPem() } });
  assert.equal(condition!.compiled.evaluate(tst), false);
});

test('validate-from-agw: garbage in the header is a FormatException with the .NET message and the file position', () => {
  const [condition] = expressionsOf('validate-from-agw.operation.cshtml', VALIDATE_FROM_AGW);
  const host = makeTestHost({ ...deployment, headers: { 'X-ARR-ClientCert': 'not a certificate!' } });
  assert.throws(
    () => condition!.compiled.evaluate(host),
    (e: unknown) => {
      assert.ok(e instanceof ExpressionError);
      assert.equal(e.code, 'GH_EXPR_RUNTIME');
      assert.equal(e.exceptionType, 'System.FormatException');
      assert.match(e.dotNetMessage, /not a valid Base-64 string/);
      assert.equal(e.reason, 'ExpressionValueEvaluationFailure');
      // the FromBase64String call inside the policy file
      const lines = VALIDATE_FROM_AGW.split('\n');
      assert.equal(e.line, lines.findIndex((l) => l.includes('FromBase64String')) + 1);
      assert.equal(e.column, lines[e.line! - 1]!.indexOf('FromBase64String') + 1);
      return true;
    },
  );
});

test('validate-from-agw (first version): echoes the header or says none was passed', () => {
  const [body] = expressionsOf('validate-from-agw.operation.cshtml', FIRST_VERSION);
  assert.equal(body!.compiled.evaluate(makeTestHost({ headers: { 'X-ARR-ClientCert': forwarded01 } })), forwarded01);
  assert.equal(body!.compiled.evaluate(makeTestHost({})), 'No client certificate passed');
  // several values of one header are joined with ','
  assert.equal(body!.compiled.evaluate(makeTestHost({ headers: { 'X-ARR-ClientCert': ['a', 'b'] } })), 'a,b');
});

test('validate-using-context: missing, untrusted, not uploaded and valid certificates', () => {
  const [missing, untrusted, notUploaded] = expressionsOf('validate-using-context.operation.cshtml', VALIDATE_USING_CONTEXT);
  const run = (cert: Certificate | undefined) => {
    const host = makeTestHost({ ...deployment, certificate: cert });
    if (missing!.compiled.evaluate(host) === true) return 'Client certificate missing';
    if (untrusted!.compiled.evaluate(host) === true) return 'Invalid client certificate (chain)';
    if (notUploaded!.compiled.evaluate(host) === true) return 'Invalid client certificate';
    return 'OK';
  };
  assert.equal(run(undefined), 'Client certificate missing');
  assert.equal(run(client01), 'OK');
  assert.equal(run(client02), 'Invalid client certificate');
  const host = makeTestHost({ certificates: { 'dev-client-01': client01 }, certificate: client01 });
  assert.equal(untrusted!.compiled.evaluate(host), true, 'no trusted root: the chain does not validate');
});

test('X509Certificate2 members the cheat-sheet uses', () => {
  const file = new SourceFile('x.xml', '');
  const ev = (src: string) => {
    const r = compileExpression(src, { file, offset: 0 });
    assert.deepEqual(r.diagnostics, []);
    return r.expression!.evaluate(makeTestHost({ ...deployment, certificate: client01 }));
  };
  assert.equal(ev('@(context.Request.Certificate.Thumbprint)'), 'B4AF863C2AB64C4FFEFB85E6A805A5346A8B0105');
  assert.equal(ev('@(context.Request.Certificate.SubjectName.Name)'), client01.subject);
  assert.equal(ev('@(context.Request.Certificate.Issuer)'), client01.issuer);
  assert.equal(ev('@(context.Request.Certificate.NotAfter > DateTime.UtcNow)'), true);
  // Verify() checks revocation, which cannot be done offline: RevocationStatusUnknown → false, as .NET does offline
  assert.equal(ev('@(context.Request.Certificate.Verify())'), false);
  assert.equal(ev('@(context.Deployment.Certificates["dev-client-01"].Thumbprint)'), client01.thumbprint);
  assert.equal(ev('@(context.Deployment.Certificates.ContainsKey("nope"))'), false);
});

test('a signature made with the client certificate key verifies with GetRSAPublicKey()', async () => {
  const pfx = await loadCertificates(readFileSync(join(fx, 'dev-client-01.pfx')), { origin: 'dev-client-01.pfx', password: 'P@ssw0rd' });
  const data = Buffer.from('request-to-sign');
  const signature = sign('sha256', data, pfx.privateKey!);
  const src = '@(context.Request.Certificate.GetRSAPublicKey().VerifyData(Encoding.UTF8.GetBytes((string)context.Variables["data"]), Convert.FromBase64String((string)context.Variables["sig"]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))';
  const r = compileExpression(src, { file: new SourceFile('x.xml', src), offset: 0 });
  assert.deepEqual(r.diagnostics, []);
  const run = (cert: Certificate, text: string) => r.expression!.evaluate(makeTestHost({ certificate: cert, variables: { data: text, sig: signature.toString('base64') } }));
  assert.equal(run(pfx.certificates[0]!, 'request-to-sign'), true);
  assert.equal(run(pfx.certificates[0]!, 'tampered'), false);
  assert.equal(run(client02, 'request-to-sign'), false);
  const size = compileExpression('@(context.Request.Certificate.GetRSAPublicKey().KeySize)', { file: new SourceFile('x.xml', ''), offset: 0 });
  assert.equal(size.expression!.evaluate(makeTestHost({ certificate: client01 })), 2048);
});
