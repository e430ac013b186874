import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from '../../core/headers.js';
import { bodyText, inbound, runPolicy } from '../testing.js';
import { jsonToXml, xmlToJson } from './json-xml.js';

test('json-to-xml and xml-to-json follow the @attribute / #text / repeated-element conventions', () => {
  assert.equal(jsonToXml({ order: { '@id': '7', item: [{ sku: 'a' }, { sku: 'b' }], note: 'x < y' } }), '<order id="7"><item><sku>a</sku></item><item><sku>b</sku></item><note>x &lt; y</note></order>');
  assert.equal(jsonToXml([1, 2]), '<Document>1</Document><Document>2</Document>');
  assert.deepEqual(xmlToJson('<order id="7"><item>a</item><item>b</item><note>n</note></order>'), { order: { '@id': '7', item: ['a', 'b'], note: 'n' } });
  assert.deepEqual(xmlToJson('<a x="1">text</a>'), { a: { '@x': '1', '#text': 'text' } });
});

test('xml-to-json in outbound converts the backend body and its Content-Type', async () => {
  const r = await runPolicy(inbound('', { outbound: '<xml-to-json kind="direct" apply="content-type-xml" consider-accept-header="false" />' }), {
    backend: () => ({ statusCode: 200, statusReason: 'OK', headers: new HeaderMap([['Content-Type', 'text/xml']]), body: Buffer.from('<r><v>1</v></r>') }),
  });
  assert.equal(r.ctx.response.headers.get('Content-Type'), 'application/json');
  assert.deepEqual(JSON.parse(bodyText(r)), { r: { v: '1' } });
});

test('json-to-xml in inbound converts the request body for the backend', async () => {
  const r = await runPolicy(inbound('<json-to-xml apply="always" consider-accept-header="false" />'), { method: 'POST', body: '{"a":{"b":1}}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.backendRequests[0]!.body?.toString(), '<?xml version="1.0" encoding="utf-8"?><a><b>1</b></a>');
  assert.equal(r.backendRequests[0]!.headers.get('content-type'), 'application/xml');
});

test('xmlToJson: elements named like Object.prototype members (constructor, __proto__, toString) are plain properties', () => {
  assert.equal(JSON.stringify(xmlToJson('<a><constructor>x</constructor><__proto__>y</__proto__><toString>z</toString></a>')), '{"a":{"constructor":"x","__proto__":"y","toString":"z"}}');
});
