/**
 * Backends: one target per (backendAddressPool, backendHttpSettings) pair that a rule uses, its
 * members with their health, round-robin over the healthy ones, the health probes (custom and
 * default, spec 5.3) and the keep-alive agents that carry requests to them (HTTP/1.1).
 *
 * Connections: requests go through an UpstreamPool per target (./upstream.ts: keep-alive, raw
 * header order and casing, the TLS options below). node:http(s) Agents remain for WebSocket
 * upgrades, whose sockets leave the pool as tunnels.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import type { AddressBook, InProcessHandler, LocalEndpoint } from '../model/network.js';
import type { BackendAddressPool, BackendHttpSettings, Probe } from '../model/applicationGateway.js';
import { DEFAULT_PROBE } from '../model/applicationGateway.js';
import type { Logger } from '../core/logger.js';
import { UpstreamPool, type ConnectTarget } from './upstream.js';

export interface BackendMember {
  /** The address as configured (ipAddress or fqdn). */
  readonly address: string;
  /** One-way hash naming the member in the affinity cookie. */
  readonly affinity: string;
  readonly port: number;
  /** Where the edge actually connects (the address book's answer, or the address itself). */
  readonly endpoint: LocalEndpoint;
  /** The local address connections to the member come from (EdgeOptions.sourceAddress, loopback members only). */
  readonly localAddress?: string;
  healthy: boolean;
  consecutiveFailures: number;
  lastProbe?: { at: Date; status?: number; error?: string };
}

interface EffectiveProbe {
  readonly name: string;
  readonly protocol: 'Http' | 'Https';
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly statusCodes: readonly (readonly [number, number])[];
  readonly body: string;
  readonly port: number;
  readonly host: (m: BackendMember) => string;
}

export class BackendTarget {
  readonly pool: BackendAddressPool;
  readonly settings: BackendHttpSettings;
  readonly members: BackendMember[];
  readonly agent: http.Agent;
  /** Keep-alive connections for proxied requests (not upgrades). */
  readonly upstream = new UpstreamPool();
  readonly secure: boolean;
  private readonly connectTargets = new Map<string, ConnectTarget>();
  private readonly trustedCa: string[] | undefined;
  /** Built once: passing `ca` per request would rebuild a context (150+ roots) per connection. */
  private readonly secureContext: tls.SecureContext | undefined;
  private readonly probe: EffectiveProbe;
  private rr = 0;
  private readonly minServers: number;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly logger: Logger | undefined;

  constructor(pool: BackendAddressPool, settings: BackendHttpSettings, probe: Probe | undefined, addressBook: AddressBook, trustedCa: string[] | undefined, logger?: Logger, sourceAddress?: string) {
    this.pool = pool;
    this.settings = settings;
    this.secure = settings.protocol === 'Https';
    this.trustedCa = trustedCa;
    this.logger = logger;
    this.members = pool.backendAddresses.map((a) => {
      const address = (a.ipAddress ?? a.fqdn)!;
      const affinity = createHash('sha256').update(`${pool.name}|${settings.name}|${address}:${settings.port}`).digest('hex');
      const endpoint = addressBook.lookup(address, settings.port) ?? { host: address, port: settings.port };
      const localAddress = sourceAddress && /^127\.\d+\.\d+\.\d+$/.test(endpoint.host) ? sourceAddress : undefined;
      return { address, affinity, port: settings.port, endpoint, ...(localAddress ? { localAddress } : {}), healthy: false, consecutiveFailures: 0 };
    });
    const agentOptions = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 512, maxFreeSockets: 64, scheduling: 'lifo' as const };
    this.secureContext = this.secure && trustedCa ? tls.createSecureContext({ ca: trustedCa }) : undefined;
    this.agent = this.secure ? new https.Agent({ ...agentOptions, rejectUnauthorized: settings.validateCertChainAndExpiry }) : new http.Agent(agentOptions);
    this.minServers = probe?.minServers ?? 0;
    const defaultHost = (m: BackendMember) => settings.hostName ?? (settings.pickHostNameFromBackendAddress ? m.address : '127.0.0.1');
    this.probe = probe
      ? {
          name: probe.name,
          protocol: probe.protocol,
          path: probe.path,
          intervalMs: probe.interval * 1000,
          timeoutMs: probe.timeout * 1000,
          unhealthyThreshold: probe.unhealthyThreshold,
          statusCodes: probe.match.statusCodes,
          body: probe.match.body,
          port: probe.port ?? settings.port,
          host: probe.host ? () => probe.host! : probe.pickHostNameFromBackendHttpSettings ? defaultHost : () => '127.0.0.1',
        }
      : {
          name: '(default probe)',
          protocol: settings.protocol,
          path: '/',
          intervalMs: DEFAULT_PROBE.interval * 1000,
          timeoutMs: DEFAULT_PROBE.timeout * 1000,
          unhealthyThreshold: DEFAULT_PROBE.unhealthyThreshold,
          statusCodes: DEFAULT_PROBE.statusCodes,
          body: '',
          port: settings.port,
          host: defaultHost,
        };
  }

  get key(): string {
    return `${this.pool.name}|${this.settings.name}`;
  }

  /** The affinity cookie's name, when cookie-based affinity is on. */
  get affinityCookie(): string | undefined {
    return this.settings.cookieBasedAffinity === 'Enabled' ? (this.settings.affinityCookieName ?? 'ApplicationGatewayAffinity') : undefined;
  }

  /** The member a client's affinity cookie names, if it is still healthy. */
  byAffinity(cookieHeader: string | undefined): BackendMember | undefined {
    const name = this.affinityCookie;
    if (!name || !cookieHeader) return undefined;
    for (const part of cookieHeader.split(';')) {
      const i = part.indexOf('=');
      if (i < 0) continue;
      const k = part.slice(0, i).trim();
      if (k !== name && k !== `${name}CORS`) continue;
      const v = part.slice(i + 1).trim();
      const m = this.members.find((x) => x.affinity === v);
      if (m?.healthy) return m;
    }
    return undefined;
  }

  /** The next healthy member, round-robin; `except` skips one (the retry after a timeout). */
  pick(except?: BackendMember): BackendMember | undefined {
    const ms = this.members;
    const n = ms.length;
    for (let i = 0; i < n; i++) {
      const m = ms[this.rr++ % n]!;
      if (m.healthy && m !== except) return m;
    }
    // probe.minServers: "servers that are always marked healthy" — the first ones, when none is.
    const min = Math.min(this.minServers, n);
    for (let i = 0; i < min; i++) {
      const m = ms[this.rr++ % min]!;
      if (m !== except) return m;
    }
    return undefined;
  }

  /** Host header towards a member: settings.hostName, the member's address, or the client's Host. */
  hostHeader(m: BackendMember, clientHost: string): string {
    if (this.settings.hostName) return this.settings.hostName;
    if (this.settings.pickHostNameFromBackendAddress) return m.address;
    return clientHost;
  }

  /** Request options towards a member (TLS servername from the host, none for IP literals). */
  requestOptions(m: BackendMember, host: string, method: string, path: string, headers: string[]): https.RequestOptions {
    const o: https.RequestOptions = { host: m.endpoint.host, port: m.endpoint.port, method, path, headers, agent: this.agent, setHost: false };
    if (m.localAddress) o.localAddress = m.localAddress;
    if (this.secure) {
      if (this.secureContext) (o as tls.ConnectionOptions).secureContext = this.secureContext;
      const name = (this.settings.sniName ?? host).replace(/:\d+$/, '');
      if (name && !isIP(name)) o.servername = name;
      if (!this.settings.validateSNI) o.checkServerIdentity = () => undefined;
      else if (name) o.checkServerIdentity = (_h, cert) => tls.checkServerIdentity(name, cert);
    }
    return o;
  }

  /** Where and how the upstream pool connects for a request to `m` with this Host header (the same TLS options as requestOptions). */
  connectTarget(m: BackendMember, host: string): ConnectTarget {
    const key = this.secure ? `${m.address}|${host}` : m.address;
    let t = this.connectTargets.get(key);
    if (t) return t;
    const o = this.requestOptions(m, host, 'GET', '/', []);
    t = {
      host: m.endpoint.host,
      port: m.endpoint.port,
      ...(m.localAddress ? { localAddress: m.localAddress } : {}),
      ...(this.secure
        ? {
            tls: {
              rejectUnauthorized: this.settings.validateCertChainAndExpiry,
              ...(o.servername ? { servername: o.servername } : {}),
              ...((o as tls.ConnectionOptions).secureContext ? { secureContext: (o as tls.ConnectionOptions).secureContext } : {}),
              ...(o.checkServerIdentity ? { checkServerIdentity: o.checkServerIdentity } : {}),
            },
          }
        : {}),
    };
    if (this.connectTargets.size >= 1024) this.connectTargets.clear();
    this.connectTargets.set(key, t);
    return t;
  }

  /**
   * The in-process handler to use for a request to `m` with this Host header, or undefined for the
   * socket: only for HTTPS settings whose TLS handshake would succeed — the server name the hop
   * would send (sniName or the host) is one the service's trusted certificate covers, or the name
   * is not checked — and, when the chain is validated, with trusted roots configured (the local
   * platform CA that `gatehouse up` adds). Anything else takes the socket and fails as it would.
   */
  inProcessFor(m: BackendMember, host: string): InProcessHandler | undefined {
    const h = m.endpoint.inProcess;
    if (!h || !this.secure) return undefined;
    if (this.settings.validateCertChainAndExpiry && !this.trustedCa) return undefined;
    if (!this.settings.validateSNI) return h;
    const name = (this.settings.sniName ?? host).replace(/:\d+$/, '').toLowerCase();
    return name && h.serverNames.has(name) ? h : undefined;
  }

  /** Probes every member once (in parallel) and schedules the next rounds. */
  async start(): Promise<void> {
    await Promise.all(this.members.map((m) => this.probeMember(m)));
    for (const m of this.members) this.schedule(m);
  }

  private schedule(m: BackendMember): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      void this.probeMember(m).then(() => this.schedule(m));
    }, this.probe.intervalMs);
    t.unref();
    this.timers.push(t);
  }

  /** One probe; exposed for tests that do not want to wait for an interval. */
  probeMember(m: BackendMember): Promise<void> {
    const p = this.probe;
    return new Promise<void>((resolve) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (ok: boolean, status?: number, error?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const was = m.healthy;
        m.lastProbe = { at: new Date(), ...(status !== undefined ? { status } : {}), ...(error !== undefined ? { error } : {}) };
        if (ok) {
          m.consecutiveFailures = 0;
          m.healthy = true;
        } else {
          m.consecutiveFailures++;
          if (m.consecutiveFailures >= p.unhealthyThreshold) m.healthy = false;
        }
        if (was !== m.healthy && this.logger) this.logger.log({ level: m.healthy ? 'info' : 'warn', msg: `backend ${m.address}:${m.port} is ${m.healthy ? 'healthy' : 'unhealthy'}`, backendPoolName: this.pool.name, backendSettingName: this.settings.name, probe: p.name, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}) });
        resolve();
      };
      const host = p.host(m);
      const endpoint = p.port === this.settings.port ? m.endpoint : { host: m.endpoint.host, port: p.port };
      const secure = p.protocol === 'Https';
      // In process (same rules as requests): the probe's GET goes to the handler, with the same headers.
      const handler = secure && p.port === this.settings.port && (!this.settings.validateCertChainAndExpiry || this.trustedCa) && m.endpoint.inProcess && (!this.settings.validateSNI || isIP(host) || m.endpoint.inProcess.serverNames.has(host.toLowerCase())) ? m.endpoint.inProcess : undefined;
      if (handler) {
        timer = setTimeout(() => finish(false, undefined, `probe timed out after ${p.timeoutMs} ms`), p.timeoutMs);
        timer.unref();
        handler
          .handle({ method: 'GET', target: p.path, rawHeaders: ['Host', host, 'User-Agent', 'ApplicationGatewayHealthProbe/1.0 (Gatehouse)', 'Connection', 'close'], body: undefined, remoteAddress: m.localAddress ?? '127.0.0.1', remotePort: 0 })
          .then(
            (a) => {
              const status = a.statusCode;
              const statusOk = p.statusCodes.some(([lo, hi]) => status >= lo && status <= hi);
              const ok = statusOk && (!p.body || (a.body ? a.body.subarray(0, 65536).toString('utf8') : '').includes(p.body));
              finish(ok, status, ok ? undefined : statusOk ? 'body does not match' : `status ${status}`);
            },
            (e: unknown) => finish(false, undefined, (e as Error).message),
          );
        return;
      }
      const opts: https.RequestOptions = {
        host: endpoint.host,
        port: endpoint.port,
        method: 'GET',
        path: p.path,
        headers: { Host: host, 'User-Agent': 'ApplicationGatewayHealthProbe/1.0 (Gatehouse)', Connection: 'close' },
        agent: false,
        setHost: false,
        ...(m.localAddress ? { localAddress: m.localAddress } : {}),
      };
      if (secure) {
        if (!isIP(host)) opts.servername = host;
        if (this.secureContext) (opts as tls.ConnectionOptions).secureContext = this.secureContext;
        opts.rejectUnauthorized = this.settings.validateCertChainAndExpiry;
        opts.checkServerIdentity = this.settings.validateSNI && !isIP(host) ? (_h, cert) => tls.checkServerIdentity(host, cert) : () => undefined;
      }
      const req = (secure ? https : http).request(opts, (res) => {
        const status = res.statusCode ?? 0;
        const statusOk = p.statusCodes.some(([lo, hi]) => status >= lo && status <= hi);
        if (!p.body) {
          res.resume();
          res.on('end', () => finish(statusOk, status, statusOk ? undefined : `status ${status}`));
          res.on('error', (e) => finish(false, status, e.message));
          return;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 65536) body += d;
        });
        res.on('end', () => {
          const ok = statusOk && body.includes(p.body);
          finish(ok, status, ok ? undefined : statusOk ? 'body does not match' : `status ${status}`);
        });
        res.on('error', (e) => finish(false, status, e.message));
      });
      timer = setTimeout(() => {
        req.destroy(new Error(`probe timed out after ${p.timeoutMs} ms`));
      }, p.timeoutMs);
      timer.unref();
      req.on('error', (e) => finish(false, undefined, e.message));
      req.end();
    });
  }

  /** Stops probing (requests in flight keep their connections). */
  stopProbes(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  close(): void {
    this.stopProbes();
    this.agent.destroy();
    this.upstream.close();
  }
}
