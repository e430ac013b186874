/**
 * Every error code Gatehouse defines, from the code itself: imports every module under src/ (each
 * area registers its codes with defineCodes) and renders docs/error-codes.md.
 *   node --import tsx scripts/error-codes.ts          write docs/error-codes.md
 *   node --import tsx scripts/error-codes.ts --check  exit 1 when the file is out of date
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
export const docPath = join(root, 'docs/error-codes.md');

function modules(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) modules(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Codes retired from use: listed so that they are never defined again. */
function retired(text: string): string[] {
  const section = text.split(/^## Retired codes$/m)[1] ?? '';
  return [...section.matchAll(/^\| `(GH_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
}

export async function collectCodes(): Promise<[string, string][]> {
  for (const file of modules(join(root, 'src')).sort()) await import(pathToFileURL(file).href);
  const { knownCodes } = await import(pathToFileURL(join(root, 'src/core/errors.ts')).href);
  return Object.entries(knownCodes() as Record<string, string>).sort(([a], [b]) => a.localeCompare(b));
}

export function render(codes: [string, string][], previous: string): string {
  const gone = retired(previous);
  const rows = codes.map(([code, meaning]) => `| \`${code}\` | ${meaning.replace(/\|/g, '\\|')} |`);
  return [
    '# Error codes',
    '',
    'Every error and diagnostic Gatehouse reports carries one of these stable codes. The list is',
    'generated from the code (`node --import tsx scripts/error-codes.ts`); `test/error-codes.test.ts`',
    'fails when it and the code disagree. A retired code is never reused.',
    '',
    '| code | meaning |',
    '|---|---|',
    ...rows,
    '',
    '## Retired codes',
    '',
    '| code | retired because |',
    '|---|---|',
    ...gone.map((c) => `| \`${c}\` | ${(new RegExp(`^\\| \`${c}\` \\| (.*) \\|$`, 'm').exec(previous.split(/^## Retired codes$/m)[1] ?? '')?.[1]) ?? ''} |`),
    '',
  ].join('\n');
}

export function retiredCodes(text: string): string[] {
  return retired(text);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  let previous = '';
  try {
    previous = readFileSync(docPath, 'utf8');
  } catch {
    // first run
  }
  const next = render(await collectCodes(), previous);
  if (process.argv.includes('--check')) {
    if (next !== previous) {
      console.error('docs/error-codes.md is out of date: run node --import tsx scripts/error-codes.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(docPath, next);
    console.log(`wrote ${docPath}`);
  }
}
