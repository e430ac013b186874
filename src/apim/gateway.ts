/**
 * An API Management service ready to answer requests: certificates loaded, policy documents
 * compiled and composed per operation and product, operation templates compiled — all at load.
 * `handle` takes a parsed request and returns the response to write; it never throws.
 */
import type { Clock } from '../core/clock.js';
import { readSource } from '../core/datasource.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { makeDiagnostic } from '../core/diagnostics.js';
import { messageOf } from '../core/errors.js';
import { HeaderMap } from '../core/headers.js';
import type { Logger } from '../core/logger.js';
import type { HostApi, HostDeployment, HostOperation, HostProduct, HostRequest, HostResponse, HostSubscription, HostUrl } from '../expr/host.js';
import type { ApiManagementModel, ApimApi, ApimOperation, ApimPolicyDocument, ApimProduct, ApimSubscription } from '../model/apiManagement.js';
import { CertificateCache, loadCertificates, type Certificate } from '../pki/index.js';
import { RequestContext, parseHostUrl, parseQuery } from '../policy/context.js';
import type { Registry } from '../policy/compile.js';
import { compilePolicyDocument, composeScopes, DEFAULT_GLOBAL_POLICY, type CompiledDocument, type ComposedPipeline } from '../policy/document.js';
import { runPipeline, runSteps, setErrorResponse } from '../policy/pipeline.js';
import { defaultRegistry } from '../policy/policies/index.js';
import { MemoryValueCache, PolicyFailure, RequestState, type ApimBackendInfo, type BackendClient, type CertificateStore, type ManagedIdentityEndpoint, type PolicyServices, type RateLimitStore } from '../policy/runtime.js';
import { createTrustCache } from '../policy/trust.js';
import { ApimCodes } from './errors.js';
import { compileTemplate, matchApi, matchOperation, sortOperations, type CompiledOperation } from './matcher.js';

export const STATUS_PATH = '/status-0123456789abcdef';
export const INTERNAL_STATUS_PATH = '/internal-status-0123456789abcdef';

export interface IncomingApimRequest {
  readonly method: string;
  /** The request target as sent: '/client-cert/validate?x=1'. */
  readonly target: string;
  readonly host: string;
  readonly port: number;
  readonly headers: HeaderMap;
  readonly body: Buffer | undefined;
  readonly ipAddress: string;
  readonly certificate: Certificate | undefined;
}

export interface ApimAnswer {
  readonly response: HostResponse;
  /** Headers to add whatever the response (cors, rate-limit counters). */
  readonly extraHeaders: readonly (readonly [string, string])[];
  readonly logReason: string | undefined;
  readonly api: string | undefined;
  readonly operation: string | undefined;
  readonly lastError: string | undefined;
}

interface LoadedOperation {
  readonly compiled: CompiledOperation;
  readonly host: HostOperation;
  /** Composed pipeline per product name ('' = no product). */
  readonly pipelines: Map<string, ComposedPipeline>;
}

interface LoadedApi {
  readonly api: ApimApi;
  /** The path the API answers on: its path, plus /{version} for a Segment version set. */
  readonly pathLower: string;
  /** A version chosen by header or query: the name and the value this API answers to ('' = the original, answering when absent). */
  readonly versionBy: { readonly kind: 'header' | 'query'; readonly name: string; readonly value: string } | undefined;
  readonly https: boolean;
  readonly host: HostApi;
  readonly serviceUrl: HostUrl | undefined;
  /** The serviceUrl's path without trailing slashes (the forward target's base path). */
  readonly serviceBasePath: string;
  readonly operations: readonly LoadedOperation[];
  /** The loaded operation of each compiled one, for the match. */
  readonly operationOf: ReadonlyMap<CompiledOperation, LoadedOperation>;
  readonly compiledOperations: readonly CompiledOperation[];
  /** Pipeline for requests that reached the API but no operation (on-error of global/product/API). */
  readonly apiPipelines: Map<string, ComposedPipeline>;
  readonly products: readonly LoadedProduct[];
}

interface LoadedProduct {
  readonly product: ApimProduct;
  readonly host: HostProduct;
}

interface LoadedSubscription {
  readonly sub: ApimSubscription;
  readonly host: HostSubscription;
}

export interface GatewayOptions {
  readonly registry?: Registry;
  readonly backendClient: BackendClient;
  readonly rateLimits: RateLimitStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The managed identity's token endpoint (authentication-managed-identity). */
  readonly managedIdentity?: ManagedIdentityEndpoint;
}

/** Loads certificates of the model (CA stores and entities); problems become diagnostics. */
export async function loadServiceCertificates(model: ApiManagementModel, diagnostics: Diagnostic[]): Promise<CertificateStore> {
  const trustedRoots: Certificate[] = [];
  const intermediates: Certificate[] = [];
  const certificates = new Map<string, Certificate>();
  const credentials = new Map<string, { certificate: Certificate; certPem: string; keyPem: string }>();
  const at = (origin: { file?: string; path: string }) => ({ file: origin.file ?? model.name, path: origin.path });
  for (const c of model.caCertificates) {
    try {
      const m = await loadCertificates(await readSource(c.data), { origin: c.data.kind === 'file' ? c.data.path : (c.data as { origin: string }).origin, password: c.password?.reveal() });
      // One certificate per entry, as Azure takes it (CertificateConfiguration.encodedCertificate is
      // "Base64 Encoded certificate", shown as one CertificateInformation; X509Certificate2 of a
      // PEM bundle or PFX loads one). Taking every certificate of a bundle in the Root store would
      // make each of them, intermediates included, a trust anchor.
      const [first, ...rest] = m.certificates;
      if (!first) throw new Error('no certificate in the data');
      (c.storeName === 'Root' ? trustedRoots : intermediates).push(first);
      if (rest.length) {
        const message = `${model.name}: the ${c.storeName} store entry holds ${m.certificates.length} certificates; only the first (${first.subject}, thumbprint ${first.thumbprint}) is used, as Azure takes one certificate per entry. Ignored: ${rest.map((x) => x.subject).join('; ')}`;
        const hint = 'add each certificate as an entry of its own: roots with storeName Root, intermediates with storeName CertificateAuthority';
        diagnostics.push(makeDiagnostic('warning', ApimCodes.GH_APIM_CERTIFICATE, message, { ...at(c.origin), hint }));
      }
    } catch (e) {
      diagnostics.push(makeDiagnostic('error', ApimCodes.GH_APIM_CERTIFICATE, `${model.name}: ${messageOf(e)}`, at(c.origin)));
    }
  }
  for (const c of model.certificates) {
    try {
      const m = await loadCertificates(await readSource(c.data), { origin: (c.data as { origin?: string }).origin ?? c.name, password: c.password?.reveal() });
      const cert = m.certificates[0];
      if (!cert) throw new Error('no certificate in the data');
      certificates.set(c.name, cert);
      if (m.privateKeyPem) credentials.set(c.name.toLowerCase(), { certificate: cert, certPem: m.certificates.map((x) => x.toPem()).join(''), keyPem: m.privateKeyPem });
    } catch (e) {
      diagnostics.push(makeDiagnostic('error', ApimCodes.GH_APIM_CERTIFICATE, `${model.name}/${c.name}: ${messageOf(e)}`, at(c.origin)));
    }
  }
  return {
    certificates,
    trustedRoots,
    intermediates,
    clientCredential(idOrThumbprint) {
      const k = idOrThumbprint.toLowerCase();
      const byId = credentials.get(k);
      if (byId) return byId;
      for (const c of credentials.values()) if (c.certificate.thumbprint.toLowerCase() === k) return c;
      return undefined;
    },
  };
}

function policyOf(doc: ApimPolicyDocument | undefined, scope: 'global' | 'product' | 'api' | 'operation', ctx: { registry: Registry; namedValues: Map<string, string>; env: { certificateIds: Set<string>; certificateThumbprints: Set<string>; backendIds: Set<string> }; diagnostics: Diagnostic[]; fragments: Map<string, { file: string; text: string }> }): CompiledDocument | undefined {
  if (!doc) return undefined;
  const r = compilePolicyDocument(doc.file, doc.value, { scope, mode: 'run', registry: ctx.registry, namedValues: ctx.namedValues, env: ctx.env, fragments: ctx.fragments });
  ctx.diagnostics.push(...r.diagnostics);
  return r.document;
}

export class ApimGateway {
  readonly model: ApiManagementModel;
  private readonly apis: LoadedApi[];
  private readonly globalPipeline: ComposedPipeline;
  private readonly subscriptionsByKey: Map<string, LoadedSubscription>;
  private readonly services: PolicyServices;
  private readonly deployment: HostDeployment;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private constructor(model: ApiManagementModel, parts: { apis: LoadedApi[]; globalPipeline: ComposedPipeline; subscriptionsByKey: Map<string, LoadedSubscription>; services: PolicyServices; deployment: HostDeployment; clock: Clock; logger: Logger }) {
    this.model = model;
    this.apis = parts.apis;
    this.globalPipeline = parts.globalPipeline;
    this.subscriptionsByKey = parts.subscriptionsByKey;
    this.services = parts.services;
    this.deployment = parts.deployment;
    this.clock = parts.clock;
    this.logger = parts.logger;
  }

  /** Loads and compiles everything; returns the diagnostics, and a gateway only when there are no errors. */
  static async load(model: ApiManagementModel, options: GatewayOptions): Promise<{ gateway: ApimGateway | undefined; diagnostics: Diagnostic[] }> {
    const diagnostics: Diagnostic[] = [];
    const store = await loadServiceCertificates(model, diagnostics);
    const registry = options.registry ?? defaultRegistry();
    // {{DisplayName}} references; the resource name also works when it differs.
    const namedValues = new Map<string, string>();
    for (const n of model.namedValues) if (!namedValues.has(n.name)) namedValues.set(n.name, n.value.reveal());
    for (const n of model.namedValues) namedValues.set(n.displayName, n.value.reveal());
    const env = {
      certificateIds: new Set(model.certificates.map((c) => c.name.toLowerCase())),
      certificateThumbprints: new Set([...store.certificates.values()].map((c) => c.thumbprint.toLowerCase())),
      backendIds: new Set(model.backends.map((b) => b.name.toLowerCase())),
    };
    const fragments = new Map(model.policyFragments.map((f) => [f.name, { file: f.file, text: f.value }]));
    const pctx = { registry, namedValues, env, diagnostics, fragments };
    const globalDoc = policyOf(model.policy ?? { format: 'rawxml', value: DEFAULT_GLOBAL_POLICY, file: `${model.name}/policy (default)`, origin: model.origin }, 'global', pctx);
    const productDocs = new Map<string, CompiledDocument | undefined>();
    for (const p of model.products) productDocs.set(p.name.toLowerCase(), policyOf(p.policy, 'product', pctx));

    const apis: LoadedApi[] = [];
    for (const api of model.apis) {
      const apiDoc = policyOf(api.policy, 'api', pctx);
      const products = model.products.filter((p) => p.apis.some((a) => a.toLowerCase() === api.name.toLowerCase()));
      const loadedProducts = products.map((p) => ({
        product: p,
        host: { id: `/products/${p.name}`, name: p.displayName, approvalRequired: p.approvalRequired, subscriptionRequired: p.subscriptionRequired, state: p.state } satisfies HostProduct,
      }));
      const productKeys = ['', ...products.map((p) => p.name.toLowerCase())];
      const apiPipelines = new Map<string, ComposedPipeline>();
      for (const k of productKeys) apiPipelines.set(k, composeScopes([globalDoc, k ? productDocs.get(k) : undefined, apiDoc]));
      const operations: LoadedOperation[] = [];
      for (const op of api.operations) {
        const opDoc = policyOf(op.policy, 'operation', pctx);
        const pipelines = new Map<string, ComposedPipeline>();
        for (const k of productKeys) pipelines.set(k, composeScopes([globalDoc, k ? productDocs.get(k) : undefined, apiDoc, opDoc]));
        operations.push({ compiled: compileTemplate(op), host: { id: `/apis/${api.name}/operations/${op.name}`, name: op.displayName, method: op.method, urlTemplate: op.urlTemplate }, pipelines });
      }
      const byCompiled = new Map(operations.map((o) => [o.compiled, o]));
      const sorted = sortOperations(operations.map((o) => o.compiled)).map((c) => byCompiled.get(c)!);
      let serviceUrl: HostUrl | undefined;
      if (api.serviceUrl) {
        try {
          serviceUrl = parseHostUrl(api.serviceUrl);
        } catch {
          diagnostics.push(makeDiagnostic('error', 'GH_APIM_CONFIG_INVALID', `API '${api.name}': serviceUrl '${api.serviceUrl}' is not a URL`, { file: api.origin.file ?? api.name, path: 'properties.serviceUrl' }));
        }
      }
      const vs = api.versionSet;
      const version = api.apiVersion ?? '';
      const segmentPath = vs?.versioningScheme === 'Segment' && version ? (api.path ? `${api.path}/${version}` : version) : api.path;
      apis.push({
        api,
        pathLower: segmentPath.toLowerCase(),
        versionBy:
          vs?.versioningScheme === 'Header' ? { kind: 'header', name: vs.versionHeaderName ?? 'Api-Version', value: version } : vs?.versioningScheme === 'Query' ? { kind: 'query', name: vs.versionQueryName ?? 'api-version', value: version } : undefined,
        https: api.protocols.includes('https'),
        host: {
          id: `/apis/${api.name}`,
          name: api.displayName,
          path: api.path,
          protocols: api.protocols,
          serviceUrl,
          subscriptionKeyParameterNames: api.subscriptionKeyParameterNames,
          ...(api.apiVersion ? { version: api.apiVersion } : {}),
          revision: '1',
          isCurrentRevision: true,
        },
        serviceUrl,
        serviceBasePath: serviceUrl ? serviceUrl.path.replace(/\/+$/, '') : '',
        operations: sorted,
        operationOf: byCompiled,
        compiledOperations: sorted.map((o) => o.compiled),
        apiPipelines,
        products: loadedProducts,
      });
    }
    apis.sort((a, b) => b.pathLower.length - a.pathLower.length);

    const subscriptionsByKey = new Map<string, LoadedSubscription>();
    for (const sub of model.subscriptions) {
      const host: HostSubscription = {
        id: `/subscriptions/${sub.name}`,
        name: sub.displayName,
        key: sub.primaryKey.reveal(),
        primaryKey: sub.primaryKey.reveal(),
        secondaryKey: sub.secondaryKey.reveal(),
        createdDate: new Date(0),
      };
      subscriptionsByKey.set(sub.primaryKey.reveal(), { sub, host });
      subscriptionsByKey.set(sub.secondaryKey.reveal(), { sub, host: { ...host, key: sub.secondaryKey.reveal() } });
    }

    const backends = new Map<string, ApimBackendInfo>(model.backends.map((b) => [b.name.toLowerCase(), b]));
    const services: PolicyServices = {
      logger: options.logger,
      backendClient: options.backendClient,
      rateLimits: options.rateLimits,
      certificateStore: store,
      backends,
      trustCache: createTrustCache(),
      valueCache: new MemoryValueCache(),
      ...(options.managedIdentity ? { managedIdentity: options.managedIdentity } : {}),
    };
    const deployment: HostDeployment = {
      region: model.location ?? 'local',
      serviceName: model.name,
      serviceId: model.id,
      gatewayId: 'managed',
      certificates: store.certificates,
      trustedRoots: store.trustedRoots,
      intermediates: store.intermediates,
      certificateCache: new CertificateCache(1024),
    };
    const hasErrors = diagnostics.some((d) => d.severity === 'error');
    const gateway = hasErrors
      ? undefined
      : new ApimGateway(model, { apis, globalPipeline: composeScopes([globalDoc]), subscriptionsByKey, services, deployment, clock: options.clock, logger: options.logger });
    return { gateway, diagnostics };
  }

  /** Answers one request. Never throws. */
  async handle(req: IncomingApimRequest): Promise<ApimAnswer> {
    const q = req.target.indexOf('?');
    const rawPath = q < 0 ? req.target : req.target.slice(0, q);
    const rawQuery = q < 0 ? '' : req.target.slice(q + 1);
    let path = rawPath;
    // Without a '%' there is nothing to decode (decodeURI would return the same string). '%25'
    // stays escaped (decodeURI alone would make it a bare '%'): path parameters decode it once
    // (matcher.ts), so a raw '%252F' gives '%2F' as on Azure, and the path forwarded to the
    // backend keeps it escaped.
    if (rawPath.includes('%')) {
      try {
        path = decodeURI(rawPath.replace(/%25/g, '%2525'));
      } catch {
        path = rawPath;
      }
    }
    if ((path.length === STATUS_PATH.length || path.length === INTERNAL_STATUS_PATH.length) && isStatusPath(path.toLowerCase())) {
      return { response: { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: { bytes: undefined } }, extraHeaders: [], logReason: 'status_endpoint', api: undefined, operation: undefined, lastError: undefined };
    }
    const query = parseQuery(rawQuery);
    const originalUrl: HostUrl = { scheme: 'https', host: req.host, port: req.port, path, query };
    const request: HostRequest = {
      method: req.method,
      url: { scheme: 'https', host: req.host, port: req.port, path, query: query.slice() },
      originalUrl,
      headers: req.headers,
      body: { bytes: req.body },
      ipAddress: req.ipAddress,
      certificate: req.certificate,
      matchedParameters: new Map(),
    };
    const ctx = new RequestContext({ request, deployment: this.deployment, clock: this.clock, logger: this.logger });
    const matchedApi = matchApi(this.apis, path, (a) => {
      if (!a.https) return false;
      const v = a.versionBy;
      if (!v) return true;
      const got = v.kind === 'header' ? req.headers.get(v.name) : query.find(([k]) => k === v.name)?.[1];
      return v.value === '' ? got === undefined || got === '' : got === v.value;
    });
    let relative = matchedApi?.relative ?? path;
    let pipeline: ComposedPipeline = this.globalPipeline;
    let initial: PolicyFailure | undefined;
    let opName: string | undefined;
    let templateQueryNames: ReadonlySet<string> = NO_NAMES;
    let operationResponses: NonNullable<ApimOperation['responses']> = NO_RESPONSES;
    let preflightOnly = false;
    if (!matchedApi) {
      initial = notFound();
    } else {
      const la = matchedApi.api;
      ctx.api = la.host;
      const m = matchOperation(la.compiledOperations, req.method, relative, query);
      // Subscription and product context.
      const access = this.resolveAccess(la, req.headers, query);
      const productKey = access.product ? access.product.product.name.toLowerCase() : '';
      if (access.product) ctx.product = access.product.host;
      if (access.subscription) ctx.subscription = access.subscription.host;
      if (!m) {
        pipeline = la.apiPipelines.get(productKey) ?? this.globalPipeline;
        // A CORS preflight reaches the API's cors policy even without an OPTIONS operation.
        if (req.method === 'OPTIONS' && req.headers.has('Origin') && req.headers.has('Access-Control-Request-Method') && !access.failure) preflightOnly = true;
        else initial = access.failure ?? notFound();
      } else {
        const lo = la.operationOf.get(m.op)!;
        ctx.operation = lo.host;
        opName = lo.compiled.operation.name;
        templateQueryNames = lo.compiled.queryNames;
        operationResponses = lo.compiled.operation.responses ?? [];
        pipeline = lo.pipelines.get(productKey) ?? this.globalPipeline;
        (request as { matchedParameters: ReadonlyMap<string, string> }).matchedParameters = m.params;
        if (access.failure) initial = access.failure;
      }
      relative = matchedApi.relative;
    }
    const matched = matchedApi?.api;
    const su = matched?.serviceUrl;
    const target = matched && su
      ? { scheme: su.scheme, host: su.host, port: su.port, basePath: matched.serviceBasePath, backendId: undefined }
      : { scheme: 'https', host: req.host, port: req.port, basePath: '', backendId: undefined };
    const st = new RequestState(ctx, this.services, target, relative);
    st.templateQueryNames = templateQueryNames;
    st.operationResponses = operationResponses;
    st.updateUrl();
    let lastError: string | undefined;
    try {
      if (preflightOnly) {
        const cors = pipeline.inbound.filter((s) => s.name === 'cors');
        const r = runSteps(cors, st);
        if (r) await r;
        if (!st.done) {
          const out = await runPipeline(pipeline, st, notFound());
          lastError = out.failure?.reason;
        }
      } else {
        const out = await runPipeline(pipeline, st, initial);
        lastError = out.failure?.reason;
        if (out.onErrorFailure) this.logger.log({ level: 'warn', msg: 'on-error failed', reason: out.onErrorFailure.reason, message: out.onErrorFailure.message });
      }
    } catch (e) {
      setErrorResponse(ctx, 500, 'Internal Server Error', 'Internal server error');
      this.logger.log({ level: 'error', msg: 'pipeline crashed', error: messageOf(e) });
      st.logReason = 'internal_error';
    }
    return { response: ctx.response, extraHeaders: st.extraResponseHeaders, logReason: st.logReason, api: matchedApi?.api.api.name, operation: opName, lastError };
  }

  private resolveAccess(la: LoadedApi, headers: HeaderMap, query: readonly (readonly [string, string])[]): { product?: LoadedProduct; subscription?: LoadedSubscription; failure?: PolicyFailure } {
    const names = la.api.subscriptionKeyParameterNames;
    const key = headers.get(names.header) ?? query.find(([k]) => k === names.query)?.[1];
    if (key !== undefined) {
      const s = this.subscriptionsByKey.get(key);
      if (s && s.sub.state === 'active') {
        const scope = s.sub.scope;
        if (scope.kind === 'all') return { subscription: s };
        if (scope.kind === 'api' && scope.api.toLowerCase() === la.api.name.toLowerCase()) return { subscription: s };
        if (scope.kind === 'product') {
          const p = la.products.find((x) => x.product.name.toLowerCase() === scope.product.toLowerCase());
          if (p) return { subscription: s, product: p };
        }
      }
      return {
        failure: new PolicyFailure({
          source: 'authorization',
          reason: 'SubscriptionKeyInvalid',
          message: 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.',
          status: 401,
          statusReason: 'Access Denied',
          logReason: 'subscription_key_invalid',
        }),
      };
    }
    const open = la.products.find((p) => !p.product.subscriptionRequired);
    if (open) return { product: open };
    if (!la.api.subscriptionRequired) return {};
    return {
      failure: new PolicyFailure({
        source: 'authorization',
        reason: 'SubscriptionKeyNotFound',
        message: 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
        status: 401,
        statusReason: 'Access Denied',
        logReason: 'subscription_key_missing',
      }),
    };
  }
}

const NO_NAMES: ReadonlySet<string> = new Set();
const NO_RESPONSES: NonNullable<ApimOperation['responses']> = Object.freeze([]);
const isStatusPath = (lower: string) => lower === STATUS_PATH || lower === INTERNAL_STATUS_PATH;

function notFound(): PolicyFailure {
  return new PolicyFailure({
    source: 'configuration',
    reason: 'OperationNotFound',
    message: 'Unable to match incoming request to an operation.',
    status: 404,
    statusReason: 'Resource Not Found',
    bodyMessage: 'Resource not found',
    logReason: 'operation_not_found',
  });
}
