/**
 * `gatehouse policy lint FILE…` as a user runs it: FILE:LINE:COLUMN diagnostics, warnings for real
 * policies Gatehouse does not run, exit 1 only on errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gh-lint-'));
  writeFileSync(
    join(dir, 'bad.xml'),
    [
      '<policies>',
      '  <inbound>',
      '    <base />',
      '    <set-hedaer name="x" />',
      '    <set-header nmae="x" name="y" />',
      '    <validate-content max-size="1024" />',
      '    <set-variable name="v" value="@(context.Request.Headers.GetValueOrDefault("A", "<none>"))" />',
      '  </inbound>',
      '  <backend><forward-request timeout="soon" /></backend>',
      '</policies>',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'good.cshtml'),
    `<policies>
  <inbound>
    <base />
    <choose>
      <when condition="@(context.Request.Certificate == null || !context.Request.Certificate.VerifyNoRevocation())">
        <return-response><set-status code="401" reason="Invalid client certificate" /></return-response>
      </when>
    </choose>
    <get-authorization-context provider-id="github" authorization-id="auth" context-variable-name="ctx" />
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`,
  );
  writeFileSync(join(dir, 'broken.xml'), '<policies>\n  <inbound>\n    <set-body>@(context.Request.Body.As<string>(</set-body>\n  </inbound>\n</policies>');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('errors and warnings of every file, FILE:LINE:COLUMN, exit code 1', async () => {
  const r = await runCli(['policy', 'lint', 'bad.xml', 'good.cshtml', 'broken.xml'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    "bad.xml:4:5: error GH_POLICY_UNKNOWN_ELEMENT <set-hedaer> is not an API Management policy (did you mean <set-header>?)",
    "bad.xml:5:17: error GH_POLICY_UNKNOWN_ATTRIBUTE <set-header> has no attribute 'nmae' (did you mean 'name'?)",
    'bad.xml:6:5: warning GH_POLICY_NOT_SUPPORTED <validate-content> is an API Management policy that Gatehouse does not run yet',
    "bad.xml:9:29: error GH_POLICY_INVALID_VALUE <forward-request> attribute 'timeout' must be an integer, got 'soon'",
    'good.cshtml:9:5: warning GH_POLICY_NOT_SUPPORTED <get-authorization-context> is an API Management policy that Gatehouse does not run yet',
    "broken.xml:3:48: error GH_POLICY_EXPRESSION_UNBALANCED expression: '(' is never closed",
  ]);
  assert.match(r.stderr, /3 files: 4 errors, 2 warnings/);
});

test('warnings only: exit code 0', async () => {
  const r = await runCli(['policy', 'lint', 'good.cshtml'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('no file is a usage error', async () => {
  const r = await runCli(['policy', 'lint'], { cwd: dir });
  assert.equal(r.code, 2);
});
