/**
 * The HostContext a request runs with (src/expr/host.ts): filled by the gateway from the incoming
 * request and mutated by policies. One plain object per request, always of the same shape.
 */
import { randomUUID } from 'node:crypto';
import { HeaderMap } from '../core/headers.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type {
  HostApi,
  HostContext,
  HostDeployment,
  HostLastError,
  HostOperation,
  HostProduct,
  HostRequest,
  HostResponse,
  HostSubscription,
  HostUrl,
  HostUser,
} from '../expr/host.js';

export class RequestContext implements HostContext {
  request: HostRequest;
  response: HostResponse;
  variables = new Map<string, unknown>();
  readonly deployment: HostDeployment;
  api: HostApi | undefined = undefined;
  operation: HostOperation | undefined = undefined;
  product: HostProduct | undefined = undefined;
  subscription: HostSubscription | undefined = undefined;
  user: HostUser | undefined = undefined;
  lastError: HostLastError | undefined = undefined;
  private id: string | undefined = undefined;
  readonly timestamp: Date;
  readonly tracing: boolean;
  private readonly started: number;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  readonly traces: { source: string; message: string; severity: string }[] = [];

  constructor(init: { request: HostRequest; deployment: HostDeployment; clock: Clock; tracing?: boolean; logger?: Logger }) {
    this.request = init.request;
    this.deployment = init.deployment;
    this.clock = init.clock;
    this.timestamp = init.clock.now();
    this.started = performance.now();
    this.tracing = init.tracing ?? false;
    this.logger = init.logger;
    this.response = { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: { bytes: undefined } };
  }

  /**
   * context.RequestId: a random UUID, made when first read (an expression, a trace) and the same
   * for the rest of the request; most requests never read it.
   */
  get requestId(): string {
    return (this.id ??= randomUUID());
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  trace(source: string, message: string, severity: 'verbose' | 'information' | 'error' = 'verbose'): void {
    this.traces.push({ source, message, severity });
    this.logger?.log({ level: severity === 'error' ? 'error' : severity === 'information' ? 'info' : 'debug', msg: 'trace', source, message, requestId: this.requestId });
  }

  now(): Date {
    return this.clock.now();
  }
}

export function cloneUrl(u: HostUrl): HostUrl {
  return { scheme: u.scheme, host: u.host, port: u.port, path: u.path, query: u.query.map(([k, v]) => [k, v] as [string, string]) };
}

export function urlToString(u: HostUrl): string {
  const defaultPort = (u.scheme === 'https' && u.port === 443) || (u.scheme === 'http' && u.port === 80);
  const host = u.host.includes(':') && !u.host.startsWith('[') ? `[${u.host}]` : u.host;
  return `${u.scheme}://${host}${defaultPort ? '' : `:${u.port}`}${u.path}${queryString(u.query)}`;
}

export function queryString(q: readonly (readonly [string, string])[]): string {
  if (q.length === 0) return '';
  return '?' + q.map(([k, v]) => (v === '' ? encodeQ(k) : `${encodeQ(k)}=${encodeQ(v)}`)).join('&');
}

function encodeQ(s: string): string {
  return encodeURIComponent(s).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/gi, '@').replace(/%2C/gi, ',');
}

export function parseQuery(qs: string): [string, string][] {
  const out: [string, string][] = [];
  if (!qs) return out;
  for (const part of qs.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push([safeDecode(k), safeDecode(v)]);
  }
  return out;
}

export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Parses an absolute URL into a HostUrl (used for serviceUrl, base-url, set-url). */
export function parseHostUrl(text: string): HostUrl {
  const u = new URL(text);
  const scheme = u.protocol.replace(/:$/, '');
  return {
    scheme,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80,
    path: u.pathname || '/',
    query: parseQuery(u.search),
  };
}
