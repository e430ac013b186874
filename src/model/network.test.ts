import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopbackOf, privateOf } from './network.js';

test('loopbackOf maps a.b.c.d to 127.b.c.d', () => {
  assert.equal(loopbackOf('10.0.1.4'), '127.0.1.4');
  assert.equal(loopbackOf('10.0.0.4'), '127.0.0.4');
  assert.equal(loopbackOf('172.16.3.20'), '127.16.3.20');
  assert.equal(loopbackOf('010.001.002.003'), '127.1.2.3');
  assert.equal(loopbackOf('10.0.1.256'), undefined);
  assert.equal(loopbackOf('fd00::4'), undefined);
  assert.equal(loopbackOf('apim.azure-api.net'), undefined);
});

test('privateOf maps a loopback peer back to a known private address only', () => {
  const known = ['10.0.0.4', '10.0.1.4'];
  assert.equal(privateOf('127.0.0.4', known), '10.0.0.4');
  assert.equal(privateOf('::ffff:127.0.1.4', known), '10.0.1.4');
  assert.equal(privateOf('127.0.0.1', known), undefined, '127.0.0.1 is not a deployment address');
  assert.equal(privateOf('127.0.0.5', known), undefined, 'an address nobody was given');
  assert.equal(privateOf('10.0.0.4', known), undefined, 'only loopback peers are mapped');
  assert.equal(privateOf('::1', known), undefined);
});
