/**
 * Running a policy document without sockets, for unit tests of single policies: the document is
 * compiled at operation scope under Azure's default global policy and run against a request you
 * describe. The backend client answers from a function you give (default: 200 with the request
 * echoed), so that no network is needed.
 */
import { systemClock, type Clock } from '../core/clock.js';
import { HeaderMap } from '../core/headers.js';
import { silentLogger } from '../core/logger.js';
import type { HostDeployment, HostRequest } from '../expr/host.js';
import type { Certificate } from '../pki/index.js';
import { RequestContext, parseQuery } from './context.js';
import { compilePolicyDocument, composeScopes, DEFAULT_GLOBAL_POLICY } from './document.js';
import { runPipeline, type PipelineOutcome } from './pipeline.js';
import { defaultRegistry } from './policies/index.js';
import { RequestState, type BackendRequest, type BackendResponse, type CertificateStore, type PolicyServices, type RateLimitStore } from './runtime.js';
import { createTrustCache } from './trust.js';

export interface PolicyRun {
  readonly ctx: RequestContext;
  readonly state: RequestState;
  readonly outcome: PipelineOutcome;
  readonly backendRequests: BackendRequest[];
  readonly diagnostics: readonly import('../core/diagnostics.js').Diagnostic[];
}

export interface PolicyRunOptions {
  readonly method?: string;
  /** Path and query as the client sent them (the API path included). */
  readonly target?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string;
  readonly ipAddress?: string;
  readonly certificate?: Certificate;
  readonly matchedParameters?: Record<string, string>;
  readonly templateQueryNames?: readonly string[];
  readonly backend?: (req: BackendRequest) => BackendResponse | Promise<BackendResponse>;
  readonly rateLimits?: RateLimitStore;
  readonly store?: Partial<CertificateStore>;
  readonly clock?: Clock;
  readonly namedValues?: Map<string, string>;
  readonly valueCache?: import('./runtime.js').ValueCache;
  /** The service's parsed-certificate cache (context.Deployment); none by default. */
  readonly certificateCache?: import('../pki/index.js').CertificateCache;
  /** Chain results shared across runs (a running gateway keeps one); a fresh one per run otherwise. */
  readonly trustCache?: import('./runtime.js').TrustCache;
  /** Subscription id for rate-limit (undefined: no subscription). */
  readonly subscriptionId?: string;
  /** The managed identity token endpoint (authentication-managed-identity); none by default. */
  readonly managedIdentity?: import('./runtime.js').ManagedIdentityEndpoint;
  /** The API and operation the request matched (context.Api, context.Operation), by id and name. */
  readonly api?: { readonly id: string; readonly name: string };
  readonly operation?: { readonly id: string; readonly name: string };
}

/** Compiles `operationPolicy` and runs one request through it. Throws when the document has errors. */
export async function runPolicy(operationPolicy: string, options: PolicyRunOptions = {}): Promise<PolicyRun> {
  return preparePolicy(operationPolicy, options.namedValues).run(options);
}

/** Compiles once, for several requests through the same compiled statements. */
export function preparePolicy(operationPolicy: string, namedValues?: Map<string, string>): { run(options?: PolicyRunOptions): Promise<PolicyRun> } {
  const registry = defaultRegistry();
  const g = compilePolicyDocument('global.xml', DEFAULT_GLOBAL_POLICY, { scope: 'global', mode: 'run', registry });
  const o = compilePolicyDocument('operation.xml', operationPolicy, { scope: 'operation', mode: 'run', registry, ...(namedValues ? { namedValues } : {}) });
  const errors = o.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('\n'));
  const pipeline = composeScopes([g.document, o.document]);
  return { run: (options: PolicyRunOptions = {}) => runPrepared(pipeline, o.diagnostics, options) };
}

async function runPrepared(pipeline: import('./document.js').ComposedPipeline, diagnostics: readonly import('../core/diagnostics.js').Diagnostic[], options: PolicyRunOptions): Promise<PolicyRun> {
  const target = options.target ?? '/api/op';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = parseQuery(q < 0 ? '' : target.slice(q + 1));
  const headers = new HeaderMap(Object.entries(options.headers ?? {}));
  const request: HostRequest = {
    method: options.method ?? 'GET',
    url: { scheme: 'https', host: 'apim.azure-api.net', port: 443, path, query: query.slice() },
    originalUrl: { scheme: 'https', host: 'apim.azure-api.net', port: 443, path, query },
    headers,
    body: { bytes: options.body === undefined ? undefined : Buffer.from(options.body) },
    ipAddress: options.ipAddress ?? '10.0.0.4',
    certificate: options.certificate,
    matchedParameters: new Map(Object.entries(options.matchedParameters ?? {})),
  };
  const store: CertificateStore = {
    certificates: options.store?.certificates ?? new Map(),
    trustedRoots: options.store?.trustedRoots ?? [],
    intermediates: options.store?.intermediates ?? [],
    clientCredential: options.store?.clientCredential ?? (() => undefined),
  };
  const deployment: HostDeployment = { region: 'local', serviceName: 'apim', serviceId: '/apim', gatewayId: 'managed', certificates: store.certificates, trustedRoots: store.trustedRoots, intermediates: store.intermediates, ...(options.certificateCache ? { certificateCache: options.certificateCache } : {}) };
  const ctx = new RequestContext({ request, deployment, clock: options.clock ?? systemClock });
  if (options.api) ctx.api = { ...options.api, path: 'api', protocols: ['https'], serviceUrl: undefined, subscriptionKeyParameterNames: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' } };
  if (options.operation) ctx.operation = { ...options.operation, method: options.method ?? 'GET', urlTemplate: '/' };
  if (options.subscriptionId) ctx.subscription = { id: options.subscriptionId, name: 's', key: 'k', primaryKey: 'k', secondaryKey: 'k2', createdDate: new Date(0) };
  const backendRequests: BackendRequest[] = [];
  const services: PolicyServices = {
    logger: silentLogger,
    backendClient: {
      send: async (req) => {
        backendRequests.push(req);
        return options.backend ? options.backend(req) : { statusCode: 200, statusReason: 'OK', headers: new HeaderMap([['Content-Type', 'text/plain']]), body: Buffer.from(`${req.method} ${req.url.path}`) };
      },
    },
    rateLimits: options.rateLimits ?? { hit: () => ({ allowed: true, remaining: 1, retryAfterSeconds: 0 }), count: () => ({ allowed: true, remaining: 1 }) },
    certificateStore: store,
    backends: new Map(),
    trustCache: options.trustCache ?? createTrustCache(),
    ...(options.valueCache ? { valueCache: options.valueCache } : {}),
    ...(options.managedIdentity ? { managedIdentity: options.managedIdentity } : {}),
  };
  const state = new RequestState(ctx, services, { scheme: 'https', host: 'backend.example', port: 443, basePath: '/base', backendId: undefined }, path.replace(/^\/api/, '') || '/');
  state.templateQueryNames = new Set(options.templateQueryNames ?? []);
  state.updateUrl();
  const outcome = await runPipeline(pipeline, state);
  return { ctx, state, outcome, backendRequests, diagnostics };
}

/** `<policies>` with the given inbound statements and `<base/>` everywhere else. */
export function inbound(statements: string, more: { outbound?: string; onError?: string; backend?: string } = {}): string {
  return `<policies><inbound><base/>${statements}</inbound><backend>${more.backend ?? '<base/>'}</backend><outbound><base/>${more.outbound ?? ''}</outbound><on-error><base/>${more.onError ?? ''}</on-error></policies>`;
}

export function bodyText(run: PolicyRun): string {
  return run.ctx.response.body.bytes?.toString('utf8') ?? '';
}
