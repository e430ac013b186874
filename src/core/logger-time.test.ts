import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, isoTimeCache } from './logger.js';

test('isoTimeCache gives what new Date().toISOString() gives, across milliseconds, seconds and years', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 11, 31, 23, 59, 58, 0) });
  const iso = isoTimeCache();
  // 0, 5, 50, 500 ms into a second, the next seconds, the new year; 1 ms steps around a second boundary.
  const steps = [0, 5, 45, 450, 499, 1, 1, 1, 1, 997, 1, 1, 1, 1000, 7, 60_000, 86_400_000 * 400];
  for (const step of steps) {
    t.mock.timers.tick(step);
    assert.equal(iso(), new Date().toISOString());
  }
  t.mock.timers.setTime(Date.UTC(10000, 0, 1, 0, 0, 0, 12));
  assert.equal(iso(), new Date().toISOString(), 'a six-digit year');
  t.mock.timers.setTime(Date.UTC(1999, 0, 1, 0, 0, 0, 3));
  assert.equal(iso(), new Date().toISOString(), 'back in time');
});

test('log lines carry the time of the record', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) }).child({ resource: 'apim' });
  log.log({ level: 'info', msg: 'a' });
  t.mock.timers.tick(1001);
  log.log({ level: 'info', msg: 'b' });
  assert.deepEqual(lines, ['{"time":"2026-01-02T03:04:05.006Z","resource":"apim","level":"info","msg":"a"}', '{"time":"2026-01-02T03:04:06.007Z","resource":"apim","level":"info","msg":"b"}']);
});
