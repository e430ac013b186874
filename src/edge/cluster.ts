/**
 * Several instances of the gateway, as Azure scales out: one worker process per instance
 * (node:cluster), all sharing the frontend ports, each probing its backends independently (as
 * each Azure instance does). Optional: the default stays a single process, which is what an
 * address book that points at in-process services needs.
 *
 * The primary sends each worker the model (secrets included, over the private IPC channel), the
 * address book entries and the trusted roots; workers send back their listeners when their first
 * probes are done, and their log records when the primary has a logger.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GatehouseError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import type { LogLevel, LogRecord } from '../core/logger.js';
import type { ApplicationGatewayModel, SslCertificate } from '../model/applicationGateway.js';
import type { LocalEndpoint } from '../model/network.js';
import { EDGE_CODES } from './errors.js';
import type { EdgeOptions, RunningEdge, RunningListener } from './gateway.js';

export interface ClusterOptions extends EdgeOptions {
  /** Worker count; default one per core, bounded by autoscaleConfiguration.maxCapacity. */
  readonly workers?: number;
  /** Address book entries to give the workers (an AddressBook object cannot cross processes). */
  readonly addressBookEntries?: readonly [string, LocalEndpoint][];
  /**
   * Workers write their log lines themselves, to the standard error they share with the primary,
   * at this level and with these fields (plus `worker`: the pid), instead of sending every record
   * to the primary's `logger` over IPC — which cost more CPU per request than the request itself
   * saved by a second core (docs/benchmarks.md). Without it, records go through `logger`.
   */
  readonly workerLogs?: { readonly level: LogLevel; readonly fields: Record<string, unknown> };
}

/** What crosses the IPC channel to a worker. */
export interface WorkerStart {
  readonly type: 'gatehouse-edge-start';
  readonly model: unknown;
  readonly passwords: Record<string, string>;
  readonly bindAddress?: string;
  readonly portMap: [number, number][];
  readonly addressBook: [string, LocalEndpoint][];
  readonly extraTrustedRootsPem: string[];
  readonly log: boolean;
  /** Write log lines to stderr directly (see ClusterOptions.workerLogs). */
  readonly workerLogs?: { readonly level: LogLevel; readonly fields: Record<string, unknown> };
  readonly drainTimeoutMs?: number;
  readonly sourceAddress?: string;
}

export type WorkerMessage =
  | { readonly type: 'gatehouse-edge-hello' }
  | { readonly type: 'gatehouse-edge-ready'; readonly listeners: RunningListener[] }
  | { readonly type: 'gatehouse-edge-failed'; readonly code: string; readonly message: string }
  | { readonly type: 'gatehouse-edge-log'; readonly record: LogRecord }
  | { readonly type: 'gatehouse-edge-closed' };

export function workerCount(model: ApplicationGatewayModel, requested?: number): number {
  const cap = model.autoscaleConfiguration?.maxCapacity;
  const n = requested ?? availableParallelism();
  return Math.max(1, cap !== undefined ? Math.min(n, cap) : n);
}

/** Starts `workers` instances of the gateway in worker processes. Must be called in the primary. */
export async function startApplicationGatewayCluster(model: ApplicationGatewayModel, options: ClusterOptions = {}): Promise<RunningEdge & { readonly workers: number }> {
  if (!cluster.isPrimary) throw new GatehouseError('GH_INTERNAL', 'startApplicationGatewayCluster must run in the primary process');
  const n = workerCount(model, options.workers);
  const passwords: Record<string, string> = {};
  const plain = {
    ...model,
    sslCertificates: model.sslCertificates.map((c: SslCertificate) => {
      if (c.password) passwords[c.name] = c.password.reveal();
      const { password: _p, ...rest } = c;
      return rest;
    }),
  };
  // Port 0 would give each worker's first listen its own port; pick the ports once, in order.
  const portMap: [number, number][] = [];
  for (const p of new Set(model.httpListeners.map((l) => l.port))) {
    const local = options.portMap?.get(p) ?? p;
    portMap.push([p, local === 0 ? await freePort(options.bindAddress ?? '127.0.0.1') : local]);
  }
  const start: WorkerStart = {
    type: 'gatehouse-edge-start',
    model: plain,
    passwords,
    ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
    portMap,
    addressBook: [...(options.addressBookEntries ?? [])],
    extraTrustedRootsPem: (options.extraTrustedRoots ?? []).map((c) => c.toPem()),
    log: options.logger !== undefined,
    ...(options.workerLogs ? { workerLogs: options.workerLogs } : {}),
    ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
    ...(options.sourceAddress ? { sourceAddress: options.sourceAddress } : {}),
  };
  const self = fileURLToPath(import.meta.url);
  const entry = self.replace(/cluster\.(ts|js)$/, 'worker.$1');
  // Running from the sources: the worker loads tsx by absolute URL, since the working directory
  // (the user's deployment folder) has no node_modules.
  const execArgv = self.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  cluster.setupPrimary({ exec: entry, execArgv, silent: false });
  const workers: Worker[] = [];
  let listeners: RunningListener[] = [];
  const ready = Array.from({ length: n }, () => {
    const w = cluster.fork();
    workers.push(w);
    return new Promise<void>((resolve, reject) => {
      w.on('message', (m: WorkerMessage) => {
        // The worker says hello once it listens for messages (an ESM entry loads after 'online').
        if (m.type === 'gatehouse-edge-hello') w.send(start);
        else if (m.type === 'gatehouse-edge-ready') {
          listeners = m.listeners;
          resolve();
        } else if (m.type === 'gatehouse-edge-failed') reject(new GatehouseError(m.code as `GH_${string}`, m.message));
        else if (m.type === 'gatehouse-edge-log') options.logger?.log(m.record);
        else if (m.type === 'gatehouse-edge-closed' && w.isConnected()) w.send({ type: 'gatehouse-edge-closed-ack' });
      });
      w.once('exit', (code) => reject(new GatehouseError(EDGE_CODES.GH_EDGE_BIND, `gateway worker exited with ${code} before it was ready`)));
    });
  });
  const stopAll = () =>
    Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const t = setTimeout(() => w.kill('SIGKILL'), (options.drainTimeoutMs ?? 5000) + 2000);
            w.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            w.send({ type: 'gatehouse-edge-close' });
          }),
      ),
    );
  try {
    await Promise.all(ready);
  } catch (e) {
    await stopAll();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    workers: n,
    get listeners() {
      return listeners;
    },
    health: () => [],
    reload: () => Promise.reject(new GatehouseError(EDGE_CODES.GH_EDGE_RELOAD, 'reload is not supported with worker processes; restart instead')),
    close() {
      closing ??= stopAll().then(() => undefined);
      return closing;
    },
  };
}

async function freePort(host: string): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** The model as the worker rebuilds it (passwords back into Secrets). */
export function reviveModel(start: WorkerStart): ApplicationGatewayModel {
  const m = start.model as ApplicationGatewayModel;
  return {
    ...m,
    sslCertificates: m.sslCertificates.map((c) => (start.passwords[c.name] !== undefined ? { ...c, password: new Secret(start.passwords[c.name]!) } : c)),
  };
}
