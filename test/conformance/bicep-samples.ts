/**
 * Conformance of the Bicep front-end against the Azure/bicep sample corpus (MIT, copied under
 * ../shared/corpus/bicep-samples). Never hand-written expectations:
 *  - user_submitted and baselines: every X.bicep with a compiled X.json beside it is evaluated, and
 *    so is X.json (with the ARM front-end), under the same parameters and context; the resources
 *    (id, type, name, apiVersion and every property) and the outputs must be equal.
 *  - baselines_bicepparam: parameters.bicepparam is evaluated and compared with parameters.json,
 *    which holds the values the ARM engine computed.
 *  - snapshot: main.bicepparam + main.bicep evaluated with the snapshot's context (subscription
 *    00000000-…, resource group myRg) and compared with main.snapshot.json (the engine's
 *    predicted resources); a value the snapshot leaves as an unevaluated "[…]" expression matches
 *    anything.
 *
 * Run: node --import tsx test/conformance/bicep-samples.ts [filter]   (prints the report)
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { evaluateDeploymentSync, type DeploymentResult } from '../../src/config/deployment.js';
import { formatDiagnostic } from '../../src/core/diagnostics.js';
import { BicepFile } from '../../src/config/bicep/evaluator.js';
import { DeploymentContext, rootScope } from '../../src/config/arm/context.js';
import { Unknown, isObject } from '../../src/config/arm/value.js';

export const CORPUS = join(import.meta.dirname, '../../../shared/corpus/bicep-samples');

export type Corpus = 'user_submitted' | 'baselines' | 'baselines_bicepparam' | 'snapshot';

export interface SampleResult {
  readonly corpus: Corpus;
  readonly file: string;
  readonly ok: boolean;
  readonly reason?: string;
  /** Uses Microsoft.Network/* or Microsoft.ApiManagement/* (in the file or its compiled modules). */
  readonly network: boolean;
  readonly ms: number;
  /** Both front-ends reject the sample with the same error codes (it cannot deploy as written). */
  readonly bothReject?: boolean;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const FIXED_NOW = new Date('2024-01-01T00:00:00Z');

/** Values for parameters without defaults, from the compiled template's declarations. */
export function syntheticParams(template: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObject(template) || !isObject(template.parameters)) return out;
  const defs = isObject(template.definitions) ? template.definitions : {};
  for (const [name, d0] of Object.entries(template.parameters)) {
    let d = isObject(d0) ? d0 : {};
    if (typeof d.$ref === 'string') {
      const ref = defs[d.$ref.replace('#/definitions/', '')];
      if (isObject(ref)) d = { ...ref, ...d };
    }
    if ('defaultValue' in d || d.nullable === true) continue;
    if (Array.isArray(d.allowedValues) && d.allowedValues.length) {
      out[name] = String(d.type).toLowerCase() === 'array' ? [d.allowedValues[0]] : d.allowedValues[0];
      continue;
    }
    switch (String(d.type).toLowerCase()) {
      case 'int':
        out[name] = typeof d.minValue === 'number' ? d.minValue : 1;
        break;
      case 'bool':
        out[name] = true;
        break;
      case 'object':
      case 'secureobject':
        out[name] = {};
        break;
      case 'array':
        out[name] = Array.from({ length: typeof d.minLength === 'number' ? d.minLength : 0 }, (_, i) => `item${i}`);
        break;
      default: {
        const min = typeof d.minLength === 'number' ? d.minLength : 0;
        const max = typeof d.maxLength === 'number' ? d.maxLength : 24;
        let s = `p${name.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, Math.max(1, max));
        while (s.length < min) s += 'x';
        out[name] = s;
      }
    }
  }
  return out;
}

/** Comparable form: Unknown markers become one token; keys that are not part of the desired state go. */
function normalize(v: unknown, depth = 0): unknown {
  if (depth > 60) return v;
  if (v instanceof Unknown) return '<unknown>';
  // resource ids and types are case-insensitive in ARM (bicep build may change their case)
  if (typeof v === 'string' && /^\/(subscriptions|providers|tenants)\//i.test(v)) return v.toLowerCase();
  if (Array.isArray(v)) return v.map((x) => normalize(x, depth + 1));
  if (isObject(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[/^\/(subscriptions|providers)\//i.test(k) ? k.toLowerCase() : k] = normalize(v[k], depth + 1);
    return o;
  }
  return v;
}

const SKIP_KEYS = new Set(['origin', 'symbolicName', 'existing', 'runtime', 'dependsOn', 'metadata', 'comments', 'loadedFiles', 'policyFile']);

function resourcesOf(r: DeploymentResult, declaredOnly = false): Record<string, unknown>[] {
  return r.resources
    .filter((x) => !x.existing)
    .map((x) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x)) if (!SKIP_KEYS.has(k)) o[k] = k === 'type' && typeof v === 'string' ? v.toLowerCase() : v;
      // the snapshot shows declared properties only: take out what the network model assigned
      if (declaredOnly && x.runtime && isObject(o.properties)) {
        const p = { ...o.properties };
        for (const k of Object.keys(x.runtime)) delete p[k];
        o.properties = p;
      }
      return normalize(o) as Record<string, unknown>;
    })
    .sort((a, b) => (String(a.id).toLowerCase() < String(b.id).toLowerCase() ? -1 : 1));
}

/** First difference between two values, as a path, or undefined when equal. */
export function firstDiff(a: unknown, b: unknown, path = '$', matchExpr = false): string | undefined {
  if (matchExpr && typeof b === 'string' && b.startsWith('[') && b.endsWith(']') && !b.startsWith('[[')) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: ${a.length} items vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDiff(a[i], b[i], `${path}[${i}]`, matchExpr);
      if (d) return d;
    }
    return undefined;
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (!(k in a)) return `${path}.${k}: missing on the Bicep side (${short(b[k])})`;
      if (!(k in b)) return `${path}.${k}: missing on the JSON side (${short(a[k])})`;
      const d = firstDiff(a[k], b[k], `${path}.${k}`, matchExpr);
      if (d) return d;
    }
    return undefined;
  }
  if (a === b) return undefined;
  return `${path}: ${short(a)} vs ${short(b)}`;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 120 ? s.slice(0, 120) + '…' : s;
}

function errorsOf(r: DeploymentResult, root: string): string | undefined {
  const e = r.diagnostics.filter((d) => d.severity === 'error');
  if (!e.length) return undefined;
  return e.slice(0, 2).map((d) => formatDiagnostic({ ...d, file: d.file ? relative(root, d.file) : '' })).join(' | ');
}

function timed(f: () => { ok: boolean; reason?: string; bothReject?: boolean }): { ok: boolean; reason?: string; ms: number; bothReject?: boolean } {
  const t0 = performance.now();
  try {
    const r = f();
    return { ...r, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, reason: `crash: ${(e as Error).stack?.split('\n').slice(0, 3).join(' ')}`, ms: performance.now() - t0 };
  }
}

export function differential(bicep: string, json: string, root = CORPUS): { ok: boolean; reason?: string; bothReject?: boolean } {
  const template = JSON.parse(readFileSync(json, 'utf8'));
  const params = syntheticParams(template);
  const a = evaluateDeploymentSync(bicep, { params, now: FIXED_NOW });
  const b = evaluateDeploymentSync(json, { params, now: FIXED_NOW });
  const ea = errorsOf(a, root);
  const eb = errorsOf(b, root);
  if (ea && eb) {
    // the sample cannot deploy as written (Azure would reject it too): both front-ends must say so alike
    const codes = (r: DeploymentResult) => [...new Set(r.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'GH_INTERNAL').map((d) => d.code))].sort().join(',');
    const cb = new Set(codes(b).split(','));
    if (codes(a).split(',').some((c) => cb.has(c))) return { ok: true, bothReject: true };
    return { ok: false, reason: `both reject, differently: bicep ${codes(a)} (${ea}) / json ${codes(b)} (${eb})` };
  }
  if (ea || eb) return { ok: false, reason: ea ? `bicep: ${ea}` : `json: ${eb}` };
  const d = firstDiff(resourcesOf(a), resourcesOf(b), 'resources');
  if (d) return { ok: false, reason: d };
  const o = firstDiff(normalize(a.outputs), normalize(b.outputs), 'outputs');
  if (o) return { ok: false, reason: o };
  return { ok: true };
}

function paramsBaseline(dir: string, root: string): { ok: boolean; reason?: string } {
  const expected = JSON.parse(readFileSync(join(dir, 'parameters.json'), 'utf8'));
  const ctx = new DeploymentContext({ now: FIXED_NOW });
  const f = new BicepFile(ctx, join(dir, 'parameters.bicepparam'), rootScope('resourceGroup', '00000000-0000-0000-0000-000000000000', 'myRg', 'main'));
  const actual: Record<string, unknown> = {};
  for (const [k, thunk] of f.paramAssignments()) {
    try {
      actual[k] = thunk();
    } catch (e) {
      ctx.report(e, f.source);
    }
  }
  const errs = ctx.diagnostics.errors;
  if (errs.length) return { ok: false, reason: formatDiagnostic({ ...errs[0]!, file: errs[0]!.file ? relative(root, errs[0]!.file) : '' }) };
  const exp: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(isObject(expected.parameters) ? expected.parameters : {})) exp[k] = isObject(v) && 'value' in v ? v.value : '<reference>';
  for (const [k, v] of Object.entries(actual)) if (exp[k] === '<reference>') actual[k] = '<reference>';
  const d = firstDiff(normalize(actual), normalize(exp), 'parameters', true);
  return d ? { ok: false, reason: d } : { ok: true };
}

function snapshot(dir: string, root: string): { ok: boolean; reason?: string } {
  const expected = JSON.parse(readFileSync(join(dir, 'main.snapshot.json'), 'utf8'));
  const r = evaluateDeploymentSync(join(dir, 'main.bicepparam'), { subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'myRg', deploymentName: 'main', now: FIXED_NOW });
  const e = errorsOf(r, root);
  if (e) return { ok: false, reason: e };
  const exp = (Array.isArray(expected.predictedResources) ? expected.predictedResources : [])
    .map((x: unknown) => normalize(isObject(x) && typeof x.type === 'string' ? { ...x, type: x.type.toLowerCase() } : x))
    .sort((a: any, b: any) => (String(a.id).toLowerCase() < String(b.id).toLowerCase() ? -1 : 1));
  const act = resourcesOf(r, true).map((x) => {
    const o = { ...x };
    if (isObject(exp[0]) && !('properties' in o)) o.properties = {};
    return o;
  });
  const d = firstDiff(act, exp, 'predictedResources', true);
  if (d) return { ok: false, reason: d };
  const o = firstDiff(normalize(r.outputs), normalize(expected.outputs ?? {}), 'outputs', true);
  return o ? { ok: false, reason: o } : { ok: true };
}

function usesNetwork(...files: string[]): boolean {
  return files.some((f) => existsSync(f) && /Microsoft\.(Network|ApiManagement)\//.test(readFileSync(f, 'utf8')));
}

export function runBicepConformance(root = CORPUS, filter?: string): SampleResult[] {
  const results: SampleResult[] = [];
  const keep = (f: string) => !filter || f.includes(filter);
  for (const corpus of ['user_submitted', 'baselines'] as const) {
    const dir = join(root, corpus);
    if (!existsSync(dir)) continue;
    for (const f of walk(dir).sort()) {
      if (!f.endsWith('.bicep') || /\.(syntax|tokens|symbols|diagnostics|formatted|ir|sourcemap)\.bicep$/.test(f) || /[\\/]Invalid/.test(f)) continue;
      const json = f.replace(/\.bicep$/, '.json');
      if (!existsSync(json) || !keep(f)) continue;
      const r = timed(() => differential(f, json, root));
      results.push({ corpus, file: relative(root, f), network: usesNetwork(f, json), ...r });
    }
  }
  const bp = join(root, 'baselines_bicepparam');
  if (existsSync(bp))
    for (const d of readdirSync(bp).sort()) {
      const dir = join(bp, d);
      if (/^Invalid/.test(d) || !existsSync(join(dir, 'parameters.json')) || !existsSync(join(dir, 'parameters.bicepparam')) || !keep(dir)) continue;
      const r = timed(() => paramsBaseline(dir, root));
      results.push({ corpus: 'baselines_bicepparam', file: relative(root, join(dir, 'parameters.bicepparam')), network: false, ...r });
    }
  const sn = join(root, 'snapshot');
  if (existsSync(sn))
    for (const d of readdirSync(sn).sort()) {
      const dir = join(sn, d);
      if (!existsSync(join(dir, 'main.snapshot.json')) || !existsSync(join(dir, 'main.bicepparam')) || !keep(dir)) continue;
      const r = timed(() => snapshot(dir, root));
      results.push({ corpus: 'snapshot', file: relative(root, join(dir, 'main.bicepparam')), network: usesNetwork(join(dir, 'main.bicep')), ...r });
    }
  return results;
}

export interface InvalidResult {
  readonly file: string;
  /** Errors Gatehouse reports for the file (every Invalid sample must have some). */
  readonly errors: number;
  /** Lines Bicep marks with an error (main.diagnostics.bicep), and how many of them Gatehouse marks too. */
  readonly bicepErrorLines?: number;
  readonly sameLines?: number;
}

/** The corpus' Invalid* samples: Gatehouse must reject each; where Bicep's diagnostics baseline exists, measure line recall. */
export function runInvalidSamples(root = CORPUS): InvalidResult[] {
  const out: InvalidResult[] = [];
  for (const base of ['baselines', 'baselines_bicepparam']) {
    const dir = join(root, base);
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir).sort()) {
      if (!/^Invalid/.test(d)) continue;
      const main = join(dir, d, 'main.bicep');
      const file = base === 'baselines' && existsSync(main) ? main : join(dir, d, 'parameters.bicepparam');
      if (!existsSync(file)) continue;
      const r = evaluateDeploymentSync(file, { unknownParamsAllowed: true, now: FIXED_NOW });
      const errors = r.diagnostics.filter((x) => x.severity === 'error');
      const diagFile = file.replace(/\.(bicep|bicepparam)$/, '.diagnostics.$1');
      if (!existsSync(diagFile)) {
        out.push({ file: relative(root, file), errors: errors.length });
        continue;
      }
      const bicepLines = new Set<number>();
      let line = 0;
      for (const l of readFileSync(diagFile, 'utf8').split(/\r?\n/)) {
        if (l.startsWith('//@[')) {
          if (/\(Error\)/.test(l)) bicepLines.add(line);
        } else line++;
      }
      const ours = new Set(errors.filter((x) => x.file === file).map((x) => x.line));
      out.push({ file: relative(root, file), errors: errors.length, bicepErrorLines: bicepLines.size, sameLines: [...bicepLines].filter((l) => ours.has(l)).length });
    }
  }
  return out;
}

export function summarizeInvalid(rs: InvalidResult[]): string {
  const withLines = rs.filter((r) => r.bicepErrorLines);
  const b = withLines.reduce((a, r) => a + (r.bicepErrorLines ?? 0), 0);
  const same = withLines.reduce((a, r) => a + (r.sameLines ?? 0), 0);
  return `invalid samples rejected: ${rs.filter((r) => r.errors > 0).length}/${rs.length}; lines Bicep marks as errors that Gatehouse marks too: ${same}/${b} (${b ? ((100 * same) / b).toFixed(1) : '0'}%)`;
}

export function summarize(results: SampleResult[]): string {
  const rate = (xs: SampleResult[]) => `${xs.filter((x) => x.ok).length}/${xs.length} (${xs.length ? ((100 * xs.filter((x) => x.ok).length) / xs.length).toFixed(1) : '0.0'}%)`;
  const strict = (xs: SampleResult[]) => `${xs.filter((x) => x.ok && !x.bothReject).length}/${xs.length} evaluate and match`;
  const net = results.filter((r) => r.network);
  const lines = [
    `overall: ${rate(results)} agree (${strict(results)}; ${results.filter((r) => r.bothReject).length} are rejected alike by both front-ends)`,
    `Microsoft.Network/* or Microsoft.ApiManagement/*: ${rate(net)} agree (${strict(net)}; ${net.filter((r) => r.bothReject).length} rejected alike)`,
  ];
  for (const c of ['user_submitted', 'baselines', 'baselines_bicepparam', 'snapshot'] as const) lines.push(`  ${c}: ${rate(results.filter((r) => r.corpus === c))}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  if (!existsSync(CORPUS)) {
    console.log(`skipped: the corpus is not at ${CORPUS}`);
  } else {
    const results = runBicepConformance(CORPUS, process.argv[2]);
    for (const r of results) if (!r.ok) console.log(`FAIL ${r.network ? '[net] ' : ''}${r.file}: ${r.reason}`);
    console.log(summarize(results));
    if (!process.argv[2]) console.log(summarizeInvalid(runInvalidSamples(CORPUS)));
    const slow = [...results].sort((a, b) => b.ms - a.ms)[0];
    if (slow) console.log(`slowest: ${slow.file} ${slow.ms.toFixed(0)} ms`);
  }
}
