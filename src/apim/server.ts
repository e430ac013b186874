/**
 * The API Management gateway on the wire: an HTTPS server for `<name>.azure-api.net` (and custom
 * Proxy host names) that asks for a client certificate when a host name negotiates one, never
 * rejects at the TLS level (the policy decides), buffers the request, runs the gateway and writes
 * the answer.
 */
import https from 'node:https';
import net from 'node:net';
import { STATUS_CODES, validateHeaderName, validateHeaderValue, type IncomingMessage, type ServerResponse } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { systemClock, type Clock } from '../core/clock.js';
import { readSource } from '../core/datasource.js';
import { DiagnosticsError, type Diagnostic } from '../core/diagnostics.js';
import { GatehouseError, messageOf } from '../core/errors.js';
import { HeaderMap } from '../core/headers.js';
import { silentLogger, type LogRecord, type Logger } from '../core/logger.js';
import { atEndOfTurn } from '../core/turn.js';
import { defaultGatewayHostName, proxyHostNames, type ApiManagementModel } from '../model/apiManagement.js';
import type { AddressBook, InProcessHandler, InProcessRequest, InProcessResponse } from '../model/network.js';
import { certificateFromDer, loadCertificates, type Certificate, type PlatformCa } from '../pki/index.js';
import type { ManagedIdentityEndpoint, RateLimitStore } from '../policy/runtime.js';
import { NodeBackendClient } from './backend-client.js';
import { ApimCodes } from './errors.js';
import { ApimGateway, type ApimAnswer, type IncomingApimRequest } from './gateway.js';
import { MemoryRateLimitStore } from './rate-limit-store.js';
import { peekServerName } from './sni.js';

export interface ApimOptions {
  /** Where None/External services listen (default 127.0.0.1). */
  readonly bindAddress?: string;
  /** Declared port → local port (443 → 8443); not applied to Internal services. */
  readonly portMap?: Map<number, number>;
  /** The port of an Internal service (0: any free port). */
  readonly internalPort?: number;
  /** Issues the TLS certificate for <name>.azure-api.net. */
  readonly platformCa?: PlatformCa;
  /** An explicit TLS certificate and key (PEM) for the gateway host names, instead of the platform CA. */
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Maps Azure names of backends to local sockets. */
  readonly addressBook?: AddressBook;
  /** Extra roots a backend's certificate may chain to (backends with validateCertificateChain). */
  readonly backendTrustedRootsPem?: readonly string[];
  /** Counters for rate-limit policies (default: in memory, per instance). */
  readonly rateLimits?: RateLimitStore;
  /** Largest request body buffered (default 16 MiB); larger requests get 413. */
  readonly maxBodyBytes?: number;
  /** Where an Internal service listens (default 127.0.0.1): the loopback address of its private IP, 127.0.1.4 for 10.0.1.4. */
  readonly internalAddress?: string;
  /**
   * Asked for every accepted connection before TLS (the NSG of the service's subnet): a connection
   * not allowed is reset, as an NSG drop looks to a client, and logged with reason `nsg_denied`.
   */
  readonly allowConnection?: (remoteAddress: string, remotePort: number) => { readonly allowed: boolean; readonly rule: string };
  /** The managed identity's token endpoint (authentication-managed-identity); none: no managed identity. */
  readonly managedIdentity?: ManagedIdentityEndpoint;
}

export interface RunningApim {
  readonly name: string;
  readonly hostNames: string[];
  /** The gateway URL as Azure names it, with the local port: https://apim.azure-api.net:8443 */
  readonly url: string;
  readonly localAddress: string;
  readonly localPort: number;
  /**
   * The gateway for an edge in the same process (`gatehouse up --backend-hop in-process`): the
   * same answers, log lines and connection checks as the HTTPS socket, without TLS and HTTP
   * serialisation. See docs/apim.md.
   */
  readonly inProcess: InProcessHandler;
  close(): Promise<void>;
  /**
   * Swaps in a new configuration of the same service on the same socket: loads and compiles it
   * first and throws a DiagnosticsError (still serving the previous one) when it has errors.
   * Host names and certificates are taken from the new model (a removed custom host name gets the
   * default certificate). negotiateClientCertificate follows too when the service started with host
   * names that differ in it (the port routes by server name); otherwise it stays as started, as the
   * port does.
   */
  reload(model: ApiManagementModel): Promise<void>;
}

/**
 * Loads and compiles a service without listening: every certificate and policy diagnostic
 * (errors and warnings), so that a front-end can refuse a configuration before it stops the
 * running one.
 */
export async function checkApiManagement(model: ApiManagementModel): Promise<Diagnostic[]> {
  const backendClient = new NodeBackendClient();
  try {
    const { diagnostics } = await ApimGateway.load(model, { backendClient, rateLimits: new MemoryRateLimitStore(), clock: systemClock, logger: silentLogger });
    return diagnostics;
  } finally {
    backendClient.close();
  }
}

const INTERNAL_ERROR_BODY = '{ "statusCode": 500, "message": "Internal server error" }';

/** The Host header split into host name and port (443 when absent); IPv6 brackets removed. */
function splitHost(hostHeader: string): { readonly host: string; readonly port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader);
  return { host: m ? m[1]!.replace(/^\[|\]$/g, '') : hostHeader, port: m?.[2] ? Number(m[2]) : 443 };
}

/**
 * splitHost with the last few Host headers remembered: a service is called by a handful of host
 * names, so the split is made once per name rather than once per request (bounded: at most 16 kept).
 */
function hostSplitter(): (hostHeader: string) => { readonly host: string; readonly port: number } {
  const seen = new Map<string, { readonly host: string; readonly port: number }>();
  return (hostHeader) => {
    let split = seen.get(hostHeader);
    if (split === undefined) {
      split = splitHost(hostHeader);
      if (seen.size >= 16) seen.clear();
      seen.set(hostHeader, split);
    }
    return split;
  };
}

/** The client address as the gateway sees it (an IPv4-mapped IPv6 address as IPv4). */
function ipAddressOf(remoteAddress: string): string {
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}

/** The log record of one request the gateway answered (the same for the HTTPS and the in-process hop). */
function requestRecord(method: string, path: string, answer: ApimAnswer, started: number): LogRecord {
  // Built field by field in the order the log line shows them (no object spreads per request).
  const record: { level: 'info'; msg: string; [field: string]: unknown } = { level: 'info', msg: 'request', method, path, status: answer.response.statusCode };
  if (answer.logReason) record.reason = answer.logReason;
  if (answer.lastError) record.lastError = answer.lastError;
  if (answer.api) record.api = answer.api;
  if (answer.operation) record.operation = answer.operation;
  record.ms = Math.round((performance.now() - started) * 1000) / 1000;
  return record;
}

/**
 * The Date header value (RFC 7231 IMF-fixdate, as Node's server writes it), made once per second
 * rather than once per answer.
 */
export function httpDateCache(): () => string {
  let second = -1;
  let text = '';
  return () => {
    const now = Date.now();
    const s = Math.floor(now / 1000);
    if (s !== second) {
      second = s;
      text = new Date(s * 1000).toUTCString();
    }
    return text;
  };
}

/** Headers whose several values go on separate lines (set-header-policy.md); others are joined with ','. */
const MULTI_LINE = new Set(['user-agent', 'www-authenticate', 'proxy-authenticate', 'cookie', 'set-cookie', 'warning', 'date', 'expires', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'retry-after']);
const NOT_WRITTEN = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export async function startApiManagement(model: ApiManagementModel, options: ApimOptions = {}): Promise<RunningApim> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const backendClient = new NodeBackendClient({
    ...(options.addressBook ? { addressBook: options.addressBook } : {}),
    ...(options.backendTrustedRootsPem ? { trustedRootsPem: options.backendTrustedRootsPem } : {}),
  });
  const rateLimits = options.rateLimits ?? new MemoryRateLimitStore();
  const loaded = await ApimGateway.load(model, { backendClient, rateLimits, clock, logger, ...(options.managedIdentity ? { managedIdentity: options.managedIdentity } : {}) });
  for (const d of loaded.diagnostics) if (d.severity === 'warning') logger.log({ level: 'warn', msg: 'policy warning', code: d.code, message: d.message, file: d.file, line: d.line, column: d.column });
  if (!loaded.gateway) {
    backendClient.close();
    throw new DiagnosticsError(loaded.diagnostics, `API Management service '${model.name}'`);
  }
  let gateway: ApimGateway = loaded.gateway;
  let hostNames = proxyHostNames(model);
  const defaultHost = defaultGatewayHostName(model.name);

  const tlsOf = async (m: ApiManagementModel): Promise<{ cert: string; key: string; contexts: { hostName: string; cert: string; key: string }[] }> => {
    // The platform CA (or an explicit certificate) for the default and BuiltIn host names; custom certificates by SNI.
    let cert: string;
    let key: string;
    const names = proxyHostNames(m);
    if (options.tls) ({ cert, key } = options.tls);
    else if (options.platformCa) {
      const builtIn = names.filter((h) => !m.hostnameConfigurations.some((c) => c.hostName.toLowerCase() === h && c.certificate));
      const issued = await options.platformCa.issueServerCertificate(builtIn.length ? builtIn : [defaultGatewayHostName(m.name)]);
      cert = issued.certificate.toPem() + issued.chain.map((c) => c.toPem()).join('');
      key = issued.privateKeyPem;
    } else {
      throw new GatehouseError(ApimCodes.GH_APIM_TLS, `API Management service '${m.name}' needs a TLS certificate: pass a platform CA or { tls: { cert, key } }`);
    }
    const contexts: { hostName: string; cert: string; key: string }[] = [];
    for (const h of m.hostnameConfigurations) {
      if (h.type !== 'Proxy' || !h.certificate) continue;
      try {
        const mat = await loadCertificates(await readSource(h.certificate.data), { origin: `${m.name} hostnameConfigurations ${h.hostName}`, password: h.certificate.password?.reveal() });
        if (!mat.privateKeyPem) throw new GatehouseError('GH_PKI_NO_PRIVATE_KEY', `the certificate for ${h.hostName} has no private key`);
        contexts.push({ hostName: h.hostName, cert: mat.certificates.map((c) => c.toPem()).join(''), key: mat.privateKeyPem });
      } catch (e) {
        throw new GatehouseError(ApimCodes.GH_APIM_CERTIFICATE, `${m.name}: custom host name ${h.hostName}: ${messageOf(e)}`, { cause: e });
      }
    }
    return { cert, key, contexts };
  };
  let tlsMaterial;
  try {
    tlsMaterial = await tlsOf(model);
  } catch (e) {
    backendClient.close();
    throw e;
  }
  // negotiateClientCertificate is per host name. When all Proxy host names agree, one TLS server does;
  // when they differ, the ClientHello's server name picks a server that asks for a certificate or one that does not.
  const negotiationOf = (m: ApiManagementModel) => {
    const proxies = m.hostnameConfigurations.filter((h) => h.type === 'Proxy');
    const names = new Set(proxies.filter((h) => h.negotiateClientCertificate).map((h) => h.hostName.toLowerCase()));
    return { names, byDefault: proxies.find((h) => h.defaultSslBinding)?.negotiateClientCertificate ?? names.has(defaultGatewayHostName(m.name)) };
  };
  // With a router (mixed), which host names ask follows reloads; one TLS server keeps requestCert as started.
  let { names: negotiating, byDefault: defaultNegotiates } = negotiationOf(model);
  const mixed = negotiating.size > 0 && negotiating.size < hostNames.length;
  const requestCert = negotiating.size > 0 && !mixed;
  // Custom host names' certificates by SNI. Not server.addContext(), which only ever adds: a host
  // name a reload removed would keep its certificate. A name with no context (unknown, removed)
  // gets the default certificate.
  let sni = sniContextsOf(tlsMaterial.contexts);
  const SNICallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => cb(null, sniContextFor(sni, servername));
  const makeServer = (ask: boolean) => https.createServer({ cert: tlsMaterial.cert, key: tlsMaterial.key, requestCert: ask, rejectUnauthorized: false, minVersion: 'TLSv1.2', SNICallback });
  const server = makeServer(mixed ? false : requestCert);
  const servers = mixed ? [server, makeServer(true)] : [server];

  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const hostOf = hostSplitter();
  const httpDate = httpDateCache();
  const peerCerts = new WeakMap<TLSSocket, Certificate | null>();
  const certOf = (socket: TLSSocket): Certificate | undefined => {
    let c = peerCerts.get(socket);
    if (c === undefined) {
      c = null;
      try {
        const x = socket.getPeerX509Certificate?.();
        if (x) c = certificateFromDer(x.raw);
      } catch (e) {
        logger.log({ level: 'warn', msg: 'client certificate unreadable', error: messageOf(e) });
      }
      peerCerts.set(socket, c);
    }
    return c ?? undefined;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) tooLarge = true;
      else chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooLarge) {
        writeAnswer(res, req.method ?? 'GET', { statusCode: 413, statusReason: 'Payload Too Large', headers: new HeaderMap([['Content-Type', 'application/json']]), body: { bytes: Buffer.from('{ "statusCode": 413, "message": "Request entity too large" }') } }, []);
        return;
      }
      const hostPort = hostOf(req.headers.host ?? defaultHost);
      const started = performance.now();
      gateway
        .handle({
          method: (req.method ?? 'GET').toUpperCase(),
          target: req.url ?? '/',
          host: hostPort.host,
          port: hostPort.port,
          headers: HeaderMap.fromRaw(req.rawHeaders),
          body: chunks.length ? Buffer.concat(chunks) : undefined,
          ipAddress: ipAddressOf(socket.remoteAddress ?? ''),
          certificate: certOf(socket),
        })
        .then((answer: ApimAnswer) => {
          writeAnswer(res, req.method ?? 'GET', answer.response, answer.extraHeaders);
          logger.log(requestRecord(req.method ?? 'GET', req.url ?? '/', answer, started));
        })
        .catch((e: unknown) => {
          logger.log({ level: 'error', msg: 'request failed', error: messageOf(e) });
          if (res.headersSent) {
            res.destroy();
            return;
          }
          // The reason is given: a writeHead that threw on the status message has kept that message.
          try {
            res.writeHead(500, 'Internal Server Error', { 'Content-Type': 'application/json' });
            res.end(INTERNAL_ERROR_BODY);
          } catch {
            res.destroy();
          }
        });
    });
  };
  const sockets = new Set<import('node:stream').Duplex>();
  for (const s of servers) {
    s.on('request', onRequest);
    s.on('tlsClientError', (e) => logger.log({ level: 'debug', msg: 'tls handshake failed', error: e.message }));
  }
  // The socket that listens: the TLS server itself, or a router that reads the server name first.
  const listener: net.Server = mixed
    ? net.createServer((socket) => {
        sockets.add(socket);
        let buf: Buffer = Buffer.alloc(0);
        const timer = setTimeout(() => socket.destroy(), 10_000);
        timer.unref();
        // A connection that closes before its ClientHello (a scan, an NSG reset) does not keep its timer.
        socket.on('close', () => {
          sockets.delete(socket);
          clearTimeout(timer);
        });
        const onData = (d: Buffer) => {
          buf = buf.length ? Buffer.concat([buf, d]) : d;
          const peek = peekServerName(buf);
          if (!peek.done && buf.length < 16_384) return;
          clearTimeout(timer);
          socket.off('data', onData);
          socket.pause();
          socket.unshift(buf);
          const name = peek.done ? peek.serverName : undefined;
          const ask = name === undefined ? defaultNegotiates : negotiating.has(name);
          servers[ask ? 1 : 0]!.emit('connection', socket);
        };
        socket.on('data', onData);
        socket.on('error', () => socket.destroy());
      })
    : server;

  const internal = model.virtualNetworkType === 'Internal';
  const host = internal ? (options.internalAddress ?? '127.0.0.1') : (options.bindAddress ?? '127.0.0.1');
  const allow = options.allowConnection;
  if (allow) {
    // Registered before anything reads from the socket: a denied peer never gets a TLS handshake.
    listener.prependListener('connection', (socket: net.Socket) => {
      const peer = socket.remoteAddress ?? '';
      const decision = allow(peer, socket.remotePort ?? 0);
      if (decision.allowed) return;
      logger.log({ level: 'warn', msg: 'connection denied', reason: 'nsg_denied', rule: decision.rule, peer: `${peer}:${socket.remotePort ?? 0}` });
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
    });
  }
  const port = internal ? (options.internalPort ?? 0) : (options.portMap?.get(443) ?? 443);
  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    backendClient.close();
    const err = e as NodeJS.ErrnoException & { port?: number };
    if (err.port === undefined) err.port = port;
    throw e;
  }
  const addr = listener.address();
  const localPort = typeof addr === 'object' && addr ? addr.port : port;
  logger.log({ level: 'info', msg: 'api management listening', name: model.name, hostNames, address: host, port: localPort, internal, negotiateClientCertificate: mixed ? [...negotiating] : requestCert });
  if (!mixed) {
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
  }
  // In-process hand-off: what onRequest does, for a request that did not cross a socket.
  let serverNames = namesServedByDefaultCertificate(model, tlsMaterial.cert);
  let allowedPeer: { readonly address: string; readonly until: number } | undefined;
  /** The in-process answer to a request whose body (if any) has been read. */
  const answerInProcess = (r: InProcessRequest, body: Buffer | undefined): Promise<InProcessResponse> => {
    const method = r.method.toUpperCase();
    let request: IncomingApimRequest;
    try {
      let hostHeader: string | undefined;
      const raw = r.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!;
        if (name.length === 4 && name.toLowerCase() === 'host') {
          hostHeader = raw[i + 1];
          break;
        }
      }
      const hostPort = hostOf(hostHeader ?? defaultHost);
      request = { method, target: r.target, host: hostPort.host, port: hostPort.port, headers: HeaderMap.fromRaw(raw), body, ipAddress: ipAddressOf(r.remoteAddress), certificate: undefined };
    } catch (e) {
      return Promise.reject(e);
    }
    const started = performance.now();
    return gateway
      .handle(request)
      .then((answer: ApimAnswer) => {
        const wire = wireAnswer(method, answer.response, answer.extraHeaders, httpDate);
        logger.log(requestRecord(r.method, r.target, answer, started));
        return wire;
      })
      .catch((e: unknown) => {
        logger.log({ level: 'error', msg: 'request failed', error: messageOf(e) });
        const errorBody = Buffer.from(INTERNAL_ERROR_BODY);
        return { statusCode: 500, statusMessage: 'Internal Server Error', rawHeaders: ['Content-Type', 'application/json', 'Date', httpDate(), 'Content-Length', String(errorBody.length)], body: method === 'HEAD' ? undefined : errorBody };
      });
  };
  const inProcess: InProcessHandler = {
    get serverNames() {
      return serverNames;
    },
    handle: (r: InProcessRequest): Promise<InProcessResponse> => {
      if (allow) {
        // Over the socket the NSG decides once per connection and a keep-alive connection carries
        // many requests: here an allowed peer stays allowed for a second (a changed NSG after a
        // reload applies within that second; open socket connections keep going).
        const now = performance.now();
        if (!(allowedPeer && allowedPeer.address === r.remoteAddress && allowedPeer.until > now)) {
          const decision = allow(r.remoteAddress, r.remotePort);
          if (!decision.allowed) {
            logger.log({ level: 'warn', msg: 'connection denied', reason: 'nsg_denied', rule: decision.rule, peer: `${r.remoteAddress}:${r.remotePort}` });
            // What the edge's HTTPS client reports when the socket is reset before TLS.
            return Promise.reject(Object.assign(new Error(`connect ECONNRESET ${host}:${localPort}`), { code: 'ECONNRESET' }));
          }
          allowedPeer = { address: r.remoteAddress, until: now + 1000 };
        }
      }
      const body = r.body;
      // Most requests through the hop have no body: answered without reading a stream.
      if (!body) return answerInProcess(r, undefined);
      return new Promise<InProcessResponse>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        body.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBody) tooLarge = true;
          else chunks.push(c);
        });
        body.on('error', (e: Error) => reject(e));
        body.on('end', () => {
          if (!tooLarge) {
            resolve(answerInProcess(r, chunks.length ? Buffer.concat(chunks) : undefined));
            return;
          }
          try {
            resolve(wireAnswer(r.method.toUpperCase(), { statusCode: 413, statusReason: 'Payload Too Large', headers: new HeaderMap([['Content-Type', 'application/json']]), body: { bytes: Buffer.from('{ "statusCode": 413, "message": "Request entity too large" }') } }, [], httpDate));
          } catch (e) {
            reject(e);
          }
        });
      });
    },
  };
  const running = {
    name: model.name,
    get hostNames() {
      return hostNames;
    },
    url: `https://${defaultHost}${localPort === 443 ? '' : `:${localPort}`}`,
    localAddress: host,
    localPort,
    inProcess,
    close: () =>
      new Promise<void>((resolve) => {
        backendClient.close();
        listener.close(() => resolve());
        for (const s of servers) s.closeIdleConnections?.();
        for (const s of sockets) s.destroy();
      }),
    async reload(next: ApiManagementModel) {
      const r = await ApimGateway.load(next, { backendClient, rateLimits, clock, logger, ...(options.managedIdentity ? { managedIdentity: options.managedIdentity } : {}) });
      if (!r.gateway) throw new DiagnosticsError(r.diagnostics, `API Management service '${next.name}'`);
      const t = await tlsOf(next);
      const nextSni = sniContextsOf(t.contexts);
      for (const s of servers) s.setSecureContext({ cert: t.cert, key: t.key, minVersion: 'TLSv1.2' });
      sni = nextSni;
      if (mixed) ({ names: negotiating, byDefault: defaultNegotiates } = negotiationOf(next));
      gateway = r.gateway;
      hostNames = proxyHostNames(next);
      serverNames = namesServedByDefaultCertificate(next, t.cert);
      logger.log({ level: 'info', msg: 'api management reloaded', name: next.name });
    },
  };
  return running;
}

interface SniContexts {
  /** Exact host names, lower case. */
  readonly exact: ReadonlyMap<string, SecureContext>;
  /** Wildcard host names ('*.contoso.example'), as Node's addContext matches them: '*' stands for one label or part of one. */
  readonly wildcards: readonly (readonly [RegExp, SecureContext])[];
}

function sniContextsOf(contexts: readonly { hostName: string; cert: string; key: string }[]): SniContexts {
  const exact = new Map<string, SecureContext>();
  const wildcards: [RegExp, SecureContext][] = [];
  for (const c of contexts) {
    const ctx = createSecureContext({ cert: c.cert, key: c.key });
    const name = c.hostName.toLowerCase();
    if (name.includes('*')) wildcards.push([new RegExp(`^${name.replace(/[.^$+?\-\\[\]{}()|]/g, '\\$&').replace(/\*/g, '[^.]*')}$`, 'i'), ctx]);
    // A later configuration of the same name wins, as with addContext.
    else exact.set(name, ctx);
  }
  return { exact, wildcards };
}

/** The context for a ClientHello's server name: an exact name first, then the last matching wildcard; undefined for the default certificate. */
function sniContextFor(sni: SniContexts, servername: string): SecureContext | undefined {
  const exact = sni.exact.get(servername.toLowerCase());
  if (exact) return exact;
  for (let i = sni.wildcards.length - 1; i >= 0; i--) if (sni.wildcards[i]![0].test(servername)) return sni.wildcards[i]![1];
  return undefined;
}

/**
 * Host names whose TLS certificate is the default one (platform CA or options.tls) and covers
 * them: a client that trusts that certificate's issuer can complete a handshake for these. Custom
 * host names with their own certificate are left out (the in-process hand-off then takes the
 * socket, so trust problems show the same way).
 */
function namesServedByDefaultCertificate(m: ApiManagementModel, certPem: string): ReadonlySet<string> {
  const out = new Set<string>();
  let x: X509Certificate;
  try {
    x = new X509Certificate(certPem);
  } catch {
    return out;
  }
  for (const h of proxyHostNames(m)) {
    if (m.hostnameConfigurations.some((c) => c.hostName.toLowerCase() === h.toLowerCase() && c.certificate)) continue;
    if (x.checkHost(h) !== undefined) out.add(h.toLowerCase());
  }
  return out;
}

/** What Node's writeHead refuses in a status message (checkInvalidHeaderChar). */
const INVALID_STATUS_MESSAGE = /[^\t\x20-\x7e\x80-\xff]/;
/** A header name Node writes (checkIsHttpToken). */
const HTTP_TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;

/**
 * The answer as the HTTPS hop carries it: the raw headers writeAnswer gives Node, then the Date
 * Node's server adds when none was set (Connection/Keep-Alive, which a proxy drops, are left out).
 * Throws as writeHead would on a status code, status message or header Node refuses to write.
 * `method` is upper case; `date` gives the Date header value.
 */
function wireAnswer(method: string, r: { statusCode: number; statusReason: string; headers: HeaderMap; body: { bytes: Buffer | undefined } }, extra: readonly (readonly [string, string])[], date: () => string): InProcessResponse {
  const statusCode = r.statusCode | 0;
  if (statusCode < 100 || statusCode > 999) throw Object.assign(new RangeError(`Invalid status code: ${r.statusCode}`), { code: 'ERR_HTTP_INVALID_STATUS_CODE' });
  const statusMessage = r.statusReason || STATUS_CODES[statusCode] || 'unknown';
  if (INVALID_STATUS_MESSAGE.test(statusMessage)) throw Object.assign(new TypeError('Invalid character in statusMessage'), { code: 'ERR_INVALID_CHAR' });
  const { raw, body } = answerParts(r, extra);
  let hasDate = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // The checks writeHead makes; Node's own validators only for a header that fails them, to throw its errors.
    if (!HTTP_TOKEN.test(name) || typeof value !== 'string' || INVALID_STATUS_MESSAGE.test(value)) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    }
    if (!hasDate && name.length === 4 && name.toLowerCase() === 'date') hasDate = true;
  }
  if (!hasDate) raw.push('Date', date());
  return { statusCode, statusMessage, rawHeaders: raw, body: method === 'HEAD' ? undefined : body };
}

function writeAnswer(res: ServerResponse, method: string, r: { statusCode: number; statusReason: string; headers: HeaderMap; body: { bytes: Buffer | undefined } }, extra: readonly (readonly [string, string])[]): void {
  const { raw, body } = answerParts(r, extra);
  res.writeHead(r.statusCode, r.statusReason || undefined, raw);
  // With the other answers of this turn (core/turn.ts).
  atEndOfTurn(() => res.end(method === 'HEAD' ? undefined : body));
}

function answerParts(r: { statusCode: number; statusReason: string; headers: HeaderMap; body: { bytes: Buffer | undefined } }, extra: readonly (readonly [string, string])[]): { raw: string[]; body: Buffer | undefined } {
  const raw: string[] = [];
  for (const [name, values] of r.headers.entries()) {
    const lower = name.toLowerCase();
    if (NOT_WRITTEN.has(lower)) continue;
    if (MULTI_LINE.has(lower)) for (const v of values) raw.push(name, v);
    else raw.push(name, values.join(','));
  }
  for (const [n, v] of extra) raw.push(n, v);
  const noBody = r.statusCode === 204 || r.statusCode === 304 || r.statusCode < 200;
  const body = noBody ? undefined : r.body.bytes;
  if (!noBody) raw.push('Content-Length', String(body ? body.length : 0));
  return { raw, body };
}
