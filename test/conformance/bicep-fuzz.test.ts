// Fuzzing the Bicep front-end: corpus files (and the test fixtures, always) are mutated — bytes
// deleted, brackets and quotes inserted, lines duplicated, the text cut short — and fed to the
// parser and the evaluator. Every run must end with diagnostics (when the text is broken), never an
// exception or a hang. Bounded: a fixed number of mutations from a fixed seed, and a time budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseBicep } from '../../src/config/bicep/parser.js';
import { BicepFile } from '../../src/config/bicep/evaluator.js';
import { DeploymentContext, rootScope } from '../../src/config/arm/context.js';
import { ArmTemplate } from '../../src/config/arm/template.js';
import { CORPUS } from './bicep-samples.js';

function files(dir: string, ext: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, ext, out);
    else if (p.endsWith(ext) && !/\.(syntax|tokens|symbols|diagnostics|formatted|ir|sourcemap)\.bicep$/.test(p)) out.push(p);
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s + Math.imul(s ^ (s >>> 7), 61);
    return ((s ^ (s >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTS = ['{', '}', '[', ']', '(', ')', "'", "'''", '${', '$', '\n', '@', '::', '.?', '=>', '??', '?', ':', ',', '\\', '"', '/*', '//', 'resource', 'for', 'if', '!', '-', '9999999999999999999999', '\u{1F600}', '\r\n'];

function mutate(text: string, r: () => number): string {
  let t = text;
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (t.length + 1));
    switch (Math.floor(r() * 5)) {
      case 0:
        t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 20));
        break;
      case 1:
        t = t.slice(0, at) + INSERTS[Math.floor(r() * INSERTS.length)] + t.slice(at);
        break;
      case 2: {
        const lines = t.split('\n');
        const i = Math.floor(r() * lines.length);
        lines.splice(i, 0, lines[Math.floor(r() * lines.length)] ?? '');
        t = lines.join('\n');
        break;
      }
      case 3:
        t = t.slice(0, at);
        break;
      default:
        t = t.slice(0, at) + t.slice(Math.floor(r() * t.length), Math.floor(r() * t.length)) + t.slice(at);
    }
  }
  return t;
}

test('mutated Bicep and ARM files give diagnostics, never a crash or a hang', { timeout: 120_000 }, (t) => {
  const fixtures = files(join(import.meta.dirname, '../fixtures/bicep'), '.bicep');
  const corpus = files(CORPUS, '.bicep').filter((f) => !/[\\/]Invalid/.test(f));
  const jsons = files(CORPUS, '.json').filter((f) => /user_submitted|baselines[\\/]/.test(f) && !/bicepconfig|parameters\.json|snapshot/.test(f)).slice(0, 60);
  if (!corpus.length) t.diagnostic(`the corpus is not at ${CORPUS}: fuzzing the test fixtures only`);
  const sources = [...fixtures, ...corpus];
  const r = rng(0x6a7e);
  const budgetMs = 40_000;
  const started = Date.now();
  let runs = 0;
  let withErrors = 0;
  let slowest = 0;
  const MAX = 400;
  for (let i = 0; i < MAX && Date.now() - started < budgetMs; i++) {
    const file = sources[Math.floor(r() * sources.length)]!;
    const text = mutate(readFileSync(file, 'utf8'), r);
    const t0 = performance.now();
    // the parser alone
    const { errors } = parseBicep(text);
    for (const e of errors) assert.ok(e.start >= 0 && e.start <= text.length + 1, `${file}: error offset in range`);
    // the whole evaluator, modules resolved next to the original file
    const ctx = new DeploymentContext();
    ctx.loadUnit = (path, scope, params) => (path.endsWith('.json') ? new ArmTemplate(ctx, path, scope, params) : new BicepFile(ctx, path, scope, { params }));
    ctx.provideText(file, text);
    try {
      const unit = new BicepFile(ctx, file, rootScope('resourceGroup', 's', 'rg', 'fuzz'), { unknownParamsAllowed: true });
      ctx.addResourceSource(() => unit.resources());
      unit.evaluateAll();
      for (const n of unit.outputNames()) {
        try {
          unit.output(n);
        } catch (e) {
          ctx.report(e, file);
        }
      }
      ctx.network.build();
    } catch (e) {
      assert.fail(`${file} (mutation ${i}) crashed the evaluator: ${(e as Error).stack}\n--- text ---\n${text.slice(0, 2000)}`);
    }
    if (errors.length) {
      withErrors++;
      assert.ok(ctx.diagnostics.errors.some((d) => d.code === 'GH_BICEP_SYNTAX' && d.line !== undefined && d.column !== undefined), `${file}: syntax errors are diagnostics with a position`);
    }
    for (const d of ctx.diagnostics.items) assert.ok(d.code.startsWith('GH_'), d.code);
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    assert.ok(ms < 5000, `${file} (mutation ${i}) took ${ms.toFixed(0)} ms`);
    runs++;
  }
  // ARM templates: mutated JSON text and mutated expressions
  for (let i = 0; i < jsons.length * 2 && Date.now() - started < budgetMs; i++) {
    const file = jsons[Math.floor(r() * jsons.length)]!;
    const text = readFileSync(file, 'utf8').replace(/"\[([^"\n]{0,200})\]"/g, (m, inner: string) => (r() < 0.15 ? `"[${mutate(inner, r).replace(/["\n\\]/g, '')}]"` : m));
    const ctx = new DeploymentContext();
    ctx.provideText(file, text);
    ctx.loadUnit = (path, scope, params) => new ArmTemplate(ctx, path, scope, params);
    try {
      const unit = new ArmTemplate(ctx, file, rootScope('resourceGroup', 's', 'rg', 'fuzz'), new Map(), { unknownParamsAllowed: true });
      ctx.addResourceSource(() => unit.resources());
      unit.evaluateAll();
    } catch (e) {
      // a template that does not parse as JSON is reported by the constructor as a LocatedError
      assert.match(String((e as Error).message), /JSON|template/, `${file}: ${(e as Error).stack}`);
    }
    runs++;
  }
  t.diagnostic(`${runs} mutated files in ${Date.now() - started} ms (${withErrors} with syntax errors); slowest Bicep run ${slowest.toFixed(0)} ms`);
  assert.ok(runs >= 50, `only ${runs} runs in the time budget`);
});
