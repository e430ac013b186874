/**
 * What the pipeline works with while a request runs: the compiled steps, the per-request state,
 * the failures that send a request to on-error, and the services a running gateway provides
 * (backend HTTP, certificate store, counters) — as interfaces, so that src/apim (or a test)
 * supplies them and two gateways can run in one process.
 */
import type { Logger } from '../core/logger.js';
import type { HostContext, HostUrl } from '../expr/host.js';
import type { Certificate } from '../pki/index.js';

export type Section = 'inbound' | 'backend' | 'outbound' | 'on-error';
export type PolicyScope = 'global' | 'product' | 'api' | 'operation';
export const SECTIONS: readonly Section[] = ['inbound', 'backend', 'outbound', 'on-error'];

/** A compiled policy statement, ready to run. Built once at load. */
export interface PolicyStep {
  /** The element name: 'set-header'. */
  readonly name: string;
  /** The element's id attribute ('' when none): context.LastError.PolicyId. */
  readonly id: string;
  /** Containers of this step inside its section, e.g. 'choose[1]/when[2]' ('' at the top). */
  readonly path: string;
  readonly scope: PolicyScope;
  readonly section: Section;
  /** Runs the statement. Returns a promise only when it must wait (backend calls). */
  run(state: RequestState): void | Promise<void>;
}

/** A failure that sends the request to on-error, with the context.LastError values and Azure's answer. */
export class PolicyFailure extends Error {
  source: string;
  readonly reason: string;
  /** The status and body the response gets before on-error runs (Azure's default error answer). */
  readonly status: number;
  readonly statusReason: string;
  /** The body message; the JSON answer is {"statusCode": status, "message": bodyMessage}. */
  readonly bodyMessage: string;
  scope = '';
  section = '';
  path = '';
  policyId = '';
  attributed = false;
  /** Machine-readable reason for the log record. */
  readonly logReason: string;
  /** Headers the error answer carries (Retry-After …). */
  readonly headers: readonly (readonly [string, string])[];

  constructor(init: { source: string; reason: string; message: string; status?: number; statusReason?: string; bodyMessage?: string; logReason?: string; cause?: unknown; headers?: readonly (readonly [string, string])[] }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.source = init.source;
    this.reason = init.reason;
    this.status = init.status ?? 500;
    this.statusReason = init.statusReason ?? defaultReasonPhrase(this.status);
    this.bodyMessage = init.bodyMessage ?? (this.status === 500 ? 'Internal server error' : init.message);
    this.logReason = init.logReason ?? init.reason;
    this.headers = init.headers ?? [];
  }
}

export function defaultReasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A request to a backend (forward-request, send-request). */
export interface BackendRequest {
  readonly method: string;
  readonly url: HostUrl;
  readonly headers: import('../core/headers.js').HeaderMap;
  readonly body: Buffer | undefined;
  /** Seconds until the response headers must have arrived. */
  readonly timeoutSeconds: number;
  /** A client certificate for mTLS to the backend (authentication-certificate). */
  readonly clientCertificate?: { readonly certPem: string; readonly keyPem: string };
  /** Validate the backend's certificate chain / name (backend entity tls settings). */
  readonly validateCertificateChain: boolean;
  readonly validateCertificateName: boolean;
  readonly followRedirects: boolean;
}

export interface BackendResponse {
  readonly statusCode: number;
  readonly statusReason: string;
  readonly headers: import('../core/headers.js').HeaderMap;
  readonly body: Buffer;
}

export interface BackendClient {
  /** Rejects with a PolicyFailure (BackendConnectionFailure / Timeout) when no response arrives. */
  send(request: BackendRequest): Promise<BackendResponse>;
}

/** Counters for rate-limit policies: a shared store can implement this later. */
export interface RateLimitStore {
  /**
   * Counts `amount` calls for `key` in a sliding window of `periodSeconds`, if the count stays within
   * `limit`. Returns whether the call is allowed, the remaining calls, and seconds until one frees up.
   */
  hit(key: string, limit: number, periodSeconds: number, amount: number, now: number): { allowed: boolean; remaining: number; retryAfterSeconds: number };
  /**
   * Counts `amount` calls for `key` in the fixed period that ends at `periodEnd` (epoch ms), if the
   * count stays within `limit` (quota, quota-by-key). One number per key, whatever the limit: the
   * counter starts again at zero when a call arrives for another period.
   */
  count(key: string, limit: number, periodEnd: number, amount: number, now: number): { allowed: boolean; remaining: number };
}

export interface ApimBackendInfo {
  readonly name: string;
  readonly url: string;
  readonly certificateIds: readonly string[];
  readonly validateCertificateChain: boolean;
  readonly validateCertificateName: boolean;
}

/** The deployment's certificates as the policies need them. */
export interface CertificateStore {
  /** Certificate entities with private keys (for authentication-certificate), by entity name. */
  clientCredential(idOrThumbprint: string): { readonly certificate: Certificate; readonly certPem: string; readonly keyPem: string } | undefined;
  /** Certificate entities by name (context.Deployment.Certificates). */
  readonly certificates: ReadonlyMap<string, Certificate>;
  readonly trustedRoots: readonly Certificate[];
  readonly intermediates: readonly Certificate[];
}

/** The value cache of cache-lookup-value / cache-store-value (an external cache can implement it later). */
export interface ValueCache {
  get(key: string, now: number): unknown;
  set(key: string, value: unknown, durationSeconds: number, now: number): void;
  delete(key: string): void;
}

/** A bounded in-memory value cache (entries expire; cleared when full). */
export class MemoryValueCache implements ValueCache {
  private readonly map = new Map<string, { value: unknown; until: number }>();
  constructor(private readonly max = 10_000) {}
  get(key: string, now: number): unknown {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.until <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: unknown, durationSeconds: number, now: number): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, { value, until: now + durationSeconds * 1000 });
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

export interface PolicyServices {
  readonly logger: Logger;
  /** cache-*-value policies; absent means a cache that keeps nothing. */
  readonly valueCache?: ValueCache;
  readonly backendClient: BackendClient;
  readonly rateLimits: RateLimitStore;
  readonly certificateStore: CertificateStore;
  readonly backends: ReadonlyMap<string, ApimBackendInfo>;
  /** Cache of certificate chain results keyed by the DER's SHA-256 (shared by all requests). */
  readonly trustCache: TrustCache;
  /** Where authentication-managed-identity asks for tokens; absent: no managed identity. */
  readonly managedIdentity?: ManagedIdentityEndpoint;
}

/**
 * A managed identity token endpoint in the App Service protocol (api-version 2019-08-01): GET
 * `url?resource=…&api-version=2019-08-01[&client_id=…]` with the header `X-IDENTITY-HEADER`,
 * answered with `{ access_token, expires_on }`. What IDENTITY_ENDPOINT and IDENTITY_HEADER name.
 */
export interface ManagedIdentityEndpoint {
  readonly url: string;
  readonly header: string;
}

export interface TrustResult {
  readonly trusted: boolean;
  readonly chain: readonly Certificate[];
  readonly reasons: readonly string[];
  /** Epoch ms after which a cached result must be rebuilt (inclusive; the next validity boundary). */
  readonly validUntil?: number;
  /** Epoch ms before which a cached result must be rebuilt (the last validity boundary it was checked after). */
  readonly validFrom?: number;
}

export interface TrustCache {
  get(sha256: string): TrustResult | undefined;
  set(sha256: string, result: TrustResult): void;
}

/** Where forward-request sends the request: the backend base URL and the path relative to it. */
export interface BackendTarget {
  scheme: string;
  host: string;
  port: number;
  basePath: string; // '/api/10.4' (no trailing slash)
  backendId: string | undefined;
}

/** The default of RequestState.templateQueryNames: empty, never changed (the gateway sets the operation's). */
const NO_QUERY_NAMES: ReadonlySet<string> = new Set<string>();

/** Per-request state: the context the expressions see, and what the pipeline decides as it runs. */
export class RequestState {
  readonly ctx: HostContext;
  readonly services: PolicyServices;
  /** Set by return-response and mock-response: the pipeline stops and the response is sent. */
  done = false;
  /** forward-request ran (so outbound has a backend response). */
  forwarded = false;
  target: BackendTarget;
  /** The operation-relative path (with the leading '/'), changed by rewrite-uri. */
  relativePath: string;
  clientCertificate: { certPem: string; keyPem: string } | undefined;
  /** Steps run, for trace records (when tracing). */
  readonly traceEntries: { source: string; message: string; severity: string; elapsedMs: number }[] = [];
  /** Headers added to the final response whatever it is (cors, rate-limit counters). */
  readonly extraResponseHeaders: [string, string][] = [];
  /** Query parameter names in the matched operation's urlTemplate (rewrite-uri's copy-unmatched-params). */
  templateQueryNames: ReadonlySet<string> = NO_QUERY_NAMES;
  private stored: WeakMap<object, import('../expr/host.js').HostResponse> | undefined;
  /** Responses stored in variables by send-request, by the object expressions see (made on first use: most requests store none). */
  get storedResponses(): WeakMap<object, import('../expr/host.js').HostResponse> {
    return (this.stored ??= new WeakMap());
  }
  /** The matched operation's documented responses (mock-response answers with their examples). */
  operationResponses: readonly import('../model/apiManagement.js').ApimOperationResponse[] = [];
  /** The response-cache key chosen by cache-lookup, for cache-store. */
  cacheKey: string | undefined;
  /** Why the gateway answered itself, for the log ('no_client_cert' …). */
  logReason: string | undefined;
  /** quota-by-key counter keys already counted by this request (each is counted once per request). */
  quotaKeysCounted: Set<string> | undefined;
  /**
   * Work for when the answer is known (runPipeline runs it last): counters whose increment depends
   * on the response (an increment-condition that reads context.Response, bandwidth quotas).
   */
  afterAnswer: (() => void)[] | undefined;

  constructor(ctx: HostContext, services: PolicyServices, target: BackendTarget, relativePath: string) {
    this.ctx = ctx;
    this.services = services;
    this.target = target;
    this.relativePath = relativePath;
  }

  /** Recomputes context.Request.Url from the backend target and relative path (query kept). */
  updateUrl(): void {
    const t = this.target;
    const rel = this.relativePath === '/' && t.basePath ? '' : this.relativePath;
    const u = this.ctx.request.url;
    u.scheme = t.scheme;
    u.host = t.host;
    u.port = t.port;
    u.path = (t.basePath + rel) || '/';
  }
}
