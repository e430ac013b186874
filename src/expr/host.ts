/**
 * The contract between the policy pipeline, which owns the request while it is processed, and
 * policy expressions, which read it through API Management's `context` object.
 *
 * The pipeline (src/policy) fills a HostContext and mutates it as policies run (set-header
 * changes request.headers, set-variable changes variables …). The expression runtime
 * (src/expr/runtime) wraps it in the .NET-shaped `context` that expressions see
 * (context.Request.Headers.GetValueOrDefault(…), context.Variables.GetValueOrDefault<T>(…) …).
 * Nothing in here knows about XML or about C#.
 */
import type { HeaderMap } from '../core/headers.js';
import type { Certificate } from '../pki/index.js';

export interface HostBody {
  /** The body bytes as buffered by the gateway; undefined when there is none. */
  bytes: Buffer | undefined;
}

export interface HostUrl {
  scheme: string; // 'https'
  host: string;
  port: number;
  path: string; // '/client-cert/validate-from-agw', starting with '/'
  /** Query parameters in order; names compare case-sensitively as in APIM. */
  query: [string, string][];
}

export interface HostRequest {
  method: string;
  url: HostUrl;
  /** The URL as the client sent it, before rewrite-uri (context.Request.OriginalUrl). */
  readonly originalUrl: HostUrl;
  headers: HeaderMap;
  body: HostBody;
  /** The caller's IP address (context.Request.IpAddress). */
  readonly ipAddress: string;
  /** The client certificate of the TLS connection, when one was negotiated (context.Request.Certificate). */
  readonly certificate: Certificate | undefined;
  /** Template parameters of the matched operation (context.Request.MatchedParameters). */
  readonly matchedParameters: ReadonlyMap<string, string>;
}

export interface HostResponse {
  statusCode: number;
  statusReason: string;
  headers: HeaderMap;
  body: HostBody;
}

export interface HostApi {
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly protocols: readonly string[];
  readonly serviceUrl: HostUrl | undefined;
  readonly subscriptionKeyParameterNames: { readonly header: string; readonly query: string };
  readonly version?: string;
  readonly revision?: string;
  readonly isCurrentRevision?: boolean;
}

export interface HostOperation {
  readonly id: string;
  readonly name: string;
  readonly method: string;
  readonly urlTemplate: string;
}

export interface HostProduct {
  readonly id: string;
  readonly name: string;
  readonly approvalRequired: boolean;
  readonly subscriptionRequired: boolean;
  readonly state: 'published' | 'notPublished';
}

export interface HostSubscription {
  readonly id: string;
  readonly name: string;
  readonly key: string;
  readonly primaryKey: string;
  readonly secondaryKey: string;
  readonly createdDate: Date;
  readonly startDate?: Date;
  readonly endDate?: Date;
}

export interface HostUser {
  readonly id: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly note?: string;
  readonly registrationDate?: Date;
  readonly groups: readonly { id: string; name: string }[];
}

/** context.LastError: set when a policy or expression fails, read in on-error. */
export interface HostLastError {
  readonly source: string; // policy name, e.g. 'validate-client-certificate', or 'configuration'
  readonly reason: string; // e.g. 'ClientCertificateNotFound', 'ExpressionValueEvaluationFailure'
  readonly message: string;
  readonly scope: string; // 'global' | 'product' | 'api' | 'operation'
  readonly section: string; // 'inbound' | 'backend' | 'outbound' | 'on-error'
  readonly path: string; // e.g. 'choose[1]\\when[1]'
  readonly policyId: string;
}

export interface HostDeployment {
  readonly region: string;
  readonly serviceName: string;
  readonly serviceId: string;
  readonly gatewayId: string;
  /** context.Deployment.Certificates: certificate id (resource name) → certificate. */
  readonly certificates: ReadonlyMap<string, Certificate>;
  /** Certificates of the service's Root and CertificateAuthority stores (used by X509Certificate2.Verify()). */
  readonly trustedRoots: readonly Certificate[];
  readonly intermediates: readonly Certificate[];
  /**
   * Parsed certificates by DER, owned by the service (bounded): `new X509Certificate2(bytes)` of a
   * certificate seen before returns the same Certificate, so its chain checks stay warm. Optional:
   * without it every construction parses.
   */
  readonly certificateCache?: { fromDer(der: Uint8Array): Certificate };
}

export interface HostContext {
  request: HostRequest;
  response: HostResponse;
  variables: Map<string, unknown>;
  readonly deployment: HostDeployment;
  api: HostApi | undefined;
  operation: HostOperation | undefined;
  product: HostProduct | undefined;
  subscription: HostSubscription | undefined;
  user: HostUser | undefined;
  lastError: HostLastError | undefined;
  readonly requestId: string;
  readonly timestamp: Date;
  /** Milliseconds since the request arrived. */
  elapsedMs(): number;
  readonly tracing: boolean;
  trace(source: string, message: string, severity?: 'verbose' | 'information' | 'error'): void;
  /** The validation time for certificates (tests fix it). */
  now(): Date;
}
