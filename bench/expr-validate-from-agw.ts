/**
 * Benchmark: the seed's validate-from-agw condition, compiled from C#, against a hand-written
 * JavaScript function doing the same work on the same input (header → URL-decode → strip markers →
 * base64 → X.509 → chain validation without revocation → thumbprint lookup). Target: within 2x.
 * Cases: without a CertificateCache (X.509 parsing and the chain search every time); the header
 * missing (the fixed cost of an evaluation); as a service runs it (the service's CertificateCache,
 * each request a new string equal to the last header: the memos of src/expr/runtime/memo.ts hit);
 * the same with a different header text every request (every memo misses); and the whole operation
 * policy through the policy pipeline (runPipeline: choose → return-response, 200 and 401).
 *
 *   node --import tsx bench/expr-validate-from-agw.ts [iterations]
 *
 * Not part of npm test; numbers go to docs/expressions.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from '../src/core/source.js';
import { compileExpression } from '../src/expr/index.js';
import { makeTestHost } from '../src/expr/testing.js';
import type { HostContext } from '../src/expr/host.js';
import { CertificateCache, certificateFromDer, parseCertificates, verifyChain } from '../src/pki/index.js';
import { systemClock } from '../src/core/clock.js';
import { HeaderMap } from '../src/core/headers.js';
import { silentLogger } from '../src/core/logger.js';
import { compilePolicyDocument, composeScopes, createTrustCache, DEFAULT_GLOBAL_POLICY, defaultRegistry, RequestContext, RequestState, runPipeline, type PolicyServices } from '../src/policy/index.js';

const fx = join(import.meta.dirname, '../test/fixtures/bosma-certificates');
const load = (f: string) => parseCertificates(readFileSync(join(fx, f)), { origin: f })[0]!;

// The condition of the seed's policy as it ships in the example, so the benchmark measures what users run.
const POLICY_FILE = join(import.meta.dirname, '../examples/apim-behind-agw/api-management/validate-from-agw.operation.cshtml');
const POLICY = readFileSync(POLICY_FILE, 'utf8');
const CONDITION_OFFSET = POLICY.indexOf('@{', POLICY.indexOf('<when condition="'));
const CONDITION = POLICY.slice(CONDITION_OFFSET, POLICY.indexOf('}">', CONDITION_OFFSET) + 1);

/** The same work written by hand in JavaScript (with the service's CertificateCache when the host has one, as the expression runtime uses it). */
function handWritten(host: HostContext): boolean {
  const values = host.request.headers.getAll('X-ARR-ClientCert');
  const header = values ? values.join(',') : undefined;
  if (header === undefined || header.trim() === '') return false;
  const decoded = decodeURIComponent(header.replace(/\+/g, ' '));
  const pem = decoded.split('-----BEGIN CERTIFICATE-----').join('').split('-----END CERTIFICATE-----').join('');
  const der = Buffer.from(pem.replace(/\s/g, ''), 'base64');
  const d = host.deployment;
  const cache = d.certificateCache instanceof CertificateCache ? d.certificateCache : undefined;
  const cert = cache ? cache.fromDer(der) : certificateFromDer(der);
  const options = { anchors: d.trustedRoots, intermediates: d.intermediates, at: host.now() };
  if (!(cache ? cache.verifyChain(cert, options) : verifyChain(cert, options)).valid) return false;
  for (const c of d.certificates.values()) if (c.thumbprint === cert.thumbprint) return true;
  return false;
}

/** Runs a and b in alternating rounds (the machine is shared and noisy) and keeps each one's best round. */
function compare(names: [string, string], a: () => unknown, b: () => unknown, iterations: number, rounds = 7): [number, number] {
  const best = [Infinity, Infinity];
  const fns = [a, b];
  for (let i = 0; i < Math.min(300, iterations); i++) {
    a();
    b();
  }
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 2; k++) {
      const fn = fns[k]!;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) fn();
      best[k] = Math.min(best[k]!, Number(process.hrtime.bigint() - t0) / iterations);
    }
  }
  for (let k = 0; k < 2; k++) console.log(`${names[k]!.padEnd(30)} ${(best[k]! / 1000).toFixed(2).padStart(9)} µs/op (best of ${rounds} rounds of ${iterations})`);
  return [best[0]!, best[1]!];
}

const iterations = Number(process.argv[2] ?? 500);
const compiled = compileExpression(CONDITION, { file: new SourceFile(POLICY_FILE, POLICY), offset: CONDITION_OFFSET });
if (!compiled.expression) throw new Error(JSON.stringify(compiled.diagnostics));
const expression = compiled.expression;
const HEADER = readFileSync(join(fx, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8');
const stores = {
  certificates: { 'dev-client-01': load('dev-client-01.cer'), 'other': load('dev-client-02.cer') },
  trustedRoots: [load('root-ca.cer')],
  intermediates: [load('dev-intermediate-ca.cer')],
};
const host = makeTestHost({ headers: { 'X-ARR-ClientCert': HEADER }, ...stores });
if (expression.evaluate(host) !== true || handWritten(host) !== true) throw new Error('the two versions disagree');
const missing = makeTestHost({});
if (expression.evaluate(missing) !== false || handWritten(missing) !== false) throw new Error('the two versions disagree (missing header)');

console.log('validate-from-agw (dev-client-01 forwarded; chain root → intermediate → client)');
const [a, b] = compare(['compiled C# expression', 'hand-written JavaScript'], () => expression.evaluate(host), () => handWritten(host), iterations);
console.log(`ratio compiled / hand-written: ${(a / b).toFixed(2)}x (target ≤ 2x)`);
const [c, d] = compare(['compiled, header missing', 'hand-written, header missing'], () => expression.evaluate(missing), () => handWritten(missing), iterations * 50);
console.log(`early exit (no header): ${(c / d).toFixed(1)}x — fixed cost per evaluation ${((c - d) / 1000).toFixed(2)} µs`);

// As a running service evaluates it: the host carries the service's CertificateCache (so X.509
// parsing and the chain search are map lookups), and every request brings its own copy of the same
// header text (a new string, equal in content, as the HTTP parser makes one per request). What is
// left is the expression's own work: the string handling, base64, dispatch.
const COPIES = Array.from({ length: 16 }, () => Buffer.from(HEADER, 'utf8').toString('utf8'));
const served = makeTestHost({ headers: { 'X-ARR-ClientCert': HEADER }, ...stores, certificateCache: new CertificateCache(64) });
let turn = 0;
const nextHeader = () => served.request.headers.set('X-ARR-ClientCert', COPIES[turn++ & 15]!);
if (expression.evaluate(served) !== true || handWritten(served) !== true) throw new Error('the two versions disagree (service cache)');
console.log('as a service runs it (CertificateCache; a new but equal header string per request)');
const [e, g] = compare(
  ['compiled, service cache', 'hand-written, service cache'],
  () => (nextHeader(), expression.evaluate(served)),
  () => (nextHeader(), handWritten(served)),
  iterations * 10,
);
console.log(`ratio compiled / hand-written: ${(e / g).toFixed(2)}x`);

// The same, but no header text comes back while it is still in the memo (16 variants of the header
// in turn, each with a '%20' after another line break, which base64 decoding skips: the same
// certificate, so the CertificateCache still hits, but every string step runs in full).
const breaks = [...HEADER.matchAll(/%0A/g)].map((m) => m.index + 3);
const VARIANTS = Array.from({ length: 16 }, (_, i) => HEADER.slice(0, breaks[i]!) + '%20' + HEADER.slice(breaks[i]!));
const nextVariant = () => served.request.headers.set('X-ARR-ClientCert', VARIANTS[turn++ & 15]!);
nextVariant();
if (expression.evaluate(served) !== true || handWritten(served) !== true) throw new Error('the two versions disagree (variants)');
console.log('as a service runs it, a different header text on every request (no memo hits)');
const [h, k] = compare(
  ['compiled, header varies', 'hand-written, header varies'],
  () => (nextVariant(), expression.evaluate(served)),
  () => (nextVariant(), handWritten(served)),
  iterations * 10,
);
console.log(`ratio compiled / hand-written: ${(h / k).toFixed(2)}x`);

// The whole operation policy through the policy pipeline (src/policy), as API Management runs it per
// request after matching the operation: a RequestContext and a RequestState, then inbound (choose →
// when → return-response with set-status and set-body) — the condition above plus the pipeline
// around it. The 401 branch runs for a request without the header.
const registry = defaultRegistry();
const globalDoc = compilePolicyDocument('global.xml', DEFAULT_GLOBAL_POLICY, { scope: 'global', mode: 'run', registry });
const operationDoc = compilePolicyDocument(POLICY_FILE, POLICY, { scope: 'operation', mode: 'run', registry });
if (operationDoc.diagnostics.some((x) => x.severity === 'error')) throw new Error(JSON.stringify(operationDoc.diagnostics));
const pipeline = composeScopes([globalDoc.document, operationDoc.document]);
const deployment = served.deployment;
const services: PolicyServices = {
  logger: silentLogger,
  backendClient: { send: () => Promise.reject(new Error('no backend in this benchmark')) },
  rateLimits: { hit: () => ({ allowed: true, remaining: 1, retryAfterSeconds: 0 }), count: () => ({ allowed: true, remaining: 1 }) },
  certificateStore: { certificates: deployment.certificates, trustedRoots: deployment.trustedRoots, intermediates: deployment.intermediates, clientCredential: () => undefined },
  backends: new Map(),
  trustCache: createTrustCache(),
};
async function throughPipeline(header: string | undefined): Promise<number> {
  const headers = new HeaderMap(header === undefined ? [] : [['X-ARR-ClientCert', header]]);
  const url = { scheme: 'https', host: 'apim-sample.dev', port: 443, path: '/client-cert/validate-from-agw', query: [] as [string, string][] };
  const request = { method: 'GET', url, originalUrl: { ...url, query: [] }, headers, body: { bytes: undefined }, ipAddress: '127.0.0.1', certificate: undefined, matchedParameters: new Map<string, string>() };
  const ctx = new RequestContext({ request, deployment, clock: systemClock });
  const st = new RequestState(ctx, services, { scheme: 'https', host: 'backend.example', port: 443, basePath: '', backendId: undefined }, '/validate-from-agw');
  st.updateUrl();
  await runPipeline(pipeline, st);
  return ctx.response.statusCode;
}
async function compareAsync(name: string, fn: () => Promise<unknown>, n: number, rounds = 7): Promise<number> {
  for (let i = 0; i < Math.min(300, n); i++) await fn();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  console.log(`${name.padEnd(30)} ${(best / 1000).toFixed(2).padStart(9)} µs/op (best of ${rounds} rounds of ${n})`);
  return best;
}
if ((await throughPipeline(COPIES[0])) !== 200 || (await throughPipeline(undefined)) !== 401) throw new Error('the pipeline does not answer 200 / 401');
console.log('the operation policy through the policy pipeline (CertificateCache; a new but equal header per request)');
await compareAsync('pipeline, 200 (return-response)', () => throughPipeline(COPIES[turn++ & 15]), iterations * 10);
await compareAsync('pipeline, 401 (no header)', () => throughPipeline(undefined), iterations * 10);
