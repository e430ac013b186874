/**
 * The dependency direction of design.md, checked on the import statements under src/.
 * A module may import from its own folder and from the folders listed for it here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const src = resolve(import.meta.dirname, '../src');

export const allowed: Record<string, readonly string[]> = {
  core: [],
  pki: ['core'],
  model: ['core'],
  expr: ['core', 'pki'],
  policy: ['core', 'model', 'expr', 'pki'],
  edge: ['core', 'model', 'pki'],
  apim: ['core', 'model', 'pki', 'policy', 'expr'],
  config: ['core', 'model'],
  check: ['core', 'model', 'policy', 'expr', 'pki', 'config'],
  cli: ['core', 'pki', 'model', 'expr', 'policy', 'edge', 'apim', 'config', 'check'],
};

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function violations(root: string): string[] {
  const found: string[] = [];
  for (const file of files(root)) {
    if (file.endsWith('.test.ts')) continue;
    const area = relative(root, file).split('/')[0]!;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(file), spec)).split('/')[0]!;
      if (target === area || target.startsWith('..')) continue;
      const ok = allowed[area];
      if (!ok) found.push(`${relative(root, file)}: folder src/${area} is not in the dependency table of test/architecture.test.ts`);
      else if (!ok.includes(target)) found.push(`${relative(root, file)} imports src/${target} ('${spec}'); src/${area} may import only ${ok.join(', ') || 'nothing'}`);
    }
  }
  return found;
}

test('src/ follows the dependency direction of design.md', () => {
  assert.deepEqual(violations(src), []);
});

test('the check notices a forbidden import', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'gh-arch-'));
  try {
    mkdirSync(join(dir, 'edge'));
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config', 'x.ts'), "import { start } from '../edge/index.js';\n");
    writeFileSync(join(dir, 'edge', 'index.ts'), "export const start = 1;\n");
    assert.deepEqual(violations(dir), ["config/x.ts imports src/edge ('../edge/index.js'); src/config may import only core, model"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
