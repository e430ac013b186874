import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, kJsonText } from '../core/logger.js';
import { AccessRecord, kLineMemo, type LineMemo } from './accessLog.js';

const strings = ['', 'plain', 'a"quote', 'back\\slash', 'tab\there', 'nl\n', '\u0000\u001f\u007f', 'é ü ß', '\u2028\u2029', '\ud800 lone', 'emoji 😀', '</script>', '{"json":1}'];
const numbers = [0, -0, 1, 0.123, 1e21, -5, Number.NaN, Number.POSITIVE_INFINITY];

function record(i: number): AccessRecord {
  const s = (k: number) => strings[(i * 7 + k) % strings.length]!;
  const r = new AccessRecord({ instanceId: s(1), clientIP: i % 5 === 0 ? undefined : s(2), clientPort: i % 4 === 0 ? undefined : numbers[i % numbers.length], httpMethod: s(3), requestUri: s(4), userAgent: s(5), httpVersion: 'HTTP/1.1', host: s(6), transactionId: s(7) });
  if (i % 3) r.listenerName = s(8);
  if (i % 2) r.ruleName = s(9);
  r.requestUri = s(10);
  r.httpStatus = [200, 400, 502][i % 3]!;
  r.timeTaken = numbers[(i + 3) % numbers.length]!;
  r.settle({ sslClientVerify: s(11), serverRouted: s(12), serverResponseLatency: i % 2 ? numbers[(i + 1) % numbers.length]! : s(13), ...(i % 3 === 0 ? { error_info: s(14), backendPoolName: s(15) } : {}) });
  if (i % 4 === 1) r.reason = s(16);
  return r;
}

test('AccessRecord writes exactly JSON.stringify(record), for every kind of value', () => {
  for (let i = 0; i < 400; i++) {
    const r = record(i);
    assert.equal(`{${r[kJsonText]()}}`, JSON.stringify(r), `record ${i}`);
  }
});

test('AccessRecord: fields in the order of ApplicationGatewayAccessLog lines as Gatehouse writes them', () => {
  const r = record(3);
  assert.deepEqual(Object.keys(JSON.parse(`{${r[kJsonText]()}}`)), [
    'level', 'msg', 'category', 'instanceId', 'clientIP', 'clientPort', 'httpMethod', 'originalRequestUriWithArgs', 'requestUri', 'userAgent', 'httpVersion', 'originalHost', 'host',
    'ruleName', 'sslClientVerify', 'backendPoolName', 'httpStatus', 'timeTaken', 'receivedBytes', 'sentBytes', 'transactionId', 'sslEnabled', 'sslCipher', 'sslProtocol',
    'sslClientCertificateFingerprint', 'sslClientCertificateIssuerName', 'serverRouted', 'serverStatus', 'serverResponseLatency', 'WAFEvaluationTime', 'WAFMode', 'error_info',
  ]);
});

test('the logger writes an AccessRecord with its own writer, with time and the fixed fields first', () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) }).child({ resource: 'agw' });
  const r = record(1);
  log.log(r);
  const parsed = JSON.parse(lines[0]!);
  assert.match(parsed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(lines[0], JSON.stringify({ time: parsed.time, resource: 'agw', ...r }));
});

test('AccessRecord with a connection\'s LineMemo: still exactly JSON.stringify(record) when values repeat and when they change', () => {
  const memo: LineMemo = {};
  let reused = 0;
  for (let i = 0; i < 400; i++) {
    // Runs of equal records (as a keep-alive connection sends), then a change of some field.
    const r = record(Math.floor(i / 4));
    (r as { transactionId: string }).transactionId = `t${i}`;
    r.httpStatus = 200 + (i % 3);
    r[kLineMemo] = memo;
    const before = memo.head;
    assert.equal(`{${r[kJsonText]()}}`, JSON.stringify(r), `record ${i}`);
    if (before !== undefined && memo.head === before) reused++;
  }
  assert.ok(reused >= 250, `the repeated runs were reused (${reused} of 400)`);
  // The memo is not part of the line.
  const r = record(1);
  r[kLineMemo] = memo;
  assert.equal(JSON.parse(`{${r[kJsonText]()}}`)[String(kLineMemo)], undefined);
});
