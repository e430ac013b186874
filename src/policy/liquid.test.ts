import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiquidError, parseLiquid, renderLiquid } from './liquid.js';
import { bodyText, inbound, runPolicy } from './testing.js';

const render = (t: string, vars: Record<string, unknown>) => renderLiquid(parseLiquid(t), vars);

test('output, paths, filters, whitespace control', () => {
  const vars = { context: { Request: { Method: 'GET', Headers: { 'X-A': 'a' }, MatchedParameters: { id: '7' } } }, body: { customer: { name: 'Ann', tags: ['x', 'y'] } } };
  assert.equal(render('{{ context.Request.Method }} {{context.Request.MatchedParameters["id"]}}', vars), 'GET 7');
  assert.equal(render('{{ body.customer.name | Upcase | Append: "!" }}', vars), 'ANN!');
  assert.equal(render("{{ body.missing | Default: 'none' }}", vars), 'none');
  assert.equal(render('{{ body.customer.tags | Join: "," }} {{ body.customer.tags.size }}', vars), 'x,y 2');
  assert.equal(render('a  {{- body.customer.name -}}  b', vars), 'aAnnb');
});

test('assign, if/elsif/else, unless, for with forloop, comment and raw', () => {
  const vars = { body: { n: 3, items: [{ id: 1 }, { id: 2 }] }, context: { Request: { Headers: { A: '1', B: '2' } } } };
  assert.equal(render('{% assign x = body.n %}{% if x > 5 %}big{% elsif x == 3 %}three{% else %}small{% endif %}', vars), 'three');
  assert.equal(render('{% unless body.n == 3 %}no{% else %}yes{% endunless %}', vars), 'yes');
  assert.equal(render('{% for i in body.items %}{{ i.id }}{% if forloop.last %}.{% else %},{% endif %}{% endfor %}', vars), '1,2.');
  assert.equal(render('{% for h in context.Request.Headers %}{{ h.Key }}={{ h.Value }};{% endfor %}', vars), 'A=1;B=2;');
  assert.equal(render('{% comment %}{{ gone }}{% endcomment %}{% raw %}{{ kept }}{% endraw %}', vars), '{{ kept }}');
  assert.equal(render("{% if body.n > 1 and body.items contains 'z' %}a{% else %}b{% endif %}", vars), 'b');
});

test('unknown tags and filters, and unclosed blocks, are errors at parse time', () => {
  assert.throws(() => parseLiquid('{% include "x" %}'), LiquidError);
  assert.throws(() => parseLiquid('{{ a | Frobnicate }}'), LiquidError);
  assert.throws(() => parseLiquid('{% if a %}x'), LiquidError);
});

test('set-body template="liquid" renders against the request and its JSON body', async () => {
  const r = await runPolicy(
    inbound(`<return-response><set-body template="liquid">{"user": "{{body.user | Upcase}}", "id": "{{context.Request.MatchedParameters["id"]}}", "m": "{{context.Request.Method}}"}</set-body></return-response>`),
    { method: 'POST', body: '{"user":"ann"}', matchedParameters: { id: '42' } },
  );
  assert.equal(bodyText(r), '{"user": "ANN", "id": "42", "m": "POST"}');
});
