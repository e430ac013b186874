/**
 * Access records in tests. The edge writes a forwarded request's record when the answer has left
 * (its 'finish'), as NGINX writes its access log after the response: a client in the same process
 * can hold the answer a turn of the event loop before the record exists, and the record of the
 * previous test's request can arrive after this test began. Tests therefore wait (bounded) for the
 * record of their own request, found by its content, instead of reading the last record at once.
 */
import type { LogRecord } from '../../src/core/logger.js';

export function accessRecords(logger: { records: LogRecord[] }): LogRecord[] {
  return logger.records.filter((x) => x.msg === 'access');
}

/** The newest access record that `match` accepts, once there is one (waits at most 2 s). */
export async function accessRecordFor(logger: { records: LogRecord[] }, match: (r: LogRecord) => boolean): Promise<LogRecord> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const found = accessRecords(logger).filter(match).at(-1);
    if (found) return found;
    if (Date.now() > deadline) throw new Error('no access record for the request');
    await new Promise((r) => setTimeout(r, 5));
  }
}
