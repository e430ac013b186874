/** docs/error-codes.md lists exactly the codes the code defines, and no retired code is back in use. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { collectCodes, docPath, render, retiredCodes } from '../scripts/error-codes.js';

test('docs/error-codes.md and the codes in src/ agree', async () => {
  const doc = readFileSync(docPath, 'utf8');
  const codes = await collectCodes();
  assert.ok(codes.length > 50, `only ${codes.length} codes found`);
  for (const [code, meaning] of codes) assert.ok(meaning.trim().length > 10, `${code} needs a meaning`);
  assert.equal(doc, render(codes, doc), 'docs/error-codes.md is out of date: run node --import tsx scripts/error-codes.ts');
});

test('no retired code is defined again', async () => {
  const defined = new Set((await collectCodes()).map(([c]) => c));
  for (const code of retiredCodes(readFileSync(docPath, 'utf8'))) assert.ok(!defined.has(code), `${code} is retired and must not be reused`);
});
