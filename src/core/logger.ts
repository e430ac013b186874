/**
 * Structured logs: one JSON object per line. Runtimes take a Logger so that tests can capture
 * records and the CLI can choose where they go. Access logs use the same shape (see edge/).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  readonly level: LogLevel;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface Logger {
  log(record: LogRecord): void;
  /** A logger that adds these fields to every record. */
  child(fields: Record<string, unknown>): Logger;
}

/**
 * A record may carry its own JSON writer under this key (on its prototype, so that copies of the
 * record do not): a function returning the members of JSON.stringify(record) — the text between its
 * braces, never empty — made faster by knowing the record's fields (edge/accessLog.ts). The logger
 * then uses it instead of JSON.stringify, and joins it to the time and fixed fields as it is (no
 * slicing, which would copy the line once more).
 */
export const kJsonText = Symbol('gatehouse.jsonText');

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; fields?: Record<string, unknown> } = {}): Logger {
  const min = order[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const fields = options.fields ?? {};
  const fieldKeys = Object.keys(fields);
  // The fixed fields serialised once ('"resource":"agw"'), for the fast path below.
  const fieldsJson = fieldKeys.length ? JSON.stringify(fields).slice(1, -1) : '';
  const simpleKeys = fieldKeys.every((k) => !/^\d+$/.test(k));
  const isoTime = isoTimeCache();
  return {
    log(record) {
      if (order[record.level] < min) return;
      const time = isoTime();
      // The same text as JSON.stringify({ time, ...fields, ...record }) without building that
      // object, when no record key overrides `time` or a fixed field (and no key is an integer,
      // which objects order first).
      let slow = !simpleKeys || 'time' in record;
      for (let i = 0; !slow && i < fieldKeys.length; i++) if (fieldKeys[i]! in record) slow = true;
      if (!slow) {
        const own = (record as { [kJsonText]?: () => string })[kJsonText];
        if (own) {
          write(`{"time":"${time}",${fieldsJson ? `${fieldsJson},` : ''}${own.call(record)}}`);
          return;
        }
        const rec = JSON.stringify(record);
        if (rec.charCodeAt(2) < 48 || rec.charCodeAt(2) > 57) {
          write(`{"time":"${time}"${fieldsJson ? `,${fieldsJson}` : ''}${rec.length > 2 ? `,${rec.slice(1)}` : '}'}`);
          return;
        }
      }
      write(JSON.stringify({ time, ...fields, ...record }));
    },
    child(extra) {
      return createLogger({ ...options, fields: { ...fields, ...extra } });
    },
  };
}

/**
 * new Date().toISOString() for now, with the part up to the second ('2026-11-29T07:45:13.') made
 * once per second and only the milliseconds per call.
 */
export function isoTimeCache(): () => string {
  let second = Number.NaN;
  let prefix = '';
  return () => {
    const now = Date.now();
    const s = Math.floor(now / 1000);
    if (s !== second) {
      const iso = new Date(s * 1000).toISOString();
      // Years outside 0000–9999 are written with a sign and six digits: no fast path for those.
      if (iso.length !== 24) return new Date(now).toISOString();
      second = s;
      prefix = iso.slice(0, 20);
    }
    const ms = now - s * 1000;
    return prefix + (ms < 10 ? '00' : ms < 100 ? '0' : '') + ms + 'Z';
  };
}

/**
 * A line writer that joins lines and writes them once per event-loop turn (setImmediate), or at
 * once when `maxChars` are pending, instead of one write per line: with many requests per turn
 * under load, one system call carries many access-log lines. Order is kept. The owner calls
 * flush() before it exits; lines pending when the process dies abruptly are lost.
 */
export function batchedLines(write: (chunk: string) => void, options: { maxChars?: number } = {}): { write(line: string): void; flush(): void } {
  const max = options.maxChars ?? 65536;
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const out = pending;
    pending = '';
    write(out);
  };
  return {
    write(line) {
      pending += line + '\n';
      if (pending.length >= max) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Collects records in memory: for tests. */
export function memoryLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const make = (fields: Record<string, unknown>): Logger & { records: LogRecord[] } => ({
    records,
    log(record) {
      records.push({ ...fields, ...record });
    },
    child(extra) {
      return make({ ...fields, ...extra });
    },
  });
  return make({});
}

export const silentLogger: Logger = { log() {}, child() { return silentLogger; } };
