// Bicep ↔ compiled JSON conformance over the Azure/bicep corpus (see bicep-samples.ts). Skipped,
// and said so, when ../shared is not there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { CORPUS, runBicepConformance, runInvalidSamples, summarize, summarizeInvalid } from './bicep-samples.js';

test('Bicep samples evaluate like their compiled JSON', { timeout: 120_000 }, (t) => {
  if (!existsSync(CORPUS)) {
    t.skip(`the corpus is not at ${CORPUS}`);
    return;
  }
  const results = runBicepConformance();
  t.diagnostic(summarize(results));
  for (const r of results) if (!r.ok) t.diagnostic(`FAIL ${r.file}: ${r.reason}`);
  assert.ok(results.length >= 200, `found ${results.length} samples`);
  const crashes = results.filter((r) => r.reason?.startsWith('crash'));
  assert.deepEqual(crashes.map((r) => `${r.file}: ${r.reason}`), []);
  const slow = results.filter((r) => r.ms > 5000);
  assert.deepEqual(slow.map((r) => r.file), [], 'every sample evaluates in under 5 s');
  const net = results.filter((r) => r.network);
  assert.ok(net.length >= 50);
  // targets of issue 6: 100% of the Network/API Management samples, 90% overall
  assert.equal(net.filter((r) => r.ok).length, net.length, 'every Microsoft.Network/ApiManagement sample agrees');
  assert.ok(results.filter((r) => r.ok).length >= 0.9 * results.length, 'at least 90% of all samples agree');
  // most agreements must be real evaluations, not samples both sides reject
  assert.ok(results.filter((r) => r.ok && !r.bothReject).length >= 0.85 * results.length);
});

test('every Invalid sample of the corpus is rejected with diagnostics', (t) => {
  if (!existsSync(CORPUS)) {
    t.skip(`the corpus is not at ${CORPUS}`);
    return;
  }
  const rs = runInvalidSamples();
  t.diagnostic(summarizeInvalid(rs));
  assert.ok(rs.length >= 5);
  assert.deepEqual(rs.filter((r) => r.errors === 0).map((r) => r.file), []);
  const withLines = rs.filter((r) => r.bicepErrorLines);
  const same = withLines.reduce((a, r) => a + (r.sameLines ?? 0), 0);
  const total = withLines.reduce((a, r) => a + (r.bicepErrorLines ?? 0), 0);
  assert.ok(same >= 0.6 * total, `line recall ${same}/${total}`);
});
