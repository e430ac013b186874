/**
 * Rewrite rule sets, compiled once: conditions become (getter, RegExp, negate), header values
 * and URL templates become lists of literal parts and getters. Per request only these run.
 * Semantics: spec section 3 (ruleSequence order, AND of conditions, unanchored RE2-style match,
 * `{var_x}`, `{http_req_X}`, `{http_resp_X}`, `_N` capture groups, empty value deletes).
 */
import type { HeaderMap } from '../core/headers.js';
import type { RewriteRuleSet } from '../model/applicationGateway.js';
import type { ConnectionInfo } from './connection.js';

/** Everything a server variable can be computed from, for one request. */
export interface RewriteContext {
  readonly conn: ConnectionInfo;
  readonly method: string;
  /** 'HTTP/1.1', 'HTTP/2.0'. */
  readonly httpVersion: string;
  readonly scheme: 'http' | 'https';
  /** The request host without port (NGINX $host). */
  readonly host: string;
  /** The original request URI with arguments. */
  readonly requestUri: string;
  /** The original path, without arguments. */
  readonly uriPath: string;
  /** After '?', without it; '' when none. */
  readonly queryString: string;
  /** Request headers as they will be sent to the backend (rewrites change them). */
  readonly reqHeaders: HeaderMap;
  /** SUCCESS | PASSTHROUGH | NONE | '' (spec 2.1, PR #128589). */
  readonly clientCertificateVerification: string;
  readonly receivedBytes: number;
  /** X-Forwarded-For as the client sent it (before the gateway appended to it). */
  readonly clientXForwardedFor: string | undefined;
  resHeaders?: HeaderMap;
  status?: number;
  sentBytes?: number;
}

export type Getter = (ctx: RewriteContext) => string;

/**
 * The client certificate as the mutual-authentication variables see it: only on a listener with
 * client authentication (an ssl profile). A connection whose handshake was made for an mTLS host
 * may carry a certificate while Host routes it to a listener that verified nothing; there the
 * variables are empty, so a rewrite cannot forward an unverified certificate.
 */
const peer = (ctx: RewriteContext) => (ctx.clientCertificateVerification === '' ? undefined : ctx.conn.peerCertificate());

/** The server variables of spec 3.7 and 2.1. */
const SERVER_VARIABLES: Record<string, Getter> = {
  add_x_forwarded_for_proxy: (ctx) => (ctx.clientXForwardedFor ? `${ctx.clientXForwardedFor}, ${ctx.conn.remoteAddress}` : ctx.conn.remoteAddress),
  ciphers_supported: () => '',
  ciphers_used: (ctx) => ctx.conn.tlsDetails().cipher,
  client_ip: (ctx) => ctx.conn.remoteAddress,
  client_port: (ctx) => String(ctx.conn.remotePort),
  client_tcp_rtt: () => '',
  client_user: (ctx) => {
    const a = ctx.reqHeaders.get('authorization');
    if (!a || !/^basic /i.test(a)) return '';
    const dec = Buffer.from(a.slice(6).trim(), 'base64').toString('utf8');
    const i = dec.indexOf(':');
    return i >= 0 ? dec.slice(0, i) : '';
  },
  host: (ctx) => ctx.host,
  http_method: (ctx) => ctx.method,
  http_status: (ctx) => (ctx.status === undefined ? '' : String(ctx.status)),
  http_version: (ctx) => ctx.httpVersion,
  query_string: (ctx) => ctx.queryString,
  received_bytes: (ctx) => String(ctx.receivedBytes),
  request_query: (ctx) => ctx.queryString,
  request_scheme: (ctx) => ctx.scheme,
  request_uri: (ctx) => ctx.requestUri,
  sent_bytes: (ctx) => String(ctx.sentBytes ?? 0),
  server_port: (ctx) => String(ctx.conn.declaredPort),
  ssl_connection_protocol: (ctx) => ctx.conn.tlsDetails().protocol,
  ssl_enabled: (ctx) => (ctx.conn.tls ? 'on' : ''),
  uri_path: (ctx) => ctx.uriPath,
  client_certificate: (ctx) => peer(ctx)?.escapedPem ?? '',
  client_certificate_end_date: (ctx) => peer(ctx)?.endDate ?? '',
  client_certificate_fingerprint: (ctx) => peer(ctx)?.fingerprint ?? '',
  client_certificate_issuer: (ctx) => peer(ctx)?.issuer ?? '',
  client_certificate_serial: (ctx) => peer(ctx)?.serial ?? '',
  client_certificate_start_date: (ctx) => peer(ctx)?.startDate ?? '',
  client_certificate_subject: (ctx) => peer(ctx)?.subject ?? '',
  client_certificate_verification: (ctx) => ctx.clientCertificateVerification,
};

export const SERVER_VARIABLE_NAMES: readonly string[] = Object.keys(SERVER_VARIABLES);

/** A getter for `var_x`, `http_req_X` or `http_resp_X`; undefined when the name is not one. */
export function compileVariable(variable: string): Getter | undefined {
  if (variable.startsWith('var_')) {
    const name = variable.slice(4);
    const g = SERVER_VARIABLES[name];
    if (g) return g;
    if (name.startsWith('cookie_')) {
      const cookie = name.slice(7);
      return (ctx) => cookieValue(ctx.reqHeaders.get('cookie'), cookie);
    }
    return undefined;
  }
  if (variable.startsWith('http_req_')) {
    const h = variable.slice(9);
    return (ctx) => ctx.reqHeaders.get(h) ?? '';
  }
  if (variable.startsWith('http_resp_')) {
    const h = variable.slice(10);
    return (ctx) => ctx.resHeaders?.get(h) ?? '';
  }
  return undefined;
}

function cookieValue(header: string | undefined, name: string): string {
  if (!header) return '';
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return '';
}

type Part = string | { readonly get: Getter } | { readonly capture: string; readonly index: number; readonly get: Getter };
export type Template = readonly Part[];

/** Parses `literal{var_x}{http_req_Y_2}…` into parts. Unknown variables are errors. */
export function compileTemplate(text: string, problems: string[]): Template {
  const parts: Part[] = [];
  const re = /\{((?:var|http_req|http_resp)_[A-Za-z0-9_-]+?)(?:_(\d+))?\}/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    let name = m[1]!;
    let index = m[2] !== undefined ? Number(m[2]) : undefined;
    let get = compileVariable(name);
    if (index !== undefined && name.startsWith('var_') && !get) {
      // not a capture after all: a variable whose name ends in _N (none exist today)
      get = compileVariable(`${name}_${index}`);
      if (get) {
        name = `${name}_${index}`;
        index = undefined;
      }
    }
    if (!get) {
      problems.push(`unknown server variable '${name}' in '${text}'`);
      parts.push(m[0]);
    } else if (index !== undefined) parts.push({ capture: name, index, get });
    else parts.push({ get });
    last = re.lastIndex;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function render(t: Template, ctx: RewriteContext, captures: Map<string, RegExpExecArray> | undefined): string {
  if (t.length === 1 && typeof t[0] === 'string') return t[0];
  let out = '';
  for (const p of t) {
    if (typeof p === 'string') out += p;
    else if ('capture' in p) out += captures?.get(p.capture)?.[p.index] ?? '';
    else out += p.get(ctx);
  }
  return out;
}

interface CompiledCondition {
  readonly key: string;
  readonly get: Getter;
  readonly re: RegExp;
  readonly negate: boolean;
  readonly onResponse: boolean;
}

interface CompiledHeaderAction {
  readonly name: string;
  /** undefined: delete. */
  readonly value: Template | undefined;
}

interface CompiledRule {
  readonly name: string;
  readonly conditions: readonly CompiledCondition[];
  readonly request: readonly CompiledHeaderAction[];
  readonly response: readonly CompiledHeaderAction[];
  readonly url: { readonly path?: Template; readonly query?: Template; readonly reroute: boolean } | undefined;
}

export interface UrlRewriteResult {
  path?: string;
  query?: string;
  reroute: boolean;
}

export class CompiledRewriteSet {
  readonly name: string;
  private readonly requestRules: readonly CompiledRule[];
  private readonly responseRules: readonly CompiledRule[];
  readonly hasResponseActions: boolean;
  /** The last long header value found free of CR, LF and NUL (see sanitizeHeaderValue). */
  private readonly clean = { last: '' };

  constructor(set: RewriteRuleSet, problems: string[]) {
    this.name = set.name;
    const rules: CompiledRule[] = set.rewriteRules.map((r) => ({
      name: r.name,
      conditions: r.conditions.map((c) => {
        const get = compileVariable(c.variable);
        if (!get) problems.push(`rewrite rule '${r.name}': unknown condition variable '${c.variable}'`);
        return { key: c.variable, get: get ?? (() => ''), re: new RegExp(c.pattern, c.ignoreCase ? 'i' : ''), negate: c.negate, onResponse: c.variable.startsWith('http_resp_') || c.variable === 'var_http_status' || c.variable === 'var_sent_bytes' };
      }),
      request: r.actionSet.requestHeaderConfigurations.map((h) => ({ name: h.headerName, value: h.headerValue === '' ? undefined : compileTemplate(h.headerValue, problems) })),
      response: r.actionSet.responseHeaderConfigurations.map((h) => ({ name: h.headerName, value: h.headerValue === '' ? undefined : compileTemplate(h.headerValue, problems) })),
      url: r.actionSet.urlConfiguration
        ? {
            reroute: r.actionSet.urlConfiguration.reroute,
            ...(r.actionSet.urlConfiguration.modifiedPath !== undefined ? { path: compileTemplate(r.actionSet.urlConfiguration.modifiedPath, problems) } : {}),
            ...(r.actionSet.urlConfiguration.modifiedQueryString !== undefined ? { query: compileTemplate(r.actionSet.urlConfiguration.modifiedQueryString, problems) } : {}),
          }
        : undefined,
    }));
    this.requestRules = rules.filter((r) => r.request.length > 0 || r.url);
    this.responseRules = rules.filter((r) => r.response.length > 0);
    this.hasResponseActions = this.responseRules.length > 0;
  }

  private match(rule: CompiledRule, ctx: RewriteContext, responsePhase: boolean): Map<string, RegExpExecArray> | undefined | false {
    let captures: Map<string, RegExpExecArray> | undefined;
    for (const c of rule.conditions) {
      if (c.onResponse && !responsePhase) return false;
      c.re.lastIndex = 0;
      const m = c.re.exec(c.get(ctx));
      if (c.negate ? m !== null : m === null) return false;
      if (m) (captures ??= new Map()).set(c.key, m);
    }
    return captures;
  }

  /** Applies request header actions to ctx.reqHeaders and returns the URL rewrite, if any. */
  applyRequest(ctx: RewriteContext): UrlRewriteResult | undefined {
    let url: UrlRewriteResult | undefined;
    for (const rule of this.requestRules) {
      const captures = this.match(rule, ctx, false);
      if (captures === false) continue;
      for (const a of rule.request) applyHeader(ctx.reqHeaders, a, ctx, captures, this.clean);
      if (rule.url) {
        url ??= { reroute: false };
        if (rule.url.path) url.path = render(rule.url.path, ctx, captures);
        if (rule.url.query) url.query = render(rule.url.query, ctx, captures);
        if (rule.url.reroute) url.reroute = true;
      }
    }
    return url;
  }

  applyResponse(ctx: RewriteContext): void {
    const h = ctx.resHeaders;
    if (!h) return;
    for (const rule of this.responseRules) {
      const captures = this.match(rule, ctx, true);
      if (captures === false) continue;
      for (const a of rule.response) applyHeader(h, a, ctx, captures, this.clean);
    }
  }
}

function applyHeader(h: HeaderMap, a: CompiledHeaderAction, ctx: RewriteContext, captures: Map<string, RegExpExecArray> | undefined, clean: { last: string }): void {
  if (!a.value) {
    h.delete(a.name);
    return;
  }
  const v = render(a.value, ctx, captures);
  // A value that evaluates to nothing leaves no header (spec 2.4: {var_client_certificate} without a certificate).
  if (v === '') h.delete(a.name);
  else h.set(a.name, sanitizeHeaderValue(v, clean));
}

/** Header values never carry CR, LF or NUL: a rewrite cannot split a header. */
function sanitizeHeaderValue(v: string, clean: { last: string }): string {
  // A connection's {var_client_certificate} (1.7 KB) comes on every request: checked once.
  if (v === clean.last) return v;
  if (/[\r\n\0]/.test(v)) return v.replace(/[\r\n\0]/g, '');
  if (v.length > 256) clean.last = v;
  return v;
}
