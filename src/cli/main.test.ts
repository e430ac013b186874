import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../test/helpers/cli.js';

test('gatehouse --help lists the commands and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^gatehouse — client-certificate/);
  assert.match(r.stdout, /Usage: gatehouse <command>/);
});

test('an unknown command is a usage error with exit code 2', async () => {
  const r = await runCli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});
