import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPolicyXml, type PolicyElement } from './reader.js';

const find = (el: PolicyElement, name: string): PolicyElement | undefined => (el.name === name ? el : el.children.map((c) => find(c, name)).find(Boolean));

test('raw quotes, < and && inside expressions are read; positions point at the source', () => {
  const text = [
    '<policies>',
    '  <inbound>',
    '    <when condition="@(context.Request.Headers.GetValueOrDefault("A", "<x>") != "" && true)">',
    '      <set-body>@{ return "</set-body>"; }</set-body>',
    '    </when>',
    '  </inbound>',
    '</policies>',
  ].join('\n');
  const r = readPolicyXml('p.xml', text);
  assert.deepEqual(r.diagnostics, []);
  const when = find(r.root!, 'when')!;
  const cond = when.attributes[0]!;
  assert.equal(cond.name, 'condition');
  assert.equal(cond.expression?.text, '@(context.Request.Headers.GetValueOrDefault("A", "<x>") != "" && true)');
  assert.deepEqual(r.file.positionAt(cond.offset), { line: 3, column: 11 });
  assert.deepEqual(r.file.positionAt(cond.expression!.offset), { line: 3, column: 22 });
  assert.deepEqual(r.file.positionAt(when.offset), { line: 3, column: 5 });
  const body = find(r.root!, 'set-body')!;
  assert.equal(body.textExpression?.text, '@{ return "</set-body>"; }');
  assert.deepEqual(r.file.positionAt(body.textExpression!.offset), { line: 4, column: 17 });
});

test('escaped expressions (format xml) are decoded; literal text keeps entities decoded', () => {
  const r = readPolicyXml('p.xml', '<a x="@(&quot;a&quot; + &quot;&lt;&quot;)"><v>a &amp; b</v></a>');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.root!.attributes[0]!.expression?.text, '@("a" + "<")');
  assert.equal(r.root!.children[0]!.text, 'a & b');
});

test('named values are substituted in literals and inside expressions, and may hold an expression', () => {
  const nv = new Map([
    ['Tenant', 'contoso'],
    ['Expr', '@(DateTime.Now)'],
  ]);
  const r = readPolicyXml('p.xml', '<a x="pre-{{Tenant}}" y="@($&quot;https://{{Tenant}}/&quot;)" z="{{Expr}}"><v>{{tenant}}</v></a>', { namedValues: nv });
  assert.deepEqual(r.diagnostics, []);
  const [x, y, z] = r.root!.attributes;
  assert.equal(x!.value, 'pre-contoso');
  assert.equal(y!.expression?.text, '@($"https://contoso/")');
  assert.equal(z!.expression?.text, '@(DateTime.Now)');
  assert.equal(r.root!.children[0]!.text, 'contoso');
  const missing = readPolicyXml('p.xml', '<a x="{{Nope}}"/>', { namedValues: nv });
  assert.equal(missing.diagnostics[0]?.code, 'GH_POLICY_NAMED_VALUE_UNKNOWN');
});

test('malformed XML and mixed expressions are diagnostics with line and column, never exceptions', () => {
  const bad = readPolicyXml('b.xml', '<policies>\n  <inbound>\n    <x a="1">\n  </inbound>\n</policies>');
  assert.equal(bad.root, undefined);
  assert.equal(bad.diagnostics[0]?.code, 'GH_POLICY_XML');
  assert.equal(bad.diagnostics[0]?.line, 4);
  const mixed = readPolicyXml('m.xml', '<a x="@(1) and more"/>');
  assert.equal(mixed.diagnostics[0]?.code, 'GH_POLICY_EXPRESSION_MIXED');
  const unbalanced = readPolicyXml('u.xml', '<a>\n <b x="@(foo("bar")"/>\n</a>');
  assert.equal(unbalanced.diagnostics[0]?.code, 'GH_POLICY_EXPRESSION_UNBALANCED');
  assert.equal(unbalanced.diagnostics[0]?.line, 2);
});

test('comments and CDATA are not scanned for expressions', () => {
  const r = readPolicyXml('c.xml', '<a><!-- @( not an expression --><b><![CDATA[ x < y ]]></b></a>');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.root!.children[0]!.text, 'x < y');
});
