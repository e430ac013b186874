/**
 * Fuzzing the expression parser, compiler and runtime with thousands of mutated corpus
 * expressions: every input gives an expression or diagnostics with a position (never a throw),
 * every evaluation returns or throws an ExpressionError (never anything else), and nothing hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from '../../src/core/source.js';
import { compileExpression, ExpressionError } from '../../src/expr/index.js';
import { makeTestHost } from '../../src/expr/testing.js';

const corpusDir = join(import.meta.dirname, '../../../shared/corpus/policy-snippets');
const corpus = readFileSync(join(corpusDir, 'expressions.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { kind: 'single' | 'multi'; code: string })
  .map((e) => (e.kind === 'single' ? `@(${e.code})` : `@{${e.code}}`));

/** Deterministic: the same mutations on every run (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['(', ')', '{', '}', '[', ']', '"', "'", '@', '$"', '.', ',', ';', '<', '>', '?', '?.', '??', ':', '=', '=>', '!', '&&', '||', '+', '-', '*', '/', '%', 'new ', 'return ', 'var ', 'null', 'true', '0', '1.5', 'int', 'string', 'x', 'context', 'while(true){}', 'for(;;){}', 'throw new Exception("x");', '\\', '\n', '/*', '*/', '//', '{{n}}', 'é', '\u0000'];

function mutate(src: string, r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  let s = src;
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * (s.length + 1));
    const j = Math.min(s.length, i + Math.floor(r() * 12));
    switch (Math.floor(r() * 6)) {
      case 0: // delete a range
        s = s.slice(0, i) + s.slice(j);
        break;
      case 1: // insert a piece
        s = s.slice(0, i) + PIECES[Math.floor(r() * PIECES.length)] + s.slice(i);
        break;
      case 2: // duplicate a range
        s = s.slice(0, j) + s.slice(i, j) + s.slice(j);
        break;
      case 3: // replace a character
        s = s.slice(0, i) + PIECES[Math.floor(r() * PIECES.length)] + s.slice(i + 1);
        break;
      case 4: // truncate
        s = s.slice(0, i);
        break;
      default: {
        // splice in a piece of another expression
        const other = corpus[Math.floor(r() * corpus.length)]!;
        const a = Math.floor(r() * other.length);
        s = s.slice(0, i) + other.slice(a, a + 1 + Math.floor(r() * 40)) + s.slice(j);
      }
    }
  }
  return s;
}

test('fuzz: thousands of mutated corpus expressions compile or give positioned diagnostics, and evaluation never hangs or leaks a non-.NET error', () => {
  const r = rng(20260226);
  const started = Date.now();
  const budgetMs = 25_000;
  let total = 0;
  let compiled = 0;
  let evaluated = 0;
  let threw = 0;
  const limits = { maxSteps: 20_000, maxMilliseconds: 200, maxStringLength: 1_000_000, maxDepth: 50 };
  for (let round = 0; round < 4000 && Date.now() - started < budgetMs; round++) {
    const src = mutate(corpus[Math.floor(r() * corpus.length)]!, r);
    const file = new SourceFile('fuzz.xml', src);
    total++;
    let result;
    try {
      result = compileExpression(src, { file, offset: 0, limits });
    } catch (e) {
      assert.fail(`compileExpression threw for ${JSON.stringify(src)}: ${String(e)}`);
    }
    if (!result.expression) {
      assert.ok(result.diagnostics.length > 0, src);
      for (const d of result.diagnostics) {
        assert.equal(d.severity, 'error');
        assert.ok(d.line !== undefined && d.column !== undefined, `no position for ${JSON.stringify(src)}: ${d.message}`);
        assert.notEqual(d.code, 'GH_INTERNAL', `internal error for ${JSON.stringify(src)}: ${d.message}`);
      }
      continue;
    }
    compiled++;
    const t0 = Date.now();
    try {
      result.expression.evaluate(makeTestHost({ headers: { Authorization: 'Bearer a.b.c' }, variables: { x: 'y' }, body: '{"a":1}' }));
      evaluated++;
    } catch (e) {
      if (!(e instanceof ExpressionError)) assert.fail(`evaluate leaked ${String(e)} for ${JSON.stringify(src)}`);
      // a JavaScript error escaping the runtime is a Gatehouse bug, whatever it is wrapped in
      assert.ok(!(e.cause instanceof TypeError || e.cause instanceof ReferenceError), `runtime bug for ${JSON.stringify(src)}: ${String(e.cause)}`);
      threw++;
    }
    assert.ok(Date.now() - t0 < 2_000, `evaluation took ${Date.now() - t0} ms for ${JSON.stringify(src)}`);
  }
  assert.ok(total >= 1000, `only ${total} inputs in the time budget`);
  assert.ok(compiled > 0 && total - compiled > 0);
  console.log(`fuzz: ${total} inputs, ${compiled} compiled, ${evaluated} evaluated, ${threw} threw .NET exceptions, ${Date.now() - started} ms`);
});

test('fuzz: pathological inputs are diagnostics, not crashes', () => {
  const inputs = [
    '@(' + '('.repeat(20_000) + '1' + ')'.repeat(20_000) + ')',
    '@{' + 'if (true) {'.repeat(5_000) + 'return 1;' + '}'.repeat(5_000) + '}',
    '@(' + '1+'.repeat(50_000) + '1)',
    '@("' + 'x'.repeat(100_000),
    '@($"{' + '$"{'.repeat(2_000) + ')',
    '@(',
    '@{',
    '@',
    '',
    '@(/*)',
    "@('ab')",
    '@(0x)',
    '@(1e)',
  ];
  for (const src of inputs) {
    const r = compileExpression(src, { file: new SourceFile('p.xml', src), offset: 0 });
    if (!r.expression) assert.ok(r.diagnostics.length > 0 && r.diagnostics[0]!.line !== undefined, src.slice(0, 40));
  }
});

test('catastrophic regex backtracking does not hang (V8 falls back to its linear engine)', () => {
  for (const src of [
    `@(Regex.IsMatch(new string('a', 40) + "!", "(a+)+$"))`,
    `@(Regex.IsMatch(new string('a', 40) + "!", "(A+)+$", RegexOptions.IgnoreCase))`,
    `@(Regex.IsMatch(new string('a', 40) + "!", @"^(\\w+\\s?)*$"))`,
    `@(Regex.Matches(new string('a', 40) + "!", "(a|aa)+$").Count)`,
    `@(Regex.Replace(new string('x', 40) + "y", "(x+x+)+z", "-").Length)`,
  ]) {
    const r = compileExpression(src, { file: new SourceFile('p.xml', src), offset: 0 });
    assert.deepEqual(r.diagnostics, [], src);
    const t0 = Date.now();
    r.expression!.evaluate(makeTestHost({}));
    assert.ok(Date.now() - t0 < 1_000, `${src} took ${Date.now() - t0} ms`);
  }
});

test('limits: loops, recursion, huge strings and time end in a GH_EXPR_LIMIT error', () => {
  const cases: [string, RegExp][] = [
    ['@{ var i = 0; while (true) { i++; } return i; }', /statements or loop iterations/],
    ['@{ int F(int n) => F(n + 1); return F(0); }', /recursed deeper/],
    ['@{ var s = "x"; while (true) { s = s + s; } return s; }', /string of more than/],
    ['@(new string(\'x\', 100000000))', /more than/],
    ['@(new byte[100000000].Length)', /allocated more than/],
    ['@{ for (;;) { } }', /statements or loop iterations/],
    ['@(Enumerable.Range(0, 1000).SelectMany(x => Enumerable.Range(0, 1000).SelectMany(y => Enumerable.Range(0, 1000))).Count())', /statements or loop iterations|allocated more than/],
    ['@(Enumerable.Range(0, 1000000).Select(x => x * 2).Sum())', /statements or loop iterations/],
  ];
  for (const [src, re] of cases) {
    const r = compileExpression(src, { file: new SourceFile('p.xml', src), offset: 0, limits: { maxSteps: 100_000, maxStringLength: 1_000_000 } });
    assert.deepEqual(r.diagnostics, [], src);
    const t0 = Date.now();
    assert.throws(
      () => r.expression!.evaluate(makeTestHost({})),
      (e: unknown) => e instanceof ExpressionError && e.code === 'GH_EXPR_LIMIT' && re.test(e.message),
      src,
    );
    assert.ok(Date.now() - t0 < 3_000, src);
  }
  const slow = compileExpression('@{ var n = 0; for (var i = 0; i < 100000000; i++) { n += i % 7; } return n; }', { file: new SourceFile('p.xml', ''), offset: 0, limits: { maxSteps: 1e12, maxMilliseconds: 100 } });
  const t0 = Date.now();
  assert.throws(() => slow.expression!.evaluate(makeTestHost({})), (e: unknown) => e instanceof ExpressionError && /longer than 100 ms/.test(e.message));
  assert.ok(Date.now() - t0 < 2_000);
});
