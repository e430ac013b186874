/**
 * The Application Gateway runtime: frontend ports, listeners (TLS per listener chosen from the
 * ClientHello's SNI, client certificates requested only by mTLS listeners), routing rules,
 * rewrite sets, redirects, backends and the proxy.
 *
 * Everything is compiled once in `compileGateway` (secure contexts, host matchers, rule lists,
 * rewrite templates, backend targets); the per-request path only looks things up.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { constants as cryptoConstants } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DiagnosticBag, DiagnosticsError, type Diagnostic } from '../core/diagnostics.js';
import { GatehouseError, messageOf } from '../core/errors.js';
import { HeaderMap } from '../core/headers.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { atEndOfTurn } from '../core/turn.js';
import { DeadlineQueue, type Deadline } from '../core/deadlines.js';
import type { AddressBook, InProcessHandler } from '../model/network.js';
import { emptyAddressBook } from '../model/network.js';
import type { ApplicationGatewayModel, HttpListener, RedirectConfiguration, SslPolicy, SslProtocolName } from '../model/applicationGateway.js';
import type { Certificate } from '../pki/index.js';
import { parseCertificates } from '../pki/index.js';
import { AccessRecord, kLineMemo, type AccessOutcome } from './accessLog.js';
import { BackendTarget, type BackendMember } from './backends.js';
import { CompiledClientAuth, loadTrustedClientCertificate, type TrustedChain } from './clientAuth.js';
import { ConnectionInfo, PeerCertificateCache, kConn } from './connection.js';
import { EDGE_CODES } from './errors.js';
import { compileHostMatcher, hostOf, type HostMatcher } from './hosts.js';
import { PAGES, SERVER_HEADER, rawPageResponse, type GatewayReason, type Page } from './pages.js';
import { CompiledRewriteSet, type RewriteContext } from './rewrite.js';
import { parseClientHello } from './tls/clientHello.js';
import { opensslCiphers } from './tls/ciphers.js';
import { OcspChecker, type OcspResult } from './ocsp.js';

export interface EdgeOptions {
  /** Default 127.0.0.1. */
  readonly bindAddress?: string;
  /** Declared frontend port → local port (0 = any free port). Unmapped ports bind as declared. */
  readonly portMap?: Map<number, number>;
  /** Asked before connecting to a backend address (10.0.1.4:443 → 127.0.0.1:54321). */
  readonly addressBook?: AddressBook;
  /** Extra CAs trusted for HTTPS backends, as Azure trusts well-known CAs (Gatehouse's platform CA). */
  readonly extraTrustedRoots?: readonly Certificate[];
  /** Access-log records (one per request) and health changes go here. */
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** How long close() waits for in-flight requests before it cuts connections. Default 5000 ms. */
  readonly drainTimeoutMs?: number;
  /**
   * The local address backend connections and probes come from: the loopback address of the
   * gateway's private IP (127.0.0.4 for 10.0.0.4), which the NSG of a backend's subnet sees.
   * Used for loopback backends only (an IPv4 127.x endpoint).
   */
  readonly sourceAddress?: string;
}

export interface RunningListener {
  readonly name: string;
  readonly protocol: 'Http' | 'Https';
  readonly hostNames: readonly string[];
  readonly declaredPort: number;
  readonly url: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly mtls: boolean;
}

export interface RunningEdge {
  readonly listeners: readonly RunningListener[];
  /** Stops listening, lets in-flight requests finish (bounded), closes every connection. */
  close(): Promise<void>;
  /** Health of every backend member, for `status` output and tests. */
  health(): { pool: string; settings: string; address: string; port: number; healthy: boolean }[];
  /**
   * Swaps in a new configuration: compiled and probed first, so one that fails (DiagnosticsError,
   * a port in use) leaves the running configuration serving. New connections use the new one;
   * connections already open finish on the old one. Frontend ports are added and removed as needed.
   */
  reload(model: ApplicationGatewayModel): Promise<void>;
}

// ---------------------------------------------------------------------------------------------

type Route =
  | { readonly kind: 'backend'; readonly target: BackendTarget; readonly rewrite: CompiledRewriteSet | undefined; readonly overridePrefix: string | undefined }
  | { readonly kind: 'redirect'; readonly redirect: RedirectConfiguration; readonly rewrite: CompiledRewriteSet | undefined };

interface CompiledPathRule {
  readonly name: string;
  readonly patterns: readonly { readonly prefix: string; readonly wildcard: boolean }[];
  readonly route: Route;
}

interface CompiledRoutingRule {
  readonly name: string;
  readonly basic: Route | undefined;
  readonly pathRules: readonly CompiledPathRule[];
  readonly pathDefault: Route | undefined;
}

interface CompiledListener {
  readonly model: HttpListener;
  readonly matchHost: HostMatcher;
  readonly rule: CompiledRoutingRule;
  readonly clientAuth: CompiledClientAuth | undefined;
  /** The TLS (+HTTP) server the handshake is handed to, for Https listeners. */
  server?: https.Server | http2.Http2SecureServer;
}

interface PortGroup {
  readonly declaredPort: number;
  readonly protocol: 'Http' | 'Https';
  /** In routing-rule priority order. */
  readonly listeners: readonly CompiledListener[];
  /** The listener whose certificate answers a ClientHello without (matching) SNI. */
  readonly defaultTlsListener: CompiledListener | undefined;
}

interface CompiledGateway {
  readonly model: ApplicationGatewayModel;
  readonly groups: readonly PortGroup[];
  readonly targets: readonly BackendTarget[];
  readonly listenersByName: ReadonlyMap<string, CompiledListener>;
  /** Present when an sslProfile asks for verifyClientRevocation OCSP. */
  readonly ocsp: OcspChecker | undefined;
}

const TLS_VERSIONS: Record<SslProtocolName, tls.SecureVersion> = { TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' };

/** Compiles the model; throws DiagnosticsError with every problem found. Nothing listens yet. */
export function compileGateway(model: ApplicationGatewayModel, options: EdgeOptions): CompiledGateway {
  const bag = new DiagnosticBag();
  const file = model.origin?.file;
  const at = (path: string) => (file ? { file, path } : { path });
  const addressBook = options.addressBook ?? emptyAddressBook;

  // Trusted client CA chains (Azure's upload checks).
  const chains = new Map<string, TrustedChain>();
  for (const t of model.trustedClientCertificates) {
    const c = loadTrustedClientCertificate(t, bag, file);
    if (c) chains.set(t.name, c);
  }
  const clientAuths = new Map<string, CompiledClientAuth>();
  for (const p of model.sslProfiles) {
    if (!p.clientAuthConfiguration) continue;
    const cs = p.trustedClientCertificates.map((n) => chains.get(n)).filter((c): c is TrustedChain => c !== undefined);
    clientAuths.set(p.name, new CompiledClientAuth(p, p.clientAuthConfiguration, cs));
  }

  // Backend trusted roots.
  const rootPems = new Map<string, string[]>();
  for (const r of model.trustedRootCertificates) {
    try {
      rootPems.set(r.name, parseCertificates(r.data, { origin: r.path }).map((c) => c.toPem()));
    } catch (e) {
      bag.error(EDGE_CODES.GH_EDGE_TRUSTED_ROOT_CERTIFICATE, `trustedRootCertificate '${r.name}': ${messageOf(e)}`, at(r.path));
    }
  }
  const extraPems = (options.extraTrustedRoots ?? []).map((c) => c.toPem());

  const settingsByName = new Map(model.backendHttpSettingsCollection.map((s) => [s.name, s]));
  const poolsByName = new Map(model.backendAddressPools.map((p) => [p.name, p]));
  const probesByName = new Map(model.probes.map((p) => [p.name, p]));
  const rewriteByName = new Map<string, CompiledRewriteSet>();
  for (const s of model.rewriteRuleSets) {
    const problems: string[] = [];
    rewriteByName.set(s.name, new CompiledRewriteSet(s, problems));
    for (const p of problems) bag.error('GH_AGW_INVALID_VALUE', `rewriteRuleSet '${s.name}': ${p}`, at(`properties.rewriteRuleSets[${model.rewriteRuleSets.indexOf(s)}]`));
  }
  const redirectsByName = new Map(model.redirectConfigurations.map((r) => [r.name, r]));
  const targets = new Map<string, BackendTarget>();
  const targetFor = (poolName: string | undefined, settingsName: string | undefined): BackendTarget | undefined => {
    if (!poolName || !settingsName) return undefined;
    const key = `${poolName}|${settingsName}`;
    let t = targets.get(key);
    if (!t) {
      const pool = poolsByName.get(poolName);
      const settings = settingsByName.get(settingsName);
      if (!pool || !settings) return undefined;
      const uploaded = settings.trustedRootCertificates.flatMap((n) => rootPems.get(n) ?? []);
      const ca = uploaded.length || extraPems.length ? [...tls.rootCertificates, ...uploaded, ...extraPems] : undefined;
      t = new BackendTarget(pool, settings, settings.probe ? probesByName.get(settings.probe) : undefined, addressBook, ca, options.logger, options.sourceAddress);
      targets.set(key, t);
    }
    return t;
  };
  const route = (pool: string | undefined, settings: string | undefined, redirect: string | undefined, rewrite: string | undefined, overridePrefix: string | undefined): Route | undefined => {
    const rw = rewrite ? rewriteByName.get(rewrite) : undefined;
    // Fail closed: a rule must not run without the rewrite set it names (the one that removes a forged X-ARR-ClientCert, say).
    if (rewrite && !rw) bag.error('GH_AGW_DANGLING_ID', `rewriteRuleSet '${rewrite}' is not declared`, at('properties.rewriteRuleSets'));
    if (redirect) {
      const r = redirectsByName.get(redirect);
      return r ? { kind: 'redirect', redirect: r, rewrite: rw } : undefined;
    }
    const target = targetFor(pool, settings);
    return target ? { kind: 'backend', target, rewrite: rw, overridePrefix } : undefined;
  };

  // Listeners, in routing-rule priority order.
  const listeners: CompiledListener[] = [];
  const listenersByName = new Map<string, CompiledListener>();
  /** Decoded PFX bytes per sslCertificate name (shared by the listeners that serve it). */
  const pfxByCertificate = new Map<string, Buffer>();
  const badCertificates = new Set<string>();
  for (const rule of model.requestRoutingRules) {
    const l = model.httpListeners.find((x) => x.name === rule.httpListener);
    if (!l) continue;
    let compiledRule: CompiledRoutingRule;
    if (rule.ruleType === 'PathBasedRouting') {
      const map = model.urlPathMaps.find((m) => m.name === rule.urlPathMap);
      compiledRule = {
        name: rule.name,
        basic: undefined,
        pathRules: (map?.pathRules ?? []).flatMap((pr) => {
          const r = route(pr.backendAddressPool ?? map?.defaultBackendAddressPool, pr.backendHttpSettings ?? map?.defaultBackendHttpSettings, pr.redirectConfiguration, pr.rewriteRuleSet, 'path-rule');
          if (!r) return [];
          return [{ name: pr.name, route: r, patterns: pr.paths.map((p) => (p.endsWith('*') ? { prefix: p.slice(0, -1).toLowerCase(), wildcard: true } : { prefix: p.toLowerCase(), wildcard: false })) }];
        }),
        pathDefault: map ? route(map.defaultBackendAddressPool, map.defaultBackendHttpSettings, map.defaultRedirectConfiguration, map.defaultRewriteRuleSet, undefined) : undefined,
      };
    } else {
      compiledRule = { name: rule.name, basic: route(rule.backendAddressPool, rule.backendHttpSettings, rule.redirectConfiguration, rule.rewriteRuleSet, undefined), pathRules: [], pathDefault: undefined };
    }
    const profile = l.sslProfile ? model.sslProfiles.find((p) => p.name === l.sslProfile) : undefined;
    // Fail closed: a listener whose sslProfile is missing must not run without its client authentication.
    if (l.sslProfile && !profile) bag.error('GH_AGW_DANGLING_ID', `listener '${l.name}': sslProfile '${l.sslProfile}' is not declared`, at(`properties.httpListeners[${model.httpListeners.indexOf(l)}].properties.sslProfile`));
    const cl: CompiledListener = { model: l, matchHost: compileHostMatcher(l.hostNames), rule: compiledRule, clientAuth: profile ? clientAuths.get(profile.name) : undefined };
    if (l.protocol === 'Https') {
      const cert = model.sslCertificates.find((c) => c.name === l.sslCertificate);
      const policy: SslPolicy = profile?.sslPolicy ?? model.sslPolicy;
      if (!cert || cert.data === undefined) {
        bag.error(EDGE_CODES.GH_EDGE_SSL_CERTIFICATE, `listener '${l.name}': sslCertificate '${l.sslCertificate ?? ''}' has no PFX data to serve`, at(`properties.httpListeners[${model.httpListeners.indexOf(l)}].properties.sslCertificate`));
      } else {
        let pfx = pfxByCertificate.get(cert.name);
        if (!pfx) {
          pfx = Buffer.from(cert.data, 'base64');
          pfxByCertificate.set(cert.name, pfx);
        }
        let ciphers: string | undefined;
        if (policy.cipherSuites.length > 0) {
          const mapped = opensslCiphers(policy.cipherSuites);
          if (mapped.unknown.length) bag.error(EDGE_CODES.GH_EDGE_UNSUPPORTED, `listener '${l.name}': unknown cipher suites ${mapped.unknown.join(', ')}`, at(profile?.sslPolicy ? `properties.sslProfiles[${model.sslProfiles.indexOf(profile)}].properties.sslPolicy.cipherSuites` : 'properties.sslPolicy.cipherSuites'));
          // TLS 1.3 suites stay Node's defaults unless the policy names some.
          ciphers = mapped.ciphers.includes('TLS_') ? mapped.ciphers : `${mapped.ciphers}:${tls.DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_')).join(':')}`;
        }
        const tlsOptions: tls.TlsOptions = {
          ...(ciphers ? { ciphers, honorCipherOrder: true } : {}),
          pfx,
          passphrase: cert.password?.reveal() ?? '',
          minVersion: TLS_VERSIONS[policy.minProtocolVersion],
          requestCert: cl.clientAuth !== undefined,
          rejectUnauthorized: false,
          ALPNProtocols: model.enableHttp2 ? ['h2', 'http/1.1'] : ['http/1.1'],
          // Application Gateway offers no session resumption (spec 4.6); the client's chain is then always known.
          secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
        };
        try {
          if (badCertificates.has(cert.name)) throw new Error('reported');
          tls.createSecureContext(tlsOptions);
          cl.server = model.enableHttp2
            ? http2.createSecureServer({ ...tlsOptions, allowHTTP1: true, settings: { maxHeaderListSize: 16384 } } as http2.SecureServerOptions)
            : https.createServer({ ...tlsOptions, maxHeaderSize: 32768, requireHostHeader: false, keepAliveTimeout: 75_000, headersTimeout: 60_000, requestTimeout: 0 } as https.ServerOptions);
        } catch (e) {
          if (badCertificates.has(cert.name)) continue;
          badCertificates.add(cert.name);
          bag.error(EDGE_CODES.GH_EDGE_SSL_CERTIFICATE, `sslCertificate '${cert.name}' (used by listener '${l.name}'): ${/mac verify|bad decrypt|password/i.test(messageOf(e)) ? 'the PFX password is wrong' : messageOf(e)}`, at(cert.path));
        }
      }
    }
    listeners.push(cl);
    listenersByName.set(l.name, cl);
  }
  if (bag.hasErrors) {
    for (const t of targets.values()) t.close();
    throw new DiagnosticsError(bag.items, `application gateway '${model.name}'`);
  }

  const byPort = new Map<number, CompiledListener[]>();
  for (const l of listeners) byPort.set(l.model.port, [...(byPort.get(l.model.port) ?? []), l]);
  const groups: PortGroup[] = [...byPort].map(([port, ls]) => ({
    declaredPort: port,
    protocol: ls[0]!.model.protocol,
    listeners: ls,
    defaultTlsListener: ls.find((l) => l.model.hostNames.length === 0 && l.server) ?? ls.find((l) => l.server),
  }));
  const clock = options.clock ?? systemClock;
  const ocsp = [...clientAuths.values()].some((a) => a.config.verifyClientRevocation === 'OCSP') ? new OcspChecker({ now: () => clock.now().getTime() }) : undefined;
  return { model, groups, targets: [...targets.values()], listenersByName, ocsp };
}

/**
 * Everything compileGateway would report (certificates, trusted chains, rewrite templates …), as
 * diagnostics, with nothing left running: for `gatehouse check` and for a reload's dry run.
 */
export function validateApplicationGateway(model: ApplicationGatewayModel, options: EdgeOptions = {}): readonly Diagnostic[] {
  try {
    const gw = compileGateway(model, options);
    for (const t of gw.targets) t.close();
    return [];
  } catch (e) {
    if (e instanceof DiagnosticsError) return e.diagnostics;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade', 'trailer', 'http2-settings']);
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((n) => n.length));
/** A hop-by-hop header name, in any case (a name of another length is not lower-cased to find out). */
const isHopByHop = (name: string): boolean => HOP_BY_HOP_LENGTHS.has(name.length) && HOP_BY_HOP.has(name.toLowerCase());
const VALID_REQUEST_HEADER_NAME = /^[A-Za-z0-9-]+$/;

export async function startApplicationGateway(model: ApplicationGatewayModel, options: EdgeOptions = {}): Promise<RunningEdge> {
  let gw = compileGateway(model, options);
  const bindAddress = options.bindAddress ?? '127.0.0.1';
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const sockets = new Set<net.Socket>();
  /** Connections whose ClientHello has not arrived yet: nothing in flight, closed at once by close(). */
  const awaitingHello = new Set<net.Socket>();
  const h2sessions = new Set<http2.Http2Session>();
  const servers: net.Server[] = [];
  const innerServers = new Set<http.Server | https.Server | http2.Http2SecureServer>();
  const tracePrefix = randomBytes(8).toString('hex');
  /** Backend request timeouts, one queue per requestTimeout (core/deadlines.ts). */
  const deadlineQueues = new Map<number, DeadlineQueue>();
  const deadlines = (ms: number): DeadlineQueue => {
    let q = deadlineQueues.get(ms);
    if (!q) deadlineQueues.set(ms, (q = new DeadlineQueue(ms)));
    return q;
  };
  let traceCounter = 0;
  const instanceId = `appgw_${process.pid}`;

  // --- per-request handling -------------------------------------------------------------------

  const sendPage = (res: http.ServerResponse | http2.Http2ServerResponse, page: Page, extra?: string[]) => {
    const date = clock.now().toUTCString();
    if (res instanceof http.ServerResponse) {
      const h = ['Server', SERVER_HEADER, 'Date', date, 'Content-Type', 'text/html', 'Content-Length', String(page.body.length), ...(extra ?? []), 'Connection', page.close ? 'close' : 'keep-alive'];
      res.writeHead(page.status, page.statusText, h);
      res.end(page.body);
    } else {
      const h: http2.OutgoingHttpHeaders = { server: SERVER_HEADER, date, 'content-type': 'text/html', 'content-length': page.body.length };
      for (let i = 0; extra && i + 1 < extra.length; i += 2) h[extra[i]!.toLowerCase()] = extra[i + 1]!;
      res.writeHead(page.status, h);
      res.end(page.body);
    }
  };

  /** Bad input never crashes the gateway: a bug in a request's handling answers 500 (or drops that one connection). */
  const handle = (group: PortGroup, req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    try {
      handleRequest(group, req, res);
    } catch (e) {
      logger?.log({ level: 'error', msg: `edge: request handling failed: ${messageOf(e)}`, stack: (e as Error)?.stack });
      if (!res.headersSent) sendPage(res, PAGES.internalError);
      else res.destroy?.();
    }
  };

  const handleRequest = (group: PortGroup, req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const started = performance.now();
    const isH2 = req.httpVersionMajor === 2;
    const conn: ConnectionInfo | undefined = isH2 ? ((req as http2.Http2ServerRequest).stream.session as unknown as Record<symbol, ConnectionInfo>)?.[kConn] : (req.socket as unknown as Record<symbol, ConnectionInfo>)[kConn];
    if (!conn) {
      res.destroy?.();
      return;
    }
    const raw = req.rawHeaders;
    // Request headers as the backend will get them: only names of letters, digits and hyphens
    // (Azure discards the others), no hop-by-hop headers, no Host (set below).
    const reqHeaders = new HeaderMap();
    let hostCount = 0;
    let hostValue: string | undefined;
    let connectionTokens: string[] | undefined;
    let h2cUpgrade = false;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const lower = name.toLowerCase();
      if (lower === 'host' || lower === ':authority') {
        if (lower === 'host') hostCount++;
        hostValue ??= raw[i + 1];
        continue;
      }
      if (lower === 'connection') (connectionTokens ??= []).push(...raw[i + 1]!.toLowerCase().split(',').map((s) => s.trim()));
      else if (lower === 'upgrade' && /\bh2c\b/i.test(raw[i + 1]!)) h2cUpgrade = true;
      if (HOP_BY_HOP.has(lower) || name.charCodeAt(0) === 58 /* ':' */ || !VALID_REQUEST_HEADER_NAME.test(name)) continue;
      // HTTP/2 clients may split Cookie into several fields; RFC 9113 8.2.3: one field joined with "; " for HTTP/1.1.
      if (isH2 && lower === 'cookie' && reqHeaders.has('cookie')) reqHeaders.set(name, `${reqHeaders.get('cookie')!}; ${raw[i + 1]!}`);
      else reqHeaders.appendLower(lower, name, raw[i + 1]!);
    }
    if (connectionTokens) for (const t of connectionTokens) if (t && t !== 'close' && t !== 'keep-alive' && t !== 'host') reqHeaders.delete(t);
    const method = req.method ?? 'GET';
    let requestUri = req.url ?? '/';
    if (requestUri.charCodeAt(0) !== 47 /* '/' */ && /^https?:\/\//i.test(requestUri)) {
      // absolute-form (RFC 9112 3.2.2): the host of the request line wins over the Host header, as in NGINX.
      const m = /^https?:\/\/([^/?#]*)([^#]*)/i.exec(requestUri)!;
      hostValue = m[1]!;
      requestUri = m[2] || '/';
      if (!requestUri.startsWith('/')) requestUri = '/' + requestUri;
    }
    const transactionId = tracePrefix + (++traceCounter).toString(16).padStart(16, '0');
    const record = logger
      ? new AccessRecord({ instanceId, clientIP: conn.remoteAddress, clientPort: conn.remotePort, httpMethod: method, requestUri, userAgent: reqHeaders.get('user-agent') ?? '', httpVersion: `HTTP/${req.httpVersion === '2.0' ? '2.0' : req.httpVersion}`, host: hostValue ?? '', transactionId })
      : undefined;
    const finishLog = (status: number, reason: GatewayReason | undefined, more?: AccessOutcome) => {
      if (!logger || !record) return;
      const tls = conn.tlsDetails();
      const peer = conn.tls ? conn.peerCertificate() : null;
      record.httpStatus = status;
      record.timeTaken = Math.round(performance.now() - started) / 1000;
      const counts = conn.takeByteCounts();
      record.receivedBytes = counts.receivedBytes;
      record.sentBytes = counts.sentBytes;
      record.sslEnabled = conn.tls ? 'on' : 'off';
      record.sslCipher = tls.cipher;
      record.sslProtocol = tls.protocol;
      record.sslClientCertificateFingerprint = peer?.fingerprint ?? '';
      record.sslClientCertificateIssuerName = peer?.issuer ?? '';
      record.settle(more);
      if (reason) record.reason = reason;
      record[kLineMemo] = conn.lineMemo ??= {};
      logger.log(record);
    };
    const answer = (page: Page, reason: GatewayReason, more?: AccessOutcome, extra?: string[]) => {
      sendPage(res, page, extra);
      finishLog(page.status, reason, more);
    };

    // "Application Gateway returns 403 errors when clients attempt to upgrade … using the h2c protocol" (spec 4.7).
    if (h2cUpgrade) return answer(PAGES.forbidden, 'h2c_upgrade');
    if (hostCount > 1 || (!hostValue && !isH2 && req.httpVersion === '1.1')) return answer(PAGES.badRequest, 'bad_request', { error_info: hostCount > 1 ? 'ERRORINFO_DUPLICATE_HOST' : 'ERRORINFO_NO_HOST' });
    const host = hostOf(hostValue);
    let listener: CompiledListener | undefined;
    for (const l of group.listeners) {
      if (l.matchHost(host)) {
        listener = l;
        break;
      }
    }
    if (!listener) return answer(PAGES.notFound, 'no_listener_for_host');
    if (record) {
      record.listenerName = listener.model.name;
      record.ruleName = listener.rule.name;
    }

    // mTLS (spec 1.2, 1.6): Strict answers 400 after the handshake; Passthrough forwards.
    let verification = '';
    let sslClientVerify = 'NONE';
    const auth = listener.clientAuth;
    if (auth) {
      const verdict = conn.verdict(auth, clock.now());
      if (auth.strict) {
        if (!verdict) return answer(PAGES.noClientCert, 'no_client_cert', { sslClientVerify: 'NONE' });
        if (!verdict.ok) return answer(PAGES.certError, verdict.reason, { sslClientVerify: verdict.sslClientVerify });
        if (auth.config.verifyClientRevocation === 'OCSP' && gw.ocsp) {
          // Once per connection and profile; the checker caches by certificate until nextUpdate.
          const known = conn.revocation?.get(auth);
          if (known === undefined || known instanceof Promise) {
            const peer = conn.peerCertificate()!;
            const pending: Promise<OcspResult> =
              known ?? (verdict.issuer ? gw.ocsp.check(peer.certificate, verdict.issuer) : Promise.resolve({ status: 'error', detail: 'issuer certificate not found' } as OcspResult));
            (conn.revocation ??= new Map()).set(auth, pending);
            void pending.then((r) => {
              conn.revocation!.set(auth, r);
              // A client that left while its certificate was being checked gets nothing forwarded.
              if (res instanceof http.ServerResponse ? res.destroyed || res.socket?.destroyed !== false : res.stream.destroyed) return;
              handle(group, req, res);
            });
            return;
          }
          if (known.status !== 'good') {
            return answer(PAGES.certError, known.status === 'revoked' ? 'client_cert_revoked' : 'client_cert_ocsp_failed', { sslClientVerify: `FAILED:${known.detail}` });
          }
        }
        verification = 'SUCCESS';
        sslClientVerify = 'SUCCESS';
      } else {
        verification = conn.peerCertificate() ? 'PASSTHROUGH' : 'NONE';
        sslClientVerify = verdict ? verdict.sslClientVerify : 'NONE';
      }
    }

    // Routing: path-based rules match the normalised path (normaliseRoutePath), case-insensitively, first match wins.
    const q = requestUri.indexOf('?');
    const uriPath = q >= 0 ? requestUri.slice(0, q) : requestUri;
    const queryString = q >= 0 ? requestUri.slice(q + 1) : '';
    const rule = listener.rule;
    let matched: { route: Route; prefix: string | undefined } | undefined = selectRoute(rule, uriPath);
    if (!matched) return answer(PAGES.notFound, 'no_listener_for_host', { sslClientVerify });

    // Headers Application Gateway adds (spec 5.6), before rewrites so that rewrites can change them.
    const scheme = conn.tls ? 'https' : 'http';
    const clientAddr = `${conn.remoteAddress}:${conn.remotePort}`;
    const xff = reqHeaders.getAll('x-forwarded-for')?.slice();
    reqHeaders.set('X-Forwarded-For', xff && xff.length ? `${xff.join(', ')}, ${clientAddr}` : clientAddr);
    reqHeaders.set('X-Forwarded-Proto', scheme);
    reqHeaders.set('X-Forwarded-Port', String(group.declaredPort));
    reqHeaders.set('X-Original-URL', requestUri);
    reqHeaders.set('X-AppGW-Trace-Id', transactionId);

    const ctx: RewriteContext = {
      conn,
      method,
      httpVersion: isH2 ? 'HTTP/2.0' : `HTTP/${req.httpVersion}`,
      scheme,
      host,
      requestUri,
      uriPath,
      queryString,
      reqHeaders,
      clientCertificateVerification: verification,
      receivedBytes: 0,
      clientXForwardedFor: xff && xff.length ? xff.join(', ') : undefined,
    };
    let path = uriPath;
    let query = queryString;
    const rewrite = matched.route.rewrite;
    if (rewrite) {
      let url;
      try {
        url = rewrite.applyRequest(ctx);
      } catch {
        return answer(PAGES.internalError, 'rewrite_error', { sslClientVerify });
      }
      if (url) {
        if (url.path !== undefined) path = url.path.startsWith('/') ? url.path : `/${url.path}`;
        if (url.query !== undefined) query = url.query;
        if (url.reroute && rule.pathRules.length) {
          const again = selectRoute(rule, path);
          if (!again) return answer(PAGES.notFound, 'no_listener_for_host', { sslClientVerify });
          matched = again;
        }
      }
    }
    // X-Original-Host cannot be rewritten: the gateway creates it (spec 3.8).
    reqHeaders.set('X-Original-Host', hostValue ?? '');
    // Nor can the body's framing: Transfer-Encoding is hop-by-hop (the client of the next hop sets
    // it for a streamed body), and Content-Length is the client's. A rewrite setting either would
    // make the backend read the body differently from how it is sent (request smuggling).
    reqHeaders.delete('transfer-encoding');
    const clientLength = req.headers['content-length'];
    if (clientLength !== undefined) reqHeaders.set('Content-Length', clientLength);
    else reqHeaders.delete('content-length');
    const finalUri = query ? `${path}?${query}` : path;
    if (record) {
      record.requestUri = finalUri;
      record.sslClientVerify = sslClientVerify;
    }

    const r = matched.route;
    if (r.kind === 'redirect') {
      const location = redirectLocation(r.redirect, gw.listenersByName, host, path, query, scheme);
      const status = { Permanent: 301, Found: 302, SeeOther: 303, Temporary: 307 }[r.redirect.redirectType];
      const text = ({ 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect' } as Record<number, string>)[status] ?? 'Found';
      const page: Page = { status, statusText: text, body: Buffer.alloc(0), close: false };
      return answer(page, 'redirect', { sslClientVerify }, ['Location', location]);
    }

    const target = r.target;
    const affinityCookie = target.affinityCookie;
    const sticky = affinityCookie ? target.byAffinity(reqHeaders.get('cookie')) : undefined;
    const member = sticky ?? target.pick();
    if (!member) return answer(PAGES.badGateway, 'backend_unhealthy', { sslClientVerify, backendPoolName: target.pool.name, backendSettingName: target.settings.name });
    // A path override replaces the matched prefix of the path the rule matched: the normalised one.
    const overridden = target.settings.path && matched.prefix !== undefined ? normaliseRoutePath(path) : path;
    const backendPath = applyPathOverride(target.settings.path, overridden, matched.prefix) + (query ? `?${query}` : '');
    const hostHeader = target.hostHeader(member, hostValue ?? host);
    const outHeaders = ['Host', hostHeader, ...reqHeaders.toRaw()];
    // WebSocket (always enabled on Application Gateway): the upgrade goes to the backend as asked.
    const wsUpgrade = (req as unknown as Record<symbol, boolean | undefined>)[kWebSocket] === true;
    if (wsUpgrade) outHeaders.push('Connection', 'Upgrade', 'Upgrade', String(req.headers.upgrade));
    const hasBody = !isH2
      ? (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined
      : !(req as http2.Http2ServerRequest).stream.endAfterHeaders;
    if (record) {
      record.backendPoolName = target.pool.name;
      record.backendSettingName = target.settings.name;
    }
    forward(req, res, target, member, hostHeader, method, backendPath, outHeaders, hasBody, rewrite, ctx, affinityCookie !== undefined && sticky === undefined, finishLog);
  };

  const forward = (
    req: Readable,
    res: http.ServerResponse | http2.Http2ServerResponse,
    target: BackendTarget,
    first: BackendMember,
    hostHeader: string,
    method: string,
    path: string,
    headers: string[],
    hasBody: boolean,
    rewrite: CompiledRewriteSet | undefined,
    ctx: RewriteContext,
    setAffinity: boolean,
    done: (status: number, reason: GatewayReason | undefined, more: AccessOutcome) => void,
  ): void => {
    const timeoutMs = target.settings.requestTimeout * 1000;
    let attempt = 0;
    let clientGone = false;
    const sentAt = performance.now();
    let abortCurrent: (() => void) | undefined;
    /** v2: one more try on another member; then 504 (spec 5.5). Only bodiless requests are replayable. */
    const retryOrTimeout = (member: BackendMember) => {
      const next = !hasBody && attempt === 1 ? target.pick(member) : undefined;
      if (next && !clientGone) {
        // Called from a timer, outside handle()'s try: a request Node refuses to build must not end the process.
        try {
          send(next);
        } catch (e) {
          if (!res.headersSent) {
            sendPage(res, PAGES.badGateway);
            done(502, 'backend_error', { serverRouted: `${next.address}:${next.port}`, error_info: messageOf(e) });
          }
        }
      } else if (!res.headersSent) {
        sendPage(res, PAGES.gatewayTimeout);
        done(504, 'backend_timeout', { serverRouted: `${member.address}:${member.port}` });
      }
    };
    const send = (member: BackendMember) => {
      const upgrade = (req as unknown as Record<symbol, boolean | undefined>)[kWebSocket] === true;
      // A service in this process (gatehouse up --backend-hop in-process): hand the request over.
      const handler = upgrade ? undefined : target.inProcessFor(member, hostHeader);
      if (handler) return sendInProcess(member, handler);
      if (!upgrade) return sendPooled(member);
      attempt++;
      const opts = target.requestOptions(member, hostHeader, method, path, headers);
      const upstream = (target.secure ? https : http).request(opts);
      abortCurrent = () => upstream.destroy();
      let responded = false;
      const timer = setTimeout(() => {
        if (responded) return;
        upstream.destroy(new Error('backend timeout'));
        retryOrTimeout(member);
      }, timeoutMs);
      upstream.on('error', (e) => {
        clearTimeout(timer);
        if (responded || e.message === 'backend timeout') {
          if (responded) res.destroy?.();
          return;
        }
        if (!res.headersSent && !clientGone) {
          sendPage(res, PAGES.badGateway);
          done(502, 'backend_error', { serverRouted: `${member.address}:${member.port}`, error_info: messageOf(e) });
        }
      });
      upstream.on('upgrade', (up, upSocket, upHead) => {
        responded = true;
        clearTimeout(timer);
        const client = (res as http.ServerResponse).socket;
        if (!client || clientGone) {
          upSocket.destroy();
          return;
        }
        let head = `HTTP/1.1 ${up.statusCode ?? 101} ${up.statusMessage ?? 'Switching Protocols'}\r\n`;
        for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) head += `${up.rawHeaders[i]}: ${up.rawHeaders[i + 1]}\r\n`;
        (res as http.ServerResponse).detachSocket(client);
        client.write(head + '\r\n');
        if (upHead.length) client.write(upHead);
        const clientHead = (res as unknown as { [kUpgradeHead]?: Buffer })[kUpgradeHead];
        if (clientHead?.length) upSocket.write(clientHead);
        upSocket.pipe(client);
        client.pipe(upSocket);
        const end = () => {
          upSocket.destroy();
          client.destroy();
        };
        upSocket.on('error', end);
        client.on('error', end);
        upSocket.on('close', end);
        client.on('close', end);
        done(up.statusCode ?? 101, undefined, { serverRouted: `${member.address}:${member.port}`, serverStatus: String(up.statusCode ?? 101) });
      });
      upstream.on('response', (up) => {
        responded = true;
        clearTimeout(timer);
        try {
          respond(up, member);
        } catch (e) {
          up.destroy();
          notRelayed(member, e);
        }
      });
      if (hasBody && attempt === 1) req.pipe(upstream);
      else upstream.end();
    };
    /**
     * A request over the target's keep-alive pool (./upstream.ts): the same timeout, retry, errors,
     * headers and log fields as the node:http path that WebSocket upgrades keep.
     */
    const sendPooled = (member: BackendMember) => {
      attempt++;
      const withBody = hasBody && attempt === 1;
      let settled = false;
      // Armed once the request is under way (request() throws for a head it refuses to write).
      let timer: Deadline | undefined;
      const call = target.upstream.request(
        target.connectTarget(member, hostHeader),
        { method, path, rawHeaders: hopRequestHeaders(method, headers, withBody), body: withBody ? req : undefined },
        {
          onHead: (h) => {
            settled = true;
            timer?.cancel();
            if (clientGone) {
              call.abort();
              return;
            }
            try {
              respondHead(h.statusCode, h.statusMessage, h.rawHeaders, member);
            } catch (e) {
              call.abort();
              notRelayed(member, e);
            }
          },
          onBody: (chunk, last) => {
            if (clientGone || res.destroyed) return;
            if (last) {
              // The answer's last bytes go out with the other answers of this turn (core/turn.ts).
              atEndOfTurn(() => {
                if (chunk) (res as http.ServerResponse).end(chunk);
                else res.end();
              });
              return;
            }
            // A client slower than the backend: stop reading the backend until the client catches up.
            if ((res as http.ServerResponse).write(chunk!)) return;
            res.once('drain', () => call.resume());
            return false;
          },
          onError: (e, afterHead) => {
            timer?.cancel();
            if (afterHead) {
              // The answer broke off after its head went out: the client must not take it as complete.
              res.destroy?.();
              return;
            }
            if (settled) return;
            settled = true;
            if (!res.headersSent && !clientGone) {
              sendPage(res, PAGES.badGateway);
              done(502, 'backend_error', { serverRouted: `${member.address}:${member.port}`, error_info: messageOf(e) });
            }
          },
        },
      );
      abortCurrent = () => call.abort();
      timer = deadlines(timeoutMs).add(() => {
        if (settled) return;
        settled = true;
        call.abort();
        retryOrTimeout(member);
      });
    };
    /** The in-process twin of send(): the same timeout, retry, errors, headers and log fields. */
    const sendInProcess = (member: BackendMember, handler: InProcessHandler) => {
      attempt++;
      const withBody = hasBody && attempt === 1;
      let settled = false;
      const timer = deadlines(timeoutMs).add(() => {
        if (settled) return;
        settled = true;
        retryOrTimeout(member);
      });
      handler
        .handle({ method, target: path, rawHeaders: hopRequestHeaders(method, headers, withBody), body: withBody ? req : undefined, remoteAddress: member.localAddress ?? '127.0.0.1', remotePort: 0 })
        .then(
          (a) => {
            if (settled) return;
            settled = true;
            timer.cancel();
            if (clientGone) return;
            try {
              respondHead(a.statusCode, a.statusMessage, a.rawHeaders, member);
            } catch (e) {
              notRelayed(member, e);
              return;
            }
            atEndOfTurn(() => {
              if (a.body && a.body.length) (res as http.ServerResponse).end(a.body);
              else res.end();
            });
          },
          (e: unknown) => {
            if (settled) return;
            settled = true;
            timer.cancel();
            if (!res.headersSent && !clientGone) {
              sendPage(res, PAGES.badGateway);
              done(502, 'backend_error', { serverRouted: `${member.address}:${member.port}`, error_info: messageOf(e) });
            }
          },
        );
    };
    /** A backend answer Node cannot relay (an invalid header for HTTP/2, say): 502, never a crash. */
    const notRelayed = (member: BackendMember, e: unknown) => {
      logger?.log({ level: 'warn', msg: `edge: backend response not relayed: ${messageOf(e)}` });
      if (!res.headersSent) {
        sendPage(res, PAGES.badGateway);
        done(502, 'backend_error', { serverRouted: `${member.address}:${member.port}`, error_info: messageOf(e) });
      } else res.destroy?.();
    };
    const respond = (up: http.IncomingMessage, member: BackendMember) => {
      respondHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders, member);
      up.pipe(res as NodeJS.WritableStream);
      up.on('error', () => res.destroy?.());
    };
    /** Status and headers of a backend answer towards the client (rewrites, affinity); registers the log on finish. */
    const respondHead = (statusIn: number, statusMessage: string | undefined, rawRes: readonly string[], member: BackendMember) => {
      {
        const status = statusIn;
        let out: string[];
        if (rewrite?.hasResponseActions) {
          const h = new HeaderMap();
          for (let i = 0; i + 1 < rawRes.length; i += 2) if (!isHopByHop(rawRes[i]!)) h.append(rawRes[i]!, rawRes[i + 1]!);
          ctx.resHeaders = h;
          ctx.status = status;
          rewrite.applyResponse(ctx);
          out = h.toRaw();
        } else {
          out = [];
          for (let i = 0; i + 1 < rawRes.length; i += 2) if (!isHopByHop(rawRes[i]!)) out.push(rawRes[i]!, rawRes[i + 1]!);
        }
        if (setAffinity) {
          // ApplicationGatewayAffinity, and its CORS twin for cross-site requests (spec 5.2).
          const name = target.affinityCookie!;
          out.push('Set-Cookie', `${name}=${member.affinity}; Path=/`, 'Set-Cookie', `${name}CORS=${member.affinity}; Path=/; SameSite=None; Secure`);
        }
        if (res instanceof http.ServerResponse) res.writeHead(status, statusMessage, out);
        else {
          const h: http2.OutgoingHttpHeaders = {};
          for (let i = 0; i + 1 < out.length; i += 2) {
            const n = out[i]!.toLowerCase();
            const prev = h[n];
            h[n] = prev === undefined ? out[i + 1]! : Array.isArray(prev) ? [...prev, out[i + 1]!] : [String(prev), out[i + 1]!];
          }
          res.writeHead(status, h);
        }
        const latency = Math.round(performance.now() - sentAt) / 1000;
        res.on('finish', () => done(status, undefined, { serverRouted: `${member.address}:${member.port}`, serverStatus: String(status), serverResponseLatency: latency }));
      }
    };
    res.on('close', () => {
      clientGone = true;
      // The client left before the answer was complete: free the backend connection too.
      if (!res.writableFinished) abortCurrent?.();
    });
    send(first);
  };

  // --- connections ----------------------------------------------------------------------------

  /**
   * The HTTP servers never listen (connections are handed to them), and Node starts its connection
   * tracking on 'listening': without it headersTimeout is not enforced and closeIdleConnections()
   * does nothing. Their close() (which sends nothing) stops it again.
   */
  const trackConnections = (s: http.Server | https.Server) => s.emit('listening');
  const untrack = (s: http.Server | https.Server | http2.Http2SecureServer) => {
    if (s instanceof http.Server || s instanceof https.Server) s.close(() => undefined);
  };

  const plainHttpServer = (group: PortGroup, toHttpsPort: boolean): http.Server => {
    const s = http.createServer({ maxHeaderSize: 32768, requireHostHeader: false, keepAliveTimeout: 75_000, headersTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
      if (toHttpsPort) {
        req.resume();
        sendPage(res, PAGES.plainHttpToHttps);
        const conn = (req.socket as unknown as Record<symbol, ConnectionInfo>)[kConn];
        if (logger) logger.log({ level: 'info', msg: 'access', category: 'ApplicationGatewayAccessLog', instanceId, clientIP: conn?.remoteAddress, httpMethod: req.method, requestUri: req.url, httpStatus: 400, reason: 'plain_http_to_https_port' });
        return;
      }
      handle(group, req, res);
    });
    s.on('clientError', (err, socket) => onClientError(err, socket as net.Socket));
    trackConnections(s);
    if (!toHttpsPort) s.on('upgrade', (req, socket, head) => onUpgrade(group, req, socket as net.Socket, head));
    innerServers.add(s);
    return s;
  };

  const onClientError = (err: Error & { code?: string }, socket: net.Socket | tls.TLSSocket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // RFC 9112: a request we cannot parse safely (whitespace before the colon, obs-fold, CL+TE …) gets 400 and the connection closes.
    const [page, reason]: [Page, GatewayReason] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [PAGES.headerTooLarge, 'header_too_large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [PAGES.requestTimeout, 'request_timeout'] : [PAGES.badRequest, 'bad_request'];
    socket.end(rawPageResponse(page, clock.now()));
    if (logger) logger.log({ level: 'info', msg: 'access', category: 'ApplicationGatewayAccessLog', instanceId, clientIP: socket.remoteAddress, httpStatus: page.status, reason, error_info: err.code ?? err.message });
  };

  /**
   * An HTTP/1.1 request with `Connection: Upgrade`. WebSocket upgrades run through the normal
   * request path (listener, mTLS, rewrites, routing) with a response bound to the socket; a 101
   * from the backend turns the connection into a tunnel. Other upgrades are handled as plain requests
   * (h2c gets 403 there).
   */
  const onUpgrade = (group: PortGroup, req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.shouldKeepAlive = false;
    (res as unknown as { [kUpgradeHead]?: Buffer })[kUpgradeHead] = head;
    res.on('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    if (websocketUpgrade(req.headers.upgrade)) (req as unknown as Record<symbol, boolean>)[kWebSocket] = true;
    handle(group, req, res);
  };

  // Client certificates by DER for this gateway's lifetime (bounded): parsed and described once per certificate.
  const peerCerts = new PeerCertificateCache();
  const setupTlsServer = (group: PortGroup, l: CompiledListener) => {
    const s = l.server!;
    innerServers.add(s);
    // Before the HTTP server's own listener, so that the session/request can find it.
    s.prependListener('secureConnection', (tlsSocket: tls.TLSSocket) => {
      // No TLS 1.2 renegotiation: the client certificate of a connection is checked and cached once,
      // and a client-initiated renegotiation is a known CPU cost for the server (as NGINX refuses it).
      tlsSocket.disableRenegotiation();
      const rawSocket = (tlsSocket as unknown as { _parent?: net.Socket })._parent ?? tlsSocket;
      (tlsSocket as unknown as Record<symbol, ConnectionInfo>)[kConn] = new ConnectionInfo(rawSocket, group.declaredPort, tlsSocket, l.model.name, peerCerts);
    });
    s.on('tlsClientError', (_e: Error, socket: tls.TLSSocket) => socket.destroy());
    if (s instanceof https.Server) {
      trackConnections(s);
      s.on('request', (req, res) => handle(group, req, res));
      s.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => onUpgrade(group, req, socket, head));
      s.on('clientError', (err, socket) => onClientError(err, socket as net.Socket));
    } else {
      s.on('session', (session: http2.ServerHttp2Session) => {
        h2sessions.add(session);
        session.on('close', () => h2sessions.delete(session));
        const tlsSocket = session.socket as unknown as Record<symbol, ConnectionInfo>;
        (session as unknown as Record<symbol, ConnectionInfo | undefined>)[kConn] = tlsSocket[kConn];
      });
      s.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
        if (req.httpVersionMajor === 2) handle(group, req, res);
        else handle(group, req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
      });
      // HTTP/1.1 on an h2-enabled listener: the http2 server parses it with Node's HTTP/1 parser.
      (s as unknown as http.Server).on('clientError', (err: Error, socket: net.Socket) => onClientError(err, socket));
    }
  };

  const onRawConnection = (group: PortGroup, socket: net.Socket, plain: http.Server) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (group.protocol === 'Http') {
      (socket as unknown as Record<symbol, ConnectionInfo>)[kConn] = new ConnectionInfo(socket, group.declaredPort);
      plain.emit('connection', socket);
      return;
    }
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), 10_000);
    awaitingHello.add(socket);
    // A client that leaves before its ClientHello is complete must not leave the timer behind.
    socket.once('close', () => {
      clearTimeout(timer);
      awaitingHello.delete(socket);
    });
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const hello = parseClientHello(buf);
      if (hello.kind === 'need-more') return;
      clearTimeout(timer);
      awaitingHello.delete(socket);
      socket.removeListener('data', onData);
      if (hello.kind === 'not-tls') {
        // The HTTP server reads the socket's handle directly, so the bytes read already are
        // handed to its parser as a 'data' event rather than unshifted.
        (socket as unknown as Record<symbol, ConnectionInfo>)[kConn] = new ConnectionInfo(socket, group.declaredPort);
        plain.emit('connection', socket);
        socket.emit('data', buf);
        return;
      }
      socket.pause();
      socket.unshift(buf);
      if (hello.kind === 'malformed') {
        socket.destroy();
        return;
      }
      let chosen: CompiledListener | undefined;
      const sni = hello.serverName;
      if (sni) {
        for (const l of group.listeners) {
          if (l.server && l.model.hostNames.length && l.matchHost(sni)) {
            chosen = l;
            break;
          }
        }
      }
      chosen ??= group.defaultTlsListener;
      if (!chosen?.server) {
        socket.destroy();
        return;
      }
      chosen.server.emit('connection', socket);
    };
    socket.on('data', onData);
  };

  // --- start ----------------------------------------------------------------------------------

  // One net.Server per declared frontend port; what it hands connections to is looked up at
  // connection time, so that reload() can swap the compiled configuration underneath it.
  interface Bound {
    readonly server: net.Server;
    state: { group: PortGroup; plain: http.Server };
  }
  const bound = new Map<number, Bound>();
  let running: RunningListener[] = [];

  const activate = (g: CompiledGateway): Map<number, { group: PortGroup; plain: http.Server }> => {
    const states = new Map<number, { group: PortGroup; plain: http.Server }>();
    for (const group of g.groups) {
      const plain = plainHttpServer(group, group.protocol === 'Https');
      for (const l of group.listeners) if (l.server) setupTlsServer(group, l);
      states.set(group.declaredPort, { group, plain });
    }
    return states;
  };

  const bindPort = async (declaredPort: number, state: { group: PortGroup; plain: http.Server }): Promise<Bound> => {
    const b: Bound = {
      server: net.createServer({ noDelay: true }, (socket) => {
        // Connections that arrive before the first probes are done wait for them: an instance takes
        // traffic once it knows which backends are healthy (a worker started beside running ones
        // would otherwise answer its first requests with 502 backend_unhealthy).
        if (firstProbes) void firstProbes.then(() => (startFailed ? socket.destroy() : socket.destroyed ? undefined : onRawConnection(b.state.group, socket, b.state.plain)));
        else onRawConnection(b.state.group, socket, b.state.plain);
      }),
      state,
    };
    servers.push(b.server);
    const localPort = options.portMap?.get(declaredPort) ?? declaredPort;
    await new Promise<void>((resolve, reject) => {
      b.server.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') reject(new GatehouseError('GH_PORT_IN_USE', `port ${localPort} on ${bindAddress} (frontend port ${declaredPort}) is in use; map it elsewhere with --port-map ${declaredPort}=PORT`, { cause: e }));
        else if (e.code === 'EACCES') reject(new GatehouseError('GH_PORT_PRIVILEGED', `port ${localPort} on ${bindAddress} needs privileges; map it with --port-map ${declaredPort}=PORT`, { cause: e }));
        else reject(new GatehouseError(EDGE_CODES.GH_EDGE_BIND, `cannot listen on ${bindAddress}:${localPort}: ${e.message}`, { cause: e }));
      });
      b.server.listen(localPort, bindAddress, () => resolve());
    });
    return b;
  };

  const describeListeners = (): RunningListener[] => {
    const out: RunningListener[] = [];
    for (const [port, b] of bound) {
      const addr = b.server.address() as net.AddressInfo;
      for (const l of b.state.group.listeners) {
        const scheme = l.model.protocol === 'Https' ? 'https' : 'http';
        const h = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
        out.push({ name: l.model.name, protocol: l.model.protocol, hostNames: l.model.hostNames, declaredPort: port, url: `${scheme}://${h}:${addr.port}/`, localAddress: addr.address, localPort: addr.port, mtls: l.clientAuth !== undefined });
      }
    }
    return out;
  };

  /** The HTTP(S) servers a configuration's connections are handed to (its TLS servers and plain servers). */
  const innerServersOf = (g: CompiledGateway, states: Iterable<{ plain: http.Server }>) => [...g.groups.flatMap((gr) => gr.listeners.flatMap((l) => (l.server ? [l.server] : []))), ...[...states].map((st) => st.plain)];

  const closeServer = (srv: net.Server) => new Promise<void>((r) => (srv.listening ? srv.close(() => r()) : r()));

  let firstProbes: Promise<unknown> | undefined;
  let startFailed = false;
  try {
    const states = activate(gw);
    firstProbes = Promise.all(gw.targets.map((t) => t.start()));
    const binds = [...states].map(async ([port, state]) => bound.set(port, await bindPort(port, state)));
    await Promise.all([...binds, firstProbes]);
    firstProbes = undefined;
    running = describeListeners();
  } catch (e) {
    startFailed = true;
    firstProbes = undefined;
    for (const t of gw.targets) t.close();
    await Promise.all(servers.map(closeServer));
    throw e;
  }

  let closing: Promise<void> | undefined;
  let reloading: Promise<void> = Promise.resolve();
  return {
    get listeners() {
      return running;
    },
    health: () => gw.targets.flatMap((t) => t.members.map((m) => ({ pool: t.pool.name, settings: t.settings.name, address: m.address, port: m.port, healthy: m.healthy }))),
    reload(next: ApplicationGatewayModel): Promise<void> {
      const run = async () => {
        if (closing) throw new GatehouseError(EDGE_CODES.GH_EDGE_RELOAD, 'the gateway is closing');
        // Compile and probe first: a configuration that fails leaves the running one untouched.
        const fresh = compileGateway(next, options);
        const newBound: [number, Bound][] = [];
        let states: Map<number, { group: PortGroup; plain: http.Server }> | undefined;
        try {
          await Promise.all(fresh.targets.map((t) => t.start()));
          states = activate(fresh);
          for (const [port, state] of states) if (!bound.has(port)) newBound.push([port, await bindPort(port, state)]);
          const old = gw;
          const oldInner = innerServersOf(old, [...bound.values()].map((b) => b.state));
          gw = fresh;
          for (const [port, state] of states) {
            const b = bound.get(port);
            if (b) b.state = state;
          }
          for (const [port, b] of newBound) bound.set(port, b);
          for (const [port, b] of [...bound]) {
            if (!states.has(port)) {
              bound.delete(port);
              void closeServer(b.server);
            }
          }
          running = describeListeners();
          // Connections made under the old configuration finish on it; its probes stop now and its
          // backend connections are closed once they have had time to drain.
          for (const t of old.targets) t.stopProbes();
          // Its servers are forgotten then too (each reload would otherwise keep them, and their PFX, for good).
          const drain = setTimeout(() => {
            old.targets.forEach((t) => t.close());
            for (const s of oldInner) {
              innerServers.delete(s);
              untrack(s);
            }
          }, options.drainTimeoutMs ?? 5000);
          drain.unref();
        } catch (e) {
          for (const t of fresh.targets) t.close();
          if (states) {
            for (const s of innerServersOf(fresh, states.values())) {
              innerServers.delete(s);
              untrack(s);
            }
          }
          await Promise.all(newBound.map(([, b]) => closeServer(b.server)));
          throw e;
        }
      };
      const p = reloading.then(run, run);
      reloading = p.catch(() => undefined);
      return p;
    },
    close() {
      closing ??= (async () => {
        await reloading;
        for (const t of gw.targets) t.stopProbes();
        const closed = Promise.all(servers.map(closeServer));
        for (const s of awaitingHello) s.destroy();
        for (const s of innerServers) (s as http.Server).closeIdleConnections?.();
        for (const s of h2sessions) s.close();
        const deadline = Date.now() + (options.drainTimeoutMs ?? 5000);
        while (sockets.size > 0 && Date.now() < deadline) {
          for (const s of innerServers) (s as http.Server).closeIdleConnections?.();
          await new Promise((r) => setTimeout(r, 20));
        }
        for (const s of sockets) s.destroy();
        for (const s of innerServers) untrack(s);
        for (const t of gw.targets) t.close();
        await closed;
      })();
      return closing;
    },
  };
}

const kUpgradeHead = Symbol('gatehouse.edge.upgradeHead');
const kWebSocket = Symbol('gatehouse.edge.webSocket');

/** Methods Node's ClientRequest sends without chunked framing by default (useChunkedEncodingByDefault false). */
const NO_DEFAULT_BODY = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/**
 * The request headers as Node's http client (keep-alive agent) writes them on the HTTPS hop, for
 * an in-process hand-off to see the same: `Connection: keep-alive` when none was set, then
 * `Transfer-Encoding: chunked` for a streamed body without Content-Length, or `Content-Length: 0`
 * for a bodiless POST/PUT/PATCH.
 */
function hopRequestHeaders(method: string, headers: readonly string[], bodyFollows: boolean): string[] {
  let connection = false;
  let framed = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    // Only names of these lengths can match: no lower-cased copy of every other name.
    const len = headers[i]!.length;
    if (len !== 10 && len !== 14 && len !== 17) continue;
    const n = headers[i]!.toLowerCase();
    if (n === 'connection') connection = true;
    else if (n === 'content-length' || n === 'transfer-encoding') framed = true;
  }
  const out = headers.slice();
  if (!connection) out.push('Connection', 'keep-alive');
  if (!framed && (bodyFollows || !NO_DEFAULT_BODY.has(method))) out.push(...(bodyFollows ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', '0']));
  return out;
}

function websocketUpgrade(value: string | undefined): boolean {
  return value !== undefined && /^\s*websocket\s*$/i.test(value);
}

/**
 * The path as path rules see it (RFC 3986 6.2.2): percent-encoded unreserved characters decoded,
 * runs of '/' merged, '.' and '..' segments removed. Encoded reserved characters ('%2F' …) stay
 * encoded, so an encoded slash is not a separator. Without this, '/%61pi/x', '/x/../api/x' or
 * '//api/x' would step around a '/api/*' rule and its rewrite set.
 */
export function normaliseRoutePath(path: string): string {
  let p = path;
  if (p.includes('%')) {
    p = p.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      return /[A-Za-z0-9\-._~]/.test(c) ? c : m.toUpperCase();
    });
  }
  if (p.includes('//')) p = p.replace(/\/{2,}/g, '/');
  if (!p.includes('.')) return p;
  const segments = p.split('/');
  const out: string[] = [];
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..' && out.length > 1) out.pop();
      if (last) out.push('');
    } else out.push(seg);
  });
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

function selectRoute(rule: CompiledRoutingRule, path: string): { route: Route; prefix: string | undefined } | undefined {
  if (rule.basic) return { route: rule.basic, prefix: undefined };
  const lower = normaliseRoutePath(path).toLowerCase();
  for (const pr of rule.pathRules) {
    for (const p of pr.patterns) {
      if (p.wildcard ? lower.startsWith(p.prefix) : lower === p.prefix) return { route: pr.route, prefix: p.prefix };
    }
  }
  return rule.pathDefault ? { route: rule.pathDefault, prefix: undefined } : undefined;
}

/** backendHttpSettings.path (spec 5.2 table): the matched prefix (or the leading '/') is replaced. */
function applyPathOverride(override: string | undefined, path: string, prefix: string | undefined): string {
  if (override === undefined || override === '') return path;
  let rest = prefix !== undefined ? path.slice(prefix.length) : path;
  if (rest.startsWith('/')) rest = rest.slice(1);
  return (override.endsWith('/') ? override : `${override}/`) + rest;
}

function redirectLocation(r: RedirectConfiguration, listeners: ReadonlyMap<string, CompiledListener>, host: string, path: string, query: string, scheme: string): string {
  if (r.targetUrl !== undefined) {
    let url = r.targetUrl;
    if (r.includeQueryString && query) url += (url.includes('?') ? '&' : '?') + query;
    return url;
  }
  const target = r.targetListener ? listeners.get(r.targetListener)?.model : undefined;
  const s = target ? (target.protocol === 'Https' ? 'https' : 'http') : scheme;
  const h = target && target.hostNames.length === 1 && !/[*?]/.test(target.hostNames[0]!) ? target.hostNames[0]! : host;
  const port = target?.port;
  const portPart = port && !((s === 'https' && port === 443) || (s === 'http' && port === 80)) ? `:${port}` : '';
  return `${s}://${h}${portPart}${r.includePath ? path : '/'}${r.includeQueryString && query ? `?${query}` : ''}`;
}
