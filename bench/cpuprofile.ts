/**
 * Summarise a V8 .cpuprofile (what `node --cpu-prof` writes): self time per function, inclusive
 * time per function (each sample counted once per function on its stack), and self time per file.
 * Usage: node --import tsx bench/cpuprofile.ts FILE.cpuprofile [--top N | --folded]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileRow {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}
export interface ProfileSummary {
  readonly totalMs: number;
  /** Time not idle: total minus (idle). */
  readonly busyMs: number;
  readonly self: readonly ProfileRow[];
  readonly inclusive: readonly ProfileRow[];
  readonly files: readonly ProfileRow[];
}

const root = fileURLToPath(new URL('..', import.meta.url));

function where(cf: CallFrame): string {
  let url = cf.url;
  if (url.startsWith('file://')) {
    try {
      url = relative(root, fileURLToPath(url));
    } catch {
      // keep the URL
    }
  }
  url = url.replace(/^.*node_modules\//, 'node_modules/');
  // Gatehouse compiled by bench/run.ts into its temp dir: name the file as dist/ would
  url = url.replace(/^.*\/gatehouse\/dist\//, 'dist/');
  return url;
}

function label(cf: CallFrame): string {
  const file = where(cf);
  const name = cf.functionName || '(anonymous)';
  return file ? `${name} ${file}:${cf.lineNumber + 1}` : name;
}

export function summariseProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const key = label(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const file = where(node.callFrame) || node.callFrame.functionName;
    files.set(file, (files.get(file) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = label(byId.get(id)!.callFrame);
      if (k === '(root)' || seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: busy > 0 ? ms / busy : 0 }));
  return { totalMs: Math.round(total), busyMs: Math.round(busy), self: rows(self), inclusive: rows(incl), files: rows(files) };
}

/**
 * Folded stacks (`root;caller;callee count` per line), the input of flamegraph.pl, speedscope and
 * inferno: a flame graph without adding a tool to the project. Idle samples are left out.
 */
export function foldedStacks(profile: CpuProfile): string {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const frames: string[] = [];
    for (let i: number | undefined = id; i !== undefined; i = parent.get(i)) {
      const cf = byId.get(i)!.callFrame;
      if (cf.functionName === '(root)') continue;
      frames.push(label(cf).replace(/[;\s]+/g, '_'));
    }
    const key = frames.reverse().join(';');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ${n}`).join('\n') + '\n';
}

export function formatSummary(s: ProfileSummary): string {
  const pct = (r: ProfileRow) => `${(r.share * 100).toFixed(1).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.name}`;
  return [
    `profile: ${s.totalMs} ms sampled, ${s.busyMs} ms busy (shares below are of busy time)`,
    'self time, by function:',
    ...s.self.map(pct),
    'inclusive time, by function (a sample counts once per function on its stack):',
    ...s.inclusive.map(pct),
    'self time, by file:',
    ...s.files.map(pct),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/cpuprofile.ts FILE.cpuprofile [--top N | --folded]\n');
    process.exit(2);
  }
  if (process.argv.includes('--folded')) {
    process.stdout.write(foldedStacks(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile));
    process.exit(0);
  }
  const topAt = process.argv.indexOf('--top');
  const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
  process.stdout.write(formatSummary(summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top)) + '\n');
}
