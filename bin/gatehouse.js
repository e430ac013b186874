#!/usr/bin/env node
// The installed command runs the compiled CLI (built by `npm ci` through the prepare script).
// In a checkout without dist/ (someone ran `npm install --ignore-scripts`), fall back to the sources via tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (existsSync(dist)) {
  const { main } = await import(pathToFileURL(dist).href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  await import('tsx/esm');
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
