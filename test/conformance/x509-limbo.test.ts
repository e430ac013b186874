import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CORPUS, corpusExists, loadCorpus, runAll } from './x509-limbo-run.js';

test('x509-limbo: >= 190 of the 200 non-client cases and 10/10 client cases', (t) => {
  if (!corpusExists()) {
    t.skip(`x509-limbo corpus not found at ${DEFAULT_CORPUS} (../shared is absent)`);
    return;
  }
  const s = runAll(loadCorpus());
  const misses = s.misses.map((m) => `${m.id}: expected ${m.expected}, got ${m.actual} (${m.context.slice(0, 160)})`).join('\n');
  assert.equal(s.nonClient.total, 200);
  assert.equal(s.client.total, 10);
  assert.ok(s.nonClient.correct >= 190, `only ${s.nonClient.correct}/200 non-client cases correct:\n${misses}`);
  assert.equal(s.client.correct, 10, misses);
  t.diagnostic(`non-client ${s.nonClient.correct}/200, client ${s.client.correct}/10`);
});
