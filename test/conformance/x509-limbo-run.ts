/**
 * Runs x509-limbo test cases through Gatehouse's chain validator (src/pki verifyChain). Shared by
 * the command-line harness (x509-limbo.ts) and the node:test file (x509-limbo.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCertificates, verifyChain, type Certificate } from '../../src/pki/index.js';

export interface LimboCase {
  id: string;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  extended_key_usage: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
  max_chain_depth: number | null;
  crls?: string[];
  features?: string[];
}

export interface LimboResult {
  id: string;
  actual_result: 'SUCCESS' | 'FAILURE' | 'SKIPPED';
  context: string;
}

export const DEFAULT_CORPUS = resolve(new URL('../..', import.meta.url).pathname, '../shared/corpus/x509-limbo/limbo-client-relevant.json');

export function corpusExists(path = DEFAULT_CORPUS): boolean {
  return existsSync(path);
}

export function loadCorpus(path = DEFAULT_CORPUS): LimboCase[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { testcases: LimboCase[] };
  return doc.testcases;
}

function parseAll(pems: string[], what: string): Certificate[] {
  return pems.flatMap((p, i) => parseCertificates(p, { origin: `${what}[${i}]` }));
}

export function runCase(tc: LimboCase): LimboResult {
  let anchors: Certificate[];
  let intermediates: Certificate[];
  let leaf: Certificate;
  try {
    anchors = parseAll(tc.trusted_certs, 'trusted_certs');
    intermediates = parseAll(tc.untrusted_intermediates, 'untrusted_intermediates');
    leaf = parseAll([tc.peer_certificate], 'peer_certificate')[0]!;
  } catch (e) {
    return { id: tc.id, actual_result: 'FAILURE', context: `does not parse: ${(e as Error).message}` };
  }
  const eku = new Set(tc.extended_key_usage ?? []);
  try {
    const r = verifyChain(leaf, {
      anchors,
      intermediates,
      ...(tc.validation_time ? { at: new Date(tc.validation_time) } : {}),
      requireClientAuth: tc.validation_kind === 'CLIENT' || eku.has('clientAuth'),
      requireServerAuth: tc.validation_kind === 'SERVER' || eku.has('serverAuth'),
      profile: 'webpki',
      ...(tc.crls && tc.crls.length ? { crls: tc.crls } : {}),
      ...(tc.max_chain_depth !== null && tc.max_chain_depth !== undefined ? { maxIntermediates: tc.max_chain_depth } : {}),
    });
    return r.valid
      ? { id: tc.id, actual_result: 'SUCCESS', context: `chain of ${r.chain.length}` }
      : { id: tc.id, actual_result: 'FAILURE', context: `${r.status.join(', ')}: ${r.reasons.join('; ')}` };
  } catch (e) {
    return { id: tc.id, actual_result: 'FAILURE', context: `validator error: ${(e as Error).message}` };
  }
}

export interface Summary {
  results: LimboResult[];
  nonClient: { total: number; correct: number };
  client: { total: number; correct: number };
  misses: { id: string; expected: string; actual: string; context: string }[];
}

export function runAll(cases: LimboCase[]): Summary {
  const results: LimboResult[] = [];
  const nonClient = { total: 0, correct: 0 };
  const client = { total: 0, correct: 0 };
  const misses: Summary['misses'] = [];
  for (const tc of cases) {
    const r = runCase(tc);
    results.push(r);
    const bucket = tc.validation_kind === 'CLIENT' ? client : nonClient;
    bucket.total++;
    if (r.actual_result === tc.expected_result) bucket.correct++;
    else misses.push({ id: tc.id, expected: tc.expected_result, actual: r.actual_result, context: r.context });
  }
  return { results, nonClient, client, misses };
}
