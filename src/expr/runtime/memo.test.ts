/**
 * The per-request shortcuts of the expression runtime give the answers the plain code gave: the
 * call-site memo (memo.ts) for pure string functions on large inputs, the one-pass URL decoding and
 * base64 validation, and the per-site member caches of dispatch.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from '../../core/source.js';
import { compileExpression, ExpressionError, type CompiledExpression } from '../index.js';
import { makeTestHost, type TestHostOptions } from '../testing.js';
import { MEMO_ENTRIES, MEMO_MAX_LENGTH, MEMO_MIN_LENGTH, MISS, StringMemo } from './memo.js';
import { CONVERT_STATICS, URI_TYPE, WEBUTILITY_STATICS } from './misc.js';
import type { Runtime } from './core.js';

const fx = join(import.meta.dirname, '../../../test/fixtures/bosma-certificates');
const HEADER = readFileSync(join(fx, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8');
/** Another client's certificate, URL-escaped as a front end forwards it. */
const HEADER2 = encodeURIComponent(readFileSync(join(fx, 'dev-client-02.cer'), 'utf8'));

/** A string equal to s but not the same string object (as a new request's header is). */
const copyOf = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

function compile(src: string): CompiledExpression {
  const r = compileExpression(src, { file: new SourceFile('t.xml', src), offset: 0 });
  assert.deepEqual(r.diagnostics.map((d) => `${d.code} ${d.message}`), [], src);
  return r.expression!;
}
const run = (e: CompiledExpression, o: TestHostOptions = {}): unknown => e.evaluate(makeTestHost(o));
const withHeader = (h: string): TestHostOptions => ({ headers: { 'X-ARR-ClientCert': h } });

// ───── the code before this change, as the reference the new code must agree with ─────
function referencePercentDecode(s: string, plusIsSpace: boolean): string {
  const t = plusIsSpace && s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!t.includes('%')) return t;
  try {
    if (!/%(?![0-9a-fA-F]{2})/.test(t)) return decodeURIComponent(t);
  } catch {
    /* run by run below */
  }
  return t.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return plusIsSpace ? Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8') : run;
    }
  });
}
function referenceFromBase64(s: string): string {
  const t = s.replace(/[ \t\r\n]/g, '');
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return 'FormatException';
  return Buffer.from(t, 'base64').toString('hex');
}

const rt = undefined as unknown as Runtime;
const urlDecode = (s: string) => WEBUTILITY_STATICS.UrlDecode(rt, [s]) as string;
const unescapeData = (s: string) => URI_TYPE.staticMethods.UnescapeDataString(rt, [s]) as string;
function fromBase64(s: string): string {
  try {
    return (CONVERT_STATICS.FromBase64String(rt, [s]) as Buffer).toString('hex');
  } catch (e) {
    return (e as { typeName?: string }).typeName === 'System.FormatException' ? 'FormatException' : String(e);
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 0x100000000;
  };
}

test('UrlDecode and UnescapeDataString decode as before: escapes, +, lone %, invalid and split UTF-8, BOM, surrogates', () => {
  const cases = [HEADER, HEADER2, '', '%', '%%', '%2', '%2G', 'a+b%2B%20c', '%E2%82%AC', '%E2%82', '%E2%82x%AC', '%C3%28x%41', '+%', '%41%', 'x%4', '%ZZ%41%4',
    '%F0%9F%98%80%41', '%ED%A0%80', '%EF%BB%BFa', '%c3%a9', '%C3%A9+', '%80%41%41', 'ab%4', '%41%C3', 'é%41€', '%0A%0a%2b%2F', '%F4%90%80%80', '%C0%AF'];
  for (const c of cases) {
    assert.equal(urlDecode(c), referencePercentDecode(c, true), `UrlDecode ${JSON.stringify(c)}`);
    assert.equal(unescapeData(c), referencePercentDecode(c, false), `UnescapeDataString ${JSON.stringify(c)}`);
  }
  const alphabet = ['%', '%', '%', '2', 'B', 'c', 'F', 'e', '8', '0', 'A', '9', 'G', '+', ' ', 'é', '€', 'x', '\n', '%C3', '%A9', '%E2', '%80'];
  const rnd = lcg(7);
  for (let n = 0; n < 3000; n++) {
    let s = '';
    const len = Math.floor(rnd() * 24);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    assert.equal(urlDecode(s), referencePercentDecode(s, true), `UrlDecode ${JSON.stringify(s)}`);
    assert.equal(unescapeData(s), referencePercentDecode(s, false), `UnescapeDataString ${JSON.stringify(s)}`);
  }
});

test('Convert.FromBase64String accepts and rejects as before: whitespace anywhere, padding, non-zero trailing bits, URL-safe and other characters', () => {
  const pem = referencePercentDecode(HEADER, true).replace('-----BEGIN CERTIFICATE-----', '').replace('-----END CERTIFICATE-----', '');
  const cases = [pem, '', '====', 'QQ==', 'QQ=', 'QUJD', 'QUJ', 'Q===', 'QQ==QQ==', 'QU JD', ' QUJD\r\n', 'QQ= =', 'QQ\t==', '-_AA', 'QU\u00e9D', 'QUJD=',
    'AB=C', '=AAA', 'AAA=', 'AA==\n', 'A\u000bAA=', 'QR==', 'QUJE', 'QUI=', 'QUJ=', 'Q\nU\nJ\nD', 'QUJD\u00a0', 'QUJD\f', 'QU.D', 'QUJD====', 'QUJDQQ'];
  for (const c of cases) assert.equal(fromBase64(c), referenceFromBase64(c), JSON.stringify(c));
  const alphabet = ['A', 'Q', 'g', 'z', '0', '9', '+', '/', '=', '=', ' ', '\n', '\r', '\t', '-', '_', '.', 'é'];
  const rnd = lcg(11);
  for (let n = 0; n < 4000; n++) {
    let s = '';
    const len = Math.floor(rnd() * 14);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    assert.equal(fromBase64(s), referenceFromBase64(s), JSON.stringify(s));
  }
});

test('StringMemo: a different but equal key hits, an unequal key of the same length misses, bounded in entries and size', () => {
  const m = new StringMemo();
  const key = 'k'.repeat(200) + 'A' + 'k'.repeat(200);
  assert.equal(StringMemo.fits(key), true);
  assert.equal(StringMemo.fits('short'), false);
  assert.equal(StringMemo.fits('x'.repeat(MEMO_MIN_LENGTH - 1)), false);
  assert.equal(StringMemo.fits('x'.repeat(MEMO_MAX_LENGTH + 1)), false);
  assert.equal(StringMemo.fits(42), false);
  assert.equal(m.find(key), MISS);
  m.keep(key, 'value');
  assert.equal(m.find(copyOf(key)), 'value');
  // same length, same characters where the quick check looks, different elsewhere: a miss
  const near = 'k'.repeat(200) + 'B' + 'k'.repeat(200);
  assert.equal(m.find(near), MISS);
  assert.deepEqual({ hits: m.hits, misses: m.misses }, { hits: 1, misses: 2 });
  // more keys than entries: the oldest goes
  const keys = Array.from({ length: MEMO_ENTRIES }, (_, i) => `${i}`.padStart(300, '-'));
  for (const k of keys) m.keep(k, k.length);
  for (const k of keys) m.keep(k, `v${k}`);
  assert.equal(m.find(key), MISS);
  for (const k of keys) assert.equal(m.find(copyOf(k)), `v${k}`);
  // results that are neither string nor byte[], or too large, are not kept
  const other = 'o'.repeat(300);
  m.keep(other, 42);
  assert.equal(m.find(other), MISS);
  m.keep(other, 'x'.repeat(MEMO_MAX_LENGTH + 1));
  assert.equal(m.find(other), MISS);
});

test('StringMemo: a byte[] result is copied in and out, so a caller that changes it changes nothing kept', () => {
  const m = new StringMemo();
  const key = 'b'.repeat(300);
  const bytes = Buffer.from([1, 2, 3]);
  m.keep(key, bytes);
  bytes[0] = 9;
  const a = m.find(copyOf(key)) as Buffer;
  assert.deepEqual([...a], [1, 2, 3]);
  a[1] = 9;
  const b = m.find(key) as Buffer;
  assert.deepEqual([...b], [1, 2, 3]);
  assert.notEqual(a, b);
  assert.ok(Buffer.isBuffer(b));
});

const SEED_STRING_WORK = `@{
  var h = context.Request.Headers.GetValueOrDefault("X-ARR-ClientCert");
  var pem = System.Net.WebUtility.UrlDecode(h).Replace("-----BEGIN CERTIFICATE-----", "").Replace("-----END CERTIFICATE-----", "");
  var der = Convert.FromBase64String(pem);
  return new X509Certificate2(der).Thumbprint + "|" + pem.Length + "|" + Convert.ToBase64String(der).Length;
}`;

function expectedSeed(h: string): string {
  const pem = decodeURIComponent(h.replace(/\+/g, ' ')).split('-----BEGIN CERTIFICATE-----').join('').split('-----END CERTIFICATE-----').join('');
  const der = Buffer.from(pem.replace(/\s/g, ''), 'base64');
  return `${createHash('sha1').update(der).digest('hex').toUpperCase()}|${pem.length}|${der.toString('base64').length}`;
}

test('the seed’s string work: an equal header in a new string hits every memo with the same answer; another header misses and gets its own', () => {
  const e = compile(SEED_STRING_WORK);
  const first = run(e, withHeader(copyOf(HEADER)));
  assert.equal(first, expectedSeed(HEADER));
  assert.deepEqual(e.memoStats!(), { hits: 0, misses: 4 }); // UrlDecode, two Replace, FromBase64String
  assert.equal(run(e, withHeader(copyOf(HEADER))), first);
  assert.deepEqual(e.memoStats!(), { hits: 4, misses: 4 });
  const second = run(e, withHeader(copyOf(HEADER2)));
  assert.equal(second, expectedSeed(HEADER2));
  assert.notEqual(second, first);
  assert.deepEqual(e.memoStats!(), { hits: 4, misses: 8 });
  // both are kept: alternating clients keep hitting
  assert.equal(run(e, withHeader(copyOf(HEADER))), first);
  assert.equal(run(e, withHeader(copyOf(HEADER2))), second);
  assert.deepEqual(e.memoStats!(), { hits: 12, misses: 8 });
});

test('FromBase64String returns a new byte[] on every call: a change to one evaluation’s array does not reach the next', () => {
  const e = compile(`@{
    var b = Convert.FromBase64String(System.Net.WebUtility.UrlDecode(context.Request.Headers.GetValueOrDefault("X-ARR-ClientCert")).Replace("-----BEGIN CERTIFICATE-----", "").Replace("-----END CERTIFICATE-----", ""));
    var before = b[0] + "," + b[1];
    b[0] = 7;
    b[1] = 7;
    return before;
  }`);
  assert.equal(run(e, withHeader(copyOf(HEADER))), '48,130');
  assert.equal(run(e, withHeader(copyOf(HEADER))), '48,130');
  assert.equal(e.memoStats!().hits, 4);
});

test('not memoized: small inputs, a StringBuilder receiver, arguments that are not constants, and calls that throw', () => {
  const small = compile('@(System.Net.WebUtility.UrlDecode(context.Request.Headers.GetValueOrDefault("h")).Replace("a", "b"))');
  assert.equal(run(small, { headers: { h: 'a%20a+a' } }), 'b b b');
  assert.equal(run(small, { headers: { h: 'a%20a+a' } }), 'b b b');
  assert.deepEqual(small.memoStats!(), { hits: 0, misses: 0 });

  const long = 'ab'.repeat(100);
  const builder = compile('@{ var sb = new StringBuilder(context.Request.Headers.GetValueOrDefault("h")); sb.Replace("a", "x"); sb.Replace("x", "y"); return sb.ToString(); }');
  assert.equal(run(builder, { headers: { h: long } }), 'yb'.repeat(100));
  assert.equal(run(builder, { headers: { h: copyOf(long) } }), 'yb'.repeat(100));
  assert.deepEqual(builder.memoStats!(), { hits: 0, misses: 0 });

  const variable = compile('@{ var from = context.Request.Headers.GetValueOrDefault("f"); return context.Request.Headers.GetValueOrDefault("h").Replace(from, "-"); }');
  assert.equal(run(variable, { headers: { h: long, f: 'a' } }), '-b'.repeat(100));
  assert.equal(run(variable, { headers: { h: long, f: 'b' } }), 'a-'.repeat(100));
  assert.deepEqual(variable.memoStats!(), { hits: 0, misses: 0 });

  const bad = compile('@(Convert.FromBase64String(context.Request.Headers.GetValueOrDefault("h")).Length)');
  const invalid = 'QUJD'.repeat(40) + '*';
  for (let i = 0; i < 2; i++) {
    assert.throws(() => run(bad, { headers: { h: copyOf(invalid) } }), (err: unknown) => err instanceof ExpressionError && err.exceptionType === 'System.FormatException');
  }
  assert.deepEqual(bad.memoStats!(), { hits: 0, misses: 2 });
  assert.equal(run(bad, { headers: { h: 'QUJD'.repeat(40) } }), 120);
});

test('two compiled expressions keep separate memos; null and a missing header behave as before', () => {
  const a = compile('@(System.Net.WebUtility.UrlDecode(context.Request.Headers.GetValueOrDefault("h")))');
  const b = compile('@(System.Net.WebUtility.UrlDecode(context.Request.Headers.GetValueOrDefault("h")))');
  const h = '%41'.repeat(100);
  assert.equal(run(a, { headers: { h } }), 'A'.repeat(100));
  assert.equal(run(b, { headers: { h } }), 'A'.repeat(100));
  assert.deepEqual([a.memoStats!(), b.memoStats!()], [{ hits: 0, misses: 1 }, { hits: 0, misses: 1 }]);
  assert.equal(run(a), null);
  const trim = compile('@(context.Request.Headers.GetValueOrDefault("h").Trim())');
  assert.throws(() => run(trim), (err: unknown) => err instanceof ExpressionError && err.exceptionType === 'System.NullReferenceException');
  assert.equal(run(trim, { headers: { h: `  ${'x'.repeat(200)}  ` } }), 'x'.repeat(200));
});

test('member sites that see several classes in turn answer for each (the per-site caches follow the class)', () => {
  // one property site, alternating a class with a getter (Uri) and a class with dynamic members (an anonymous object)
  const host = compile(`@{
    var r = "";
    foreach (var o in new object[] { new Uri("https://a.example/x"), new { Host = "j" }, new Uri("https://b.example/y"), new { Host = "k" } })
      r += o.Host + ";";
    return r;
  }`);
  assert.equal(run(host), 'a.example;j;b.example;k;');
  assert.equal(run(host), 'a.example;j;b.example;k;');
  // an own field (KeyValuePair.Value) and Nullable's Value on a number, at one site
  const value = compile(`@{
    var d = new Dictionary<string, int> { { "a", 1 }, { "b", 2 } };
    var r = 0;
    foreach (var o in new object[] { d.First(), 40, d.Last() }) r += (int)o.Value;
    return r;
  }`);
  assert.equal(run(value), 43);
  // one call site: methods of several classes, a generic method with type arguments, an extension method
  const calls = compile(`@{
    var r = "";
    foreach (var o in new object[] { new Uri("https://a.example/x"), new TimeSpan(1, 2, 3), new List<int> { 1 }, new Uri("https://b.example/") }) r += o.ToString() + ";";
    return r;
  }`);
  assert.equal(run(calls), 'https://a.example/x;01:02:03;System.Collections.Generic.List`1[System.Int32];https://b.example/;');
  const anys = compile(`@{
    var n = 0;
    foreach (var o in new object[] { new List<int> { 1 }, new Dictionary<string, string>(), new List<int>(), "x", new Dictionary<string, string> { { "a", "b" } } }) if (o.Any()) n++;
    return n;
  }`);
  assert.equal(run(anys), 3);
  const typed = compile('@(context.Variables.GetValueOrDefault<string>("a") + context.Variables.GetValueOrDefault<int>("b", 5))');
  assert.equal(run(typed, { variables: { a: 'x' } }), 'x5');
  assert.equal(run(typed, { variables: { a: 'y', b: 1 } }), 'y1');
  // a method used as a property is still an error after the site has cached the class
  const method = compile('@{ var r = ""; foreach (var u in new[] { new Uri("https://a.example/") }) r += u.Host; return r + new Uri("https://b.example/").GetLeftPart; }');
  assert.throws(() => run(method), (err: unknown) => err instanceof ExpressionError && err.exceptionType === 'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException');
  const nullAfter = compile('@{ var r = ""; foreach (var u in new Uri[] { new Uri("https://a.example/"), null }) r += u.Host; return r; }');
  assert.throws(() => run(nullAfter), (err: unknown) => err instanceof ExpressionError && err.exceptionType === 'System.NullReferenceException');
});

test('LINQ predicates are checked when the first element needs them, as before, and see the index when they take two parameters', () => {
  const e = (src: string) => run(compile(src));
  assert.equal(e('@(new List<int>().Any(null))'), false);
  assert.throws(() => e('@(new List<int> { 1 }.Any(null))'), (err: unknown) => err instanceof ExpressionError && err.exceptionType === 'System.ArgumentNullException');
  assert.equal(e('@(new List<int>().All(null))'), true);
  assert.equal(e('@(new[] { 5, 6, 7 }.Where((x, i) => i != 1).Sum())'), 12);
  assert.equal(e('@(new[] { 5, 6, 7 }.Count(x => x > 5) + new[] { 5, 6, 7 }.Where(x => x > 5).Count(x => x > 6))'), 3);
  assert.equal(e('@(new[] { 1, 2, 3 }.All(x => x > 0) && !new[] { 1, 2, 3 }.Any(x => x > 3))'), true);
});

test('a memoized call in a null-conditional chain: a missing receiver short-circuits, a present one is replaced (and kept)', () => {
  const e = compile('@(context.Request.Headers.GetValueOrDefault("h")?.Replace("a", "b").ToUpper() ?? "none")');
  assert.equal(run(e), 'none');
  const long = 'xa'.repeat(100);
  assert.equal(run(e, { headers: { h: long } }), 'XB'.repeat(100));
  assert.equal(run(e, { headers: { h: copyOf(long) } }), 'XB'.repeat(100));
  assert.equal(run(e), 'none');
  assert.deepEqual(e.memoStats!(), { hits: 2, misses: 2 });
});
