import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanExpression } from './csharp-scan.js';

const end = (text: string) => {
  const r = scanExpression(text, 0);
  if ('error' in r) throw new Error(`${r.error} at ${r.at}`);
  return text.slice(0, r.end);
};

test('finds the end of @(…) and @{…} past C# strings, chars, comments and nested brackets', () => {
  const cases: [string, string][] = [
    ['@(true)" rest', '@(true)'],
    ['@(context.Request.Headers.GetValueOrDefault("X-A)", "")) tail', '@(context.Request.Headers.GetValueOrDefault("X-A)", ""))'],
    ['@(x == \'(\' ? 1 : 2)', "@(x == '(' ? 1 : 2)"],
    ['@(@"C:\\path"")(" + a)', '@(@"C:\\path"")(" + a)'],
    ['@($"{a.Select(x => x)}){{")', '@($"{a.Select(x => x)}){{")'],
    ['@($@"{b}""")x', '@($@"{b}""")'],
    ['@{ // ) comment\n return 1; }', '@{ // ) comment\n return 1; }'],
    ['@{ /* } */ return new[] { 1 }; }', '@{ /* } */ return new[] { 1 }; }'],
    ['@(a < b && c > d)"', '@(a < b && c > d)'],
    ['@("\\"(")', '@("\\"(")'],
    ['@($"{(a ? "x" : $"{b}")}")', '@($"{(a ? "x" : $"{b}")}")'],
  ];
  for (const [input, want] of cases) assert.equal(end(input), want, input);
});

test('reports unbalanced brackets and unterminated literals with a position', () => {
  for (const [input, msg] of [
    ['@(a(', /never closed/],
    ['@(a]', /does not match/],
    ['@("abc)', /unterminated string/],
    ['@{ /* x }', /unterminated comment/],
    ["@('a)", /unterminated character/],
  ] as const) {
    const r = scanExpression(input, 0);
    assert.ok('error' in r, input);
    assert.match((r as { error: string }).error, msg, input);
  }
});
