import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpDateCache } from './server.js';

test('httpDateCache gives the Date header Node writes (new Date().toUTCString()), changing at each second', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 10, 29, 7, 59, 59, 998) });
  const date = httpDateCache();
  for (const step of [0, 1, 1, 1, 998, 1, 3_600_000, 86_400_000]) {
    t.mock.timers.tick(step);
    assert.equal(date(), new Date().toUTCString());
  }
  t.mock.timers.setTime(Date.UTC(2020, 0, 1));
  assert.equal(date(), 'Wed, 01 Jan 2020 00:00:00 GMT', 'back in time');
});
