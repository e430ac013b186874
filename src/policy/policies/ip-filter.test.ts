import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inbound, runPolicy } from '../testing.js';
import { ipValue } from './ip-filter.js';

const allow = inbound('<ip-filter action="allow"><address>13.66.201.169</address><address-range from="10.0.0.0" to="10.0.255.255"/><address>2001:db8::1</address></ip-filter>');

test('allow: listed addresses and ranges pass, others are CallerIpNotAllowed (403)', async () => {
  for (const ip of ['13.66.201.169', '10.0.3.4', '::ffff:10.0.0.1', '2001:db8:0:0::1']) {
    const r = await runPolicy(allow, { ipAddress: ip });
    assert.equal(r.backendRequests.length, 1, ip);
  }
  const r = await runPolicy(allow, { ipAddress: '10.1.0.1' });
  assert.equal(r.ctx.response.statusCode, 403);
  assert.equal(r.ctx.lastError?.reason, 'CallerIpNotAllowed');
  assert.equal(r.ctx.lastError?.message, 'Caller IP address 10.1.0.1 is not allowed. Access denied.');
  const bad = await runPolicy(allow, { ipAddress: 'not-an-ip' });
  assert.equal(bad.ctx.lastError?.reason, 'FailedToParseCallerIP');
});

test('forbid: listed callers are CallerIpBlocked', async () => {
  const r = await runPolicy(inbound('<ip-filter action="forbid"><address>10.0.0.4</address></ip-filter>'), { ipAddress: '10.0.0.4' });
  assert.equal(r.ctx.lastError?.reason, 'CallerIpBlocked');
  assert.equal((await runPolicy(inbound('<ip-filter action="forbid"><address>10.0.0.4</address></ip-filter>'), { ipAddress: '10.0.0.5' })).backendRequests.length, 1);
});

test('ipValue orders IPv4 and IPv6 numerically', () => {
  assert.ok(ipValue('10.0.0.255')!.value < ipValue('10.0.1.0')!.value);
  assert.equal(ipValue('::1')!.value, 1n);
  assert.equal(ipValue('999.1.1.1'), undefined);
});
