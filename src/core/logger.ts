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

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; fields?: Record<string, unknown> } = {}): Logger {
  const min = order[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const fields = options.fields ?? {};
  return {
    log(record) {
      if (order[record.level] < min) return;
      write(JSON.stringify({ time: new Date().toISOString(), ...fields, ...record }));
    },
    child(extra) {
      return createLogger({ ...options, fields: { ...fields, ...extra } });
    },
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
