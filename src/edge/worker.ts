/**
 * The entry of a gateway worker process (see cluster.ts): waits for its configuration from the
 * primary, runs one instance of the gateway, and stops when the primary says so.
 */
import { isGatehouseError, messageOf } from '../core/errors.js';
import { batchedLines, createLogger, type Logger, type LogRecord } from '../core/logger.js';
import { MutableAddressBook } from '../model/network.js';
import { parseCertificates } from '../pki/index.js';
import { reviveModel, type WorkerMessage, type WorkerStart } from './cluster.js';
import { startApplicationGateway, type RunningEdge } from './gateway.js';

const send = (m: WorkerMessage) => process.send?.(m);

/** Lines to this worker's stderr (shared with the primary), batched per event-loop turn as `gatehouse up` does. */
function ownLogger(level: LogRecord['level'], fields: Record<string, unknown>): Logger {
  ownLines = batchedLines((chunk) => process.stderr.write(chunk));
  return createLogger({ level, fields: { ...fields, worker: process.pid }, write: ownLines.write });
}

function ipcLogger(fields: Record<string, unknown> = {}): Logger {
  return {
    log(record: LogRecord) {
      send({ type: 'gatehouse-edge-log', record: { ...fields, ...record, worker: process.pid } });
    },
    child(extra) {
      return ipcLogger({ ...fields, ...extra });
    },
  };
}

let edge: RunningEdge | undefined;
/** Log lines written by this worker itself (ClusterOptions.workerLogs): flushed before it exits. */
let ownLines: { write(line: string): void; flush(): void } | undefined;
const exit = (code: number) => {
  ownLines?.flush();
  process.exit(code);
};

process.on('message', (m: WorkerStart | { type: 'gatehouse-edge-close' }) => {
  if (m.type === 'gatehouse-edge-start') {
    const book = new MutableAddressBook();
    for (const [key, endpoint] of m.addressBook) {
      const i = key.lastIndexOf(':');
      const port = key.slice(i + 1);
      book.set(key.slice(0, i), port === '*' ? '*' : Number(port), endpoint);
    }
    startApplicationGateway(reviveModel(m), {
      ...(m.bindAddress ? { bindAddress: m.bindAddress } : {}),
      portMap: new Map(m.portMap),
      addressBook: book,
      extraTrustedRoots: m.extraTrustedRootsPem.flatMap((pem, i) => parseCertificates(pem, { origin: `extraTrustedRoots[${i}]` })),
      ...(m.workerLogs ? { logger: ownLogger(m.workerLogs.level, m.workerLogs.fields) } : m.log ? { logger: ipcLogger() } : {}),
      ...(m.drainTimeoutMs !== undefined ? { drainTimeoutMs: m.drainTimeoutMs } : {}),
      ...(m.sourceAddress ? { sourceAddress: m.sourceAddress } : {}),
    }).then(
      (running) => {
        edge = running;
        send({ type: 'gatehouse-edge-ready', listeners: [...running.listeners] });
      },
      (e: unknown) => {
        send({ type: 'gatehouse-edge-failed', code: isGatehouseError(e) ? e.code : 'GH_INTERNAL', message: messageOf(e) });
        setTimeout(() => exit(1), 50);
      },
    );
  } else if (m.type === 'gatehouse-edge-close') {
    void (edge?.close() ?? Promise.resolve()).finally(() => {
      // Connections the primary handed over before it saw this worker's servers close are still
      // on the IPC channel; messages arrive in order, so once the primary's answer to 'closed' is
      // here, each of them has been answered (refused, so the primary gives it to another worker).
      const bye = setTimeout(() => exit(0), 2000);
      process.on('message', (x: { type?: string }) => {
        if (x.type === 'gatehouse-edge-closed-ack') {
          clearTimeout(bye);
          exit(0);
        }
      });
      send({ type: 'gatehouse-edge-closed' });
    });
  }
});

send({ type: 'gatehouse-edge-hello' });

// The primary went away: nothing left to serve for.
process.on('disconnect', () => {
  void (edge?.close() ?? Promise.resolve()).finally(() => exit(0));
});
