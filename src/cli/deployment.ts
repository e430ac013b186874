/**
 * The one wiring point: read a deployment (Bicep, ARM JSON, or a JSON file of resources), adapt
 * its resources into the model, and run every resource Gatehouse supports on loopback — API
 * Management services first (so that their addresses are in the address book), then the
 * application gateways that route to them.
 */
import { stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { resolve, extname, dirname } from 'node:path';
import { DiagnosticBag, type Diagnostic } from '../core/diagnostics.js';
import { GatehouseError } from '../core/errors.js';
import type { Logger, LogLevel } from '../core/logger.js';
import { MutableAddressBook, loopbackOf } from '../model/network.js';
import type { NetworkModel } from '../config/network.js';
import { connectionGuard, NetCodes, type ConnectionGuard } from '../config/nsg.js';
import type { ArmResource } from '../model/resources.js';
import { loadResourceFile, isArmTemplate, parseJsonFile } from '../config/resources/file.js';
import { evaluateDeployment } from '../config/deployment.js';
import { adaptApplicationGateway } from '../config/resources/applicationGateway.js';
import { adaptApiManagement } from '../config/resources/apiManagement.js';
import type { ApplicationGatewayModel } from '../model/applicationGateway.js';
import type { ApiManagementModel, ApimPolicyDocument } from '../model/apiManagement.js';
import { startApplicationGateway, startApplicationGatewayCluster, validateApplicationGateway, type RunningEdge } from '../edge/index.js';
import { checkApiManagement, startApiManagement, type ManagedIdentityEndpoint, type RunningApim } from '../apim/index.js';
import { openPlatformCa } from '../pki/index.js';
import { SourceFile } from '../core/source.js';
import { readFile } from 'node:fs/promises';

export interface DeploymentOptions {
  /** main.bicep, a folder with main.bicep, an ARM template .json, or a JSON file of resources. */
  readonly entry: string;
  readonly params?: Record<string, unknown>;
  readonly parametersFile?: string;
  /** `gatehouse check`: parameters without a value evaluate to unknown instead of failing. */
  readonly unknownParamsAllowed?: boolean;
}

export interface LoadedDeployment {
  readonly entry: string;
  readonly resources: readonly ArmResource[];
  readonly diagnostics: readonly Diagnostic[];
  /** Every file read, for watching. */
  readonly files: readonly string[];
  readonly gateways: readonly ApplicationGatewayModel[];
  readonly services: readonly ApiManagementModel[];
  /** Resources evaluated but not run (Key Vault, Monitor, …); network resources are modelled, not listed. */
  readonly notRun: readonly ArmResource[];
  /** Private addresses (10.0.1.4) by the id of the resource that owns them. */
  readonly privateAddresses: ReadonlyMap<string, readonly string[]>;
  /** The evaluated network model (Bicep and ARM templates; not a JSON file of resources). */
  readonly network?: NetworkModel;
  readonly hasErrors: boolean;
}

const modelledTypes = [
  /^Microsoft\.Network\/applicationGateways$/i,
  /^Microsoft\.ApiManagement\/service(\/.*)?$/i,
  /^Microsoft\.Network\/(virtualNetworks|virtualNetworks\/subnets|networkSecurityGroups|networkSecurityGroups\/securityRules|publicIPAddresses)$/i,
  /^Microsoft\.Resources\/deployments$/i,
];

/**
 * A policy that Bicep read with loadTextContent() arrives as a string; find the file it came from
 * among the files the deployment read, so that diagnostics and findings point at FILE:LINE.
 */
function attributePolicyFiles(service: ApiManagementModel, files: readonly string[]): ApiManagementModel {
  const texts = new Map<string, string>();
  for (const f of files) {
    if (!/\.(xml|cshtml|policy)$/i.test(f) && !/policy/i.test(f)) continue;
    try {
      texts.set(f, readFileSync(f, 'utf8'));
    } catch {
      // a file that vanished keeps the synthetic name
    }
  }
  const fix = <T extends { policy?: ApimPolicyDocument }>(o: T): T => {
    if (!o.policy || existsSync(o.policy.file)) return o;
    for (const [f, text] of texts) if (text === o.policy.value || text.replace(/\r\n/g, '\n') === o.policy.value.replace(/\r\n/g, '\n')) return { ...o, policy: { ...o.policy, file: f } };
    return o;
  };
  return {
    ...fix(service),
    products: service.products.map(fix),
    apis: service.apis.map((api) => ({ ...fix(api), operations: api.operations.map(fix) })),
  };
}

/** The resource as ARM shows it, without the fields a front-end adds for diagnostics and references. */
function asArmResource(r: ArmResource): ArmResource {
  const { origin: _origin, symbolicName: _symbolicName, existing: _existing, runtime: _runtime, ...rest } = r as ArmResource & Record<string, unknown>;
  return rest as ArmResource;
}

async function entryKind(entry: string): Promise<{ path: string; kind: 'bicep' | 'arm' | 'resources' }> {
  let path = resolve(entry);
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new GatehouseError('GH_FILE_NOT_FOUND', `${entry}: no such file or folder`);
  }
  if (info.isDirectory()) {
    path = resolve(path, 'main.bicep');
    try {
      await stat(path);
    } catch {
      throw new GatehouseError('GH_FILE_NOT_FOUND', `${entry}: the folder has no main.bicep`);
    }
    return { path, kind: 'bicep' };
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.bicep') return { path, kind: 'bicep' };
  if (ext === '.json') {
    const bag = new DiagnosticBag();
    const json = parseJsonFile(new SourceFile(path, await readFile(path, 'utf8')), bag);
    return { path, kind: json !== undefined && isArmTemplate(json) ? 'arm' : 'resources' };
  }
  throw new GatehouseError('GH_USAGE', `${entry}: expected a .bicep file, a folder with main.bicep, or a .json file`);
}

export async function loadDeployment(options: DeploymentOptions): Promise<LoadedDeployment> {
  const { path, kind } = await entryKind(options.entry);
  const bag = new DiagnosticBag();
  let resources: ArmResource[];
  let files: string[] = [path];
  const privateAddresses = new Map<string, string[]>();
  let network: NetworkModel | undefined;
  if (kind === 'resources') {
    resources = await loadResourceFile(path, bag);
  } else {
    const result = await evaluateDeployment(path, {
      ...(options.params ? { params: options.params } : {}),
      ...(options.parametersFile ? { parametersFile: resolve(options.parametersFile) } : {}),
      ...(options.unknownParamsAllowed ? { unknownParamsAllowed: true } : {}),
    });
    bag.addAll(result.diagnostics);
    resources = [...result.resources];
    files = [...result.files];
    network = result.network;
    for (const a of result.network.privateAddresses) {
      const list = privateAddresses.get(a.ownerId.toLowerCase()) ?? [];
      list.push(a.address);
      privateAddresses.set(a.ownerId.toLowerCase(), list);
    }
  }
  // Addresses that ARM shows on a deployed service (a JSON export) count too.
  for (const r of resources) {
    const ips = (r.properties as { privateIPAddresses?: unknown } | undefined)?.privateIPAddresses;
    if (Array.isArray(ips)) {
      const list = privateAddresses.get(r.id.toLowerCase()) ?? [];
      for (const ip of ips) if (typeof ip === 'string' && !list.includes(ip)) list.push(ip);
      privateAddresses.set(r.id.toLowerCase(), list);
    }
  }

  const gateways: ApplicationGatewayModel[] = [];
  const services: ApiManagementModel[] = [];
  if (!bag.hasErrors) {
    // The adapters take resources as ARM shows them: without what the front-end adds (origin,
    // symbolicName, existing, runtime). `existing` resources are kept for resolving ids only.
    const arm = resources.map(asArmResource);
    const created = arm.filter((_, i) => !(resources[i] as { existing?: boolean }).existing);
    resources.forEach((r, i) => {
      if (/^Microsoft\.Network\/applicationGateways$/i.test(r.type) && !(r as { existing?: boolean }).existing) {
        const origin = (r as { origin?: { file: string; line?: number; column?: number } }).origin;
        const model = adaptApplicationGateway(arm[i]!, { resources: arm, diagnostics: bag, ...(origin ? { origin } : {}) });
        if (model) gateways.push(model);
      }
    });
    services.push(...adaptApiManagement(created, { diagnostics: bag, baseDir: dirname(path) }).map((svc) => attributePolicyFiles(svc, files)));
  }
  // Compile what will run (policies, expressions, certificates, TLS settings) without listening,
  // so that every error is reported before anything starts — or, on reload, before anything stops.
  if (!bag.hasErrors) bag.addAll(await compileAll(gateways, services));
  const notRun = resources.filter((r) => !modelledTypes.some((re) => re.test(r.type)) && !(r as { existing?: boolean }).existing);
  return { entry: path, resources, diagnostics: bag.items, files, gateways, services, notRun, privateAddresses, ...(network ? { network } : {}), hasErrors: bag.hasErrors };
}

async function compileAll(gateways: readonly ApplicationGatewayModel[], services: readonly ApiManagementModel[]): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const service of services) out.push(...(await checkApiManagement(service)));
  for (const gateway of gateways) out.push(...validateApplicationGateway(gateway));
  return out;
}

export interface RunOptions {
  /**
   * Edge worker processes per gateway: 1 runs in this process (reload in place, one log stream);
   * 'auto' is one per core bounded by autoscaleConfiguration.maxCapacity, as Azure scales out.
   */
  readonly workers?: number | 'auto';
  /**
   * How an edge reaches an API Management service of the same deployment: 'in-process' (default
   * for one process) hands the request to the service's gateway in this process — same answers,
   * headers, logs and NSG decisions, no TLS or HTTP serialisation; 'https' always opens the real
   * TLS connection. Edge workers in other processes (--workers > 1) always use 'https'.
   */
  readonly backendHop?: 'https' | 'in-process';
  readonly bindAddress: string;
  readonly portMap: Map<number, number>;
  readonly stateDir: string;
  readonly logger: Logger;
  /**
   * The level `logger` writes at, when it writes to this process's stderr: edge workers
   * (--workers > 1) then write their own lines there at the same level, instead of sending every
   * record to `logger` over IPC.
   */
  readonly logLevel?: LogLevel;
  /** The token endpoint of the services' managed identity (IDENTITY_ENDPOINT, IDENTITY_HEADER); none: no managed identity. */
  readonly managedIdentity?: ManagedIdentityEndpoint;
}

export interface ListenerLine {
  readonly resource: string;
  readonly listener: string;
  readonly url: string;
  readonly local: string;
  readonly note?: string;
}

export interface RunningDeployment {
  readonly lines: readonly ListenerLine[];
  /**
   * Swaps in a new configuration of the same services and gateways on the sockets they have
   * (ports stay, open connections finish on the old configuration). Returns false, changing
   * nothing, when the set of services or gateways differs: the caller restarts instead.
   */
  reloadInPlace(next: LoadedDeployment): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The local port a failed start could not bind because something listens there (EADDRINUSE,
 * GH_PORT_IN_USE from any part, through `cause`), or undefined for any other failure.
 */
export function portInUseOf(e: unknown): number | undefined {
  for (let x: unknown = e, depth = 0; x && typeof x === 'object' && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    const err = x as { code?: unknown; port?: unknown; message?: unknown };
    if (err.code !== 'EADDRINUSE' && err.code !== 'GH_PORT_IN_USE') continue;
    if (typeof err.port === 'number' && err.port > 0) return err.port;
    // An edge worker process reports only its message ('port 8443 on 127.0.0.1 … is in use').
    const m = typeof err.message === 'string' ? /\bport (\d+)\b/.exec(err.message) : null;
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The local ports a running deployment listens on (from its listener lines). */
export function portsOf(running: RunningDeployment): Set<number> {
  const out = new Set<number>();
  for (const l of running.lines) {
    const port = Number(/:(\d+)$/.exec(l.local)?.[1]);
    if (port > 0) out.add(port);
  }
  return out;
}

function privilegedHint(e: unknown, portMap: Map<number, number>): never {
  const err = e as NodeJS.ErrnoException & { port?: number; address?: string };
  if (err?.code === 'EACCES') {
    const port = err.port ?? Number(/:(\d+)/.exec(err.message)?.[1]);
    throw new GatehouseError('GH_PORT_PRIVILEGED', `cannot bind port ${port}: permission denied. Ports below 1024 need privileges; map it to a free port, e.g. --port-map ${port}=${port + 8000}`, { cause: e });
  }
  if (err?.code === 'EADDRNOTAVAIL') {
    const address = err.address ?? /\b(127\.\d+\.\d+\.\d+)\b/.exec(err.message)?.[1] ?? '';
    throw new GatehouseError(NetCodes.GH_NET_ADDRESS_UNAVAILABLE, `cannot bind ${address}: the address is not on this machine. Private addresses of the deployment live on loopback (10.0.1.4 → 127.0.1.4); Linux routes all of 127.0.0.0/8 to lo, macOS needs an alias: sudo ifconfig lo0 alias ${address} up`, { cause: e });
  }
  if (err?.code === 'EADDRINUSE') {
    const port = err.port ?? Number(/:(\d+)/.exec(err.message)?.[1]);
    const mapped = [...portMap].find(([, to]) => to === port)?.[0];
    throw new GatehouseError('GH_PORT_IN_USE', `cannot bind port ${port}${mapped ? ` (mapped from ${mapped})` : ''}: something else listens there. Stop it or choose another port with --port-map ${mapped ?? port}=<free port>`, { cause: e });
  }
  throw e;
}

export async function runDeployment(initial: LoadedDeployment, options: RunOptions): Promise<RunningDeployment> {
  let loaded = initial;
  const platformCa = await openPlatformCa(options.stateDir);
  const addressBook = new MutableAddressBook();
  const apims: RunningApim[] = [];
  const edges: RunningEdge[] = [];
  const lines: ListenerLine[] = [];
  const closeAll = async () => {
    // Gateways first: requests they still carry finish against the services behind them.
    await Promise.allSettled(edges.map((s) => s.close()));
    await Promise.allSettled(apims.map((s) => s.close()));
  };
  // The network model enforced on loopback: a service's private IP is its listening address
  // (10.0.1.4 → 127.0.1.4), the NSG of its subnet guards what it accepts, and a gateway connects
  // to its backends from its own private IP (10.0.0.4 → 127.0.0.4). Guards follow reloads.
  const lc = (x: string) => x.toLowerCase();
  const guards = new Map<string, ConnectionGuard | undefined>();
  const setGuards = (d: LoadedDeployment) => {
    guards.clear();
    for (const s of d.services) guards.set(s.name, d.network ? connectionGuard(d.network, s.id, 443, s.virtualNetworkType === 'Internal') : undefined);
  };
  setGuards(loaded);
  const ownAddress = (id: string) => loaded.network?.privateAddresses.find((a) => lc(a.ownerId) === lc(id))?.address;
  const gatewayAddress = (id: string) => loaded.network?.privateAddresses.find((a) => lc(a.ownerId).startsWith(`${lc(id)}/gatewayipconfigurations/`))?.address;
  try {
    for (const service of loaded.services) {
      const privateIp = ownAddress(service.id);
      const internalAddress = service.virtualNetworkType === 'Internal' && privateIp ? loopbackOf(privateIp) : undefined;
      const guarded = guards.get(service.name) !== undefined;
      const running = await startApiManagement(service, {
        ...(internalAddress ? { internalAddress } : {}),
        ...(guarded ? { allowConnection: (address: string, port: number) => guards.get(service.name)?.(address, port) ?? { allowed: true, rule: '(no NSG)' } } : {}),
        bindAddress: options.bindAddress,
        portMap: options.portMap,
        internalPort: 0,
        platformCa,
        logger: options.logger.child({ resource: service.name }),
        ...(options.managedIdentity ? { managedIdentity: options.managedIdentity } : {}),
      });
      apims.push(running);
      const inProcess = (options.backendHop ?? 'in-process') === 'in-process' && (options.workers ?? 1) === 1;
      const endpoint = { host: running.localAddress, port: running.localPort, ...(inProcess ? { inProcess: running.inProcess } : {}) };
      for (const host of running.hostNames) addressBook.set(host, '*', endpoint);
      for (const ip of loaded.privateAddresses.get(service.id.toLowerCase()) ?? []) addressBook.set(ip, '*', endpoint);
      const internal = service.virtualNetworkType === 'Internal';
      lines.push({
        resource: service.name,
        listener: 'gateway',
        url: running.url,
        local: `${running.localAddress}:${running.localPort}`,
        ...(internal || guarded
          ? { note: [internal ? `internal, reachable through ${(loaded.privateAddresses.get(service.id.toLowerCase()) ?? []).join(', ') || 'the address book'}` : '', guarded ? `inbound filtered by its subnet's NSG` : ''].filter(Boolean).join(', ') }
          : {}),
      });
    }
    for (const gateway of loaded.gateways) {
      const source = gatewayAddress(gateway.id);
      const sourceAddress = source ? loopbackOf(source) : undefined;
      const edgeOptions = {
        ...(sourceAddress ? { sourceAddress } : {}),
        bindAddress: options.bindAddress,
        portMap: options.portMap,
        addressBook,
        extraTrustedRoots: [platformCa.root],
        logger: options.logger.child({ resource: gateway.name }),
      };
      const workers = options.workers ?? 1;
      const running =
        workers === 1
          ? await startApplicationGateway(gateway, edgeOptions)
          : await startApplicationGatewayCluster(gateway, {
              ...edgeOptions,
              addressBookEntries: addressBook.list(),
              ...(workers === 'auto' ? {} : { workers }),
              ...(options.logLevel ? { workerLogs: { level: options.logLevel, fields: { resource: gateway.name } } } : {}),
            });
      edges.push(running);
      for (const l of running.listeners) {
        // The URL a client uses: the listener's host name (the first one without wildcards) on the local port.
        const host = l.hostNames.find((h) => !/[*?]/.test(h)) ?? l.localAddress;
        const url = `${l.protocol.toLowerCase()}://${host}:${l.localPort}/`;
        lines.push({ resource: gateway.name, listener: l.name, url, local: `${l.localAddress}:${l.localPort}`, ...(l.mtls ? { note: 'mTLS' } : {}) });
      }
    }
  } catch (e) {
    await closeAll();
    privilegedHint(e, options.portMap);
  }
  const sameSet = (a: readonly { name: string }[], b: readonly { name: string }[]) => a.length === b.length && a.every((x) => b.some((y) => y.name === x.name));
  return {
    lines,
    close: closeAll,
    async reloadInPlace(next) {
      // Worker processes are restarted rather than swapped.
      if ((options.workers ?? 1) !== 1) return false;
      if (!sameSet(next.services, loaded.services) || !sameSet(next.gateways, loaded.gateways)) return false;
      // When one service or gateway fails to take its new configuration, those already swapped go
      // back to theirs: the caller reports that the previous configuration is still serving.
      const undo: (() => Promise<void>)[] = [];
      try {
        for (const service of next.services) {
          const i = loaded.services.findIndex((s) => s.name === service.name);
          await apims[i]!.reload(service);
          undo.push(() => apims[i]!.reload(loaded.services[i]!));
        }
        for (const gateway of next.gateways) {
          const i = loaded.gateways.findIndex((g) => g.name === gateway.name);
          await edges[i]!.reload(gateway);
          undo.push(() => edges[i]!.reload(loaded.gateways[i]!));
        }
      } catch (e) {
        for (const back of undo.reverse()) await back().catch(() => undefined);
        throw e;
      }
      loaded = next;
      setGuards(next);
      return true;
    },
  };
}
