/**
 * x509-limbo conformance harness: `npm run conformance:x509 -- [--corpus PATH] [--out FILE]`.
 * Reads ../shared/corpus/x509-limbo/limbo-client-relevant.json by default, runs every case
 * through verifyChain (peer-name expectations are ignored: Gatehouse checks client certificates,
 * not host names), prints the figures and every miss, and writes x509-limbo's result format.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_CORPUS, corpusExists, loadCorpus, runAll } from './x509-limbo-run.js';

const { values } = parseArgs({ options: { corpus: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' } } });
const corpus = values.corpus ?? DEFAULT_CORPUS;
if (!corpusExists(corpus)) {
  process.stderr.write(`x509-limbo: corpus not found at ${corpus} (pass --corpus PATH)\n`);
  process.exit(2);
}
const started = performance.now();
const summary = runAll(loadCorpus(corpus));
const ms = performance.now() - started;
if (values.out) {
  writeFileSync(values.out, JSON.stringify({ version: 1, harness: 'gatehouse', results: summary.results }, null, 2) + '\n');
}
const out = process.stdout;
out.write(`x509-limbo: ${summary.nonClient.correct}/${summary.nonClient.total} non-client cases correct, ${summary.client.correct}/${summary.client.total} client cases correct (${ms.toFixed(0)} ms)\n`);
if (!values.quiet) for (const m of summary.misses) out.write(`  miss ${m.id}: expected ${m.expected}, got ${m.actual} — ${m.context.slice(0, 300)}\n`);
if (values.out) out.write(`results written to ${values.out}\n`);
