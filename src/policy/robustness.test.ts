import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicyDocument } from './document.js';
import { defaultRegistry } from './policies/index.js';

const seed = `<policies>
  <inbound>
    <base />
    <choose>
      <when condition="@(context.Request.Headers.GetValueOrDefault("X-A", "") == "a")">
        <return-response><set-status code="200" reason="OK" /><set-body>@{ return $"{context.Request.Method}"; }</set-body></return-response>
      </when>
      <otherwise><set-header name="X-B" exists-action="append"><value>b</value></set-header></otherwise>
    </choose>
    <validate-client-certificate validate-revocation="false"><identities><identity subject="CN=x" /></identities></validate-client-certificate>
    <rate-limit-by-key calls="5" renewal-period="60" counter-key="@(context.Request.IpAddress)" />
  </inbound>
  <backend><forward-request timeout="20" /></backend>
  <outbound><base /><!-- comment --><set-body><![CDATA[ <raw> ]]></set-body></outbound>
  <on-error><base /></on-error>
</policies>`;

/** A small deterministic PRNG (mulberry32), so that a failure can be replayed. */
function rng(seedValue: number): () => number {
  let a = seedValue;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('400 mutated documents (deleted, duplicated and inserted characters) give diagnostics, never exceptions', () => {
  const registry = defaultRegistry();
  const random = rng(20261129);
  const alphabet = ['<', '>', '"', "'", '(', ')', '{', '}', '@', '/', '&', ';', '=', ' ', '\n', 'a', '$', '\\', '*'];
  let withErrors = 0;
  const started = Date.now();
  for (let n = 0; n < 400 && Date.now() - started < 20_000; n++) {
    let text = seed;
    const edits = 1 + Math.floor(random() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * text.length);
      const kind = random();
      if (kind < 0.4) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 5));
      else if (kind < 0.7) text = text.slice(0, at) + alphabet[Math.floor(random() * alphabet.length)] + text.slice(at);
      else text = text.slice(0, at) + text.slice(at, at + 8) + text.slice(at);
    }
    let r;
    try {
      r = compilePolicyDocument(`m${n}.xml`, text, { scope: 'api', mode: 'lint', registry });
    } catch (e) {
      assert.fail(`mutation ${n} threw ${(e as Error).stack}\n${text}`);
    }
    for (const d of r.diagnostics) {
      assert.equal(typeof d.message, 'string');
      if (d.line !== undefined) assert.ok(d.line >= 1 && d.column! >= 1, `position of ${d.code} in mutation ${n}`);
    }
    if (r.diagnostics.some((d) => d.severity === 'error')) withErrors++;
  }
  assert.ok(withErrors > 100, `most mutations are errors (${withErrors})`);
});
