// Runs the test suite with node:test. Test files live beside the code (src/**/*.test.ts) and
// under test/ (test/**/*.test.ts). `npm test -- src/pki` runs the files under the given paths.
// Type errors fail the run before any test starts: the suite tests what `npm run build` ships.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const roots = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = (roots.length ? roots : ['src', 'test'])
  .flatMap((r) => (statSync(join(root, r)).isDirectory() ? walk(join(root, r), []) : [r]))
  .sort();

if (!process.env.GATEHOUSE_SKIP_TYPECHECK) {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--noEmit'], { stdio: 'inherit' });
  if (tsc.status !== 0) {
    console.error('typecheck failed: fix the errors above (or set GATEHOUSE_SKIP_TYPECHECK=1 while iterating)');
    process.exit(tsc.status ?? 1);
  }
}
if (files.length === 0) {
  console.error('no test files found under', roots.join(', ') || 'src, test');
  process.exit(1);
}
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...flags, ...files], { stdio: 'inherit', cwd: root });
process.exit(run.status ?? 1);
