import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicyDocument, composeScopes, type CompiledDocument } from './document.js';
import { defaultRegistry } from './policies/index.js';
import type { PolicyScope } from './runtime.js';

const registry = defaultRegistry();
const doc = (scope: PolicyScope, inbound: string, more = '') => {
  const r = compilePolicyDocument(`${scope}.xml`, `<policies><inbound>${inbound}</inbound>${more}</policies>`, { scope, mode: 'run', registry });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  return r.document!;
};
const tag = (name: string) => `<set-variable name="${name}" value="1" />`;
const names = (docs: (CompiledDocument | undefined)[]) => composeScopes(docs).inbound.map((s) => `${s.scope}`);

test('<base/> places the broader scope where it stands, recursively', () => {
  const g = doc('global', tag('g'));
  const p = doc('product', `${tag('p1')}<base/>${tag('p2')}`);
  const a = doc('api', `<base/>${tag('a')}`);
  const o = doc('operation', `${tag('o1')}<base/>`);
  assert.deepEqual(names([g, p, a, o]), ['operation', 'product', 'global', 'product', 'api']);
});

test('a scope without <base/> drops the broader scopes for that section only; absent scopes and sections inherit', () => {
  const g = doc('global', tag('g'), '<backend><forward-request/></backend>');
  const a = doc('api', tag('a'));
  const composed = composeScopes([g, undefined, a, undefined]);
  assert.deepEqual(composed.inbound.map((s) => s.scope), ['api']);
  assert.deepEqual(composed.backend.map((s) => s.name), ['forward-request']);
});

test('diagnostics: unknown element and attribute, wrong section, duplicate base, not-run policy (warning in lint, error at run)', () => {
  const text = `<policies>
  <inbound><base/><base/><set-hedaer name="a"/><set-header nmae="x" name="y"/><validate-content/></inbound>
  <backend><validate-client-certificate/></backend>
  <outbound/><on-error/><extra/>
</policies>`;
  const run = compilePolicyDocument('d.xml', text, { scope: 'api', mode: 'run', registry }).diagnostics;
  const codes = run.map((d) => `${d.line}:${d.column} ${d.severity} ${d.code}`);
  assert.deepEqual(codes, [
    '2:19 error GH_POLICY_DUPLICATE_BASE',
    '2:26 error GH_POLICY_UNKNOWN_ELEMENT',
    '2:60 error GH_POLICY_UNKNOWN_ATTRIBUTE',
    '2:79 error GH_POLICY_NOT_SUPPORTED',
    '3:12 error GH_POLICY_WRONG_SECTION',
    '4:25 error GH_POLICY_STRUCTURE',
  ]);
  assert.match(run[1]!.message, /did you mean <set-header>/);
  const lint = compilePolicyDocument('d.xml', text, { scope: 'api', mode: 'lint', registry }).diagnostics;
  assert.equal(lint.find((d) => d.code === 'GH_POLICY_NOT_SUPPORTED')?.severity, 'warning');
});

test('attributes that take no expressions, and literal values that are not valid, are errors', () => {
  const r = compilePolicyDocument('e.xml', '<policies><inbound><set-variable name="@(1)" value="x"/><set-status code="abc"/><set-header name="a" exists-action="sometimes"/></inbound></policies>', { scope: 'api', mode: 'run', registry });
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['GH_POLICY_EXPRESSION_NOT_ALLOWED', 'GH_POLICY_INVALID_VALUE', 'GH_POLICY_INVALID_VALUE'],
  );
});
