/**
 * The API Management model: a Microsoft.ApiManagement/service resource with its children, as the
 * runtime (src/apim) consumes it. Plain, read-only, JSON-serialisable data: policy documents are
 * kept as text (compiled by src/policy at start) and certificates as data sources (loaded by the
 * runtime through src/pki), so that a front-end never needs a runtime to build a model.
 *
 * Names follow the ARM properties (hostnameConfigurations, virtualNetworkType, urlTemplate,
 * subscriptionRequired, serviceUrl …) so that a user who knows Azure can grep for them.
 */
import type { DataSource } from '../core/datasource.js';
import type { Secret } from '../core/secret.js';

export type ApimVirtualNetworkType = 'None' | 'External' | 'Internal';

/** Where a resource or value was declared, for diagnostics: a JSON path, and the file when known. */
export interface ApimOrigin {
  /** The declaring file (Bicep/JSON), or the resource name when no file is known. */
  readonly file?: string;
  /** JSON path of the resource in the input, e.g. `resources[3]`. */
  readonly path: string;
}

/** A certificate in the service's CA stores (properties.certificates[]). */
export interface ApimCaCertificate {
  readonly storeName: 'Root' | 'CertificateAuthority';
  /** encodedCertificate: base64 (DER or PFX). */
  readonly data: DataSource;
  readonly password?: Secret<string>;
  readonly origin: ApimOrigin;
}

/** Microsoft.ApiManagement/service/certificates: a certificate entity (context.Deployment.Certificates). */
export interface ApimCertificate {
  /** The entity id: the last segment of the resource name ('dev-client-01'). */
  readonly name: string;
  /** properties.data: base64 DER or PFX. */
  readonly data: DataSource;
  readonly password?: Secret<string>;
  readonly origin: ApimOrigin;
}

export interface ApimHostnameConfiguration {
  readonly type: 'Proxy' | 'Portal' | 'Management' | 'Scm' | 'DeveloperPortal' | 'ConfigurationApi';
  readonly hostName: string;
  readonly certificateSource: 'BuiltIn' | 'Custom' | 'KeyVault' | 'Managed';
  readonly negotiateClientCertificate: boolean;
  readonly defaultSslBinding: boolean;
  /** A custom certificate (encodedCertificate + certificatePassword). */
  readonly certificate?: { readonly data: DataSource; readonly password?: Secret<string> };
}

/** A policy document as written: rawxml or xml text (an xml-link / rawxml-link is resolved to its file). */
export interface ApimPolicyDocument {
  readonly format: 'rawxml' | 'xml';
  readonly value: string;
  /** The policy file when it came from loadTextContent() or a link, else a synthetic name. */
  readonly file: string;
  readonly origin: ApimOrigin;
}

export interface ApimTemplateParameter {
  readonly name: string;
  readonly type?: string;
  readonly required: boolean;
  readonly defaultValue?: string;
  readonly values?: readonly string[];
}

/** An operation's documented response (properties.responses), used by mock-response. */
export interface ApimOperationResponse {
  readonly statusCode: number;
  readonly representations: readonly { readonly contentType: string; readonly example?: string }[];
}

export interface ApimOperation {
  /** Resource name: 'validate-using-policy'. */
  readonly name: string;
  readonly displayName: string;
  readonly method: string;
  /** '/customers/{cid}/orders/{oid}/?date={date}' */
  readonly urlTemplate: string;
  readonly templateParameters: readonly ApimTemplateParameter[];
  /** Documented responses with their examples (mock-response answers with them). */
  readonly responses?: readonly ApimOperationResponse[];
  readonly policy?: ApimPolicyDocument;
  readonly origin: ApimOrigin;
}

export interface ApimApi {
  readonly name: string;
  readonly displayName: string;
  /** The API URL suffix without leading or trailing '/': 'client-cert'; '' for the root. */
  readonly path: string;
  readonly protocols: readonly string[];
  /** Web service URL; undefined when none was given. */
  readonly serviceUrl?: string;
  readonly subscriptionRequired: boolean;
  readonly subscriptionKeyParameterNames: { readonly header: string; readonly query: string };
  readonly apiVersion?: string;
  readonly apiVersionSetId?: string;
  /** The version set named by apiVersionSetId, resolved: how the version is chosen. */
  readonly versionSet?: ApimVersionSet;
  readonly operations: readonly ApimOperation[];
  readonly policy?: ApimPolicyDocument;
  readonly origin: ApimOrigin;
}

/** Microsoft.ApiManagement/service/apiVersionSets. */
export interface ApimVersionSet {
  readonly name: string;
  /** Segment: /{path}/{version}/…; Header: versionHeaderName; Query: versionQueryName. */
  readonly versioningScheme: 'Segment' | 'Header' | 'Query';
  readonly versionHeaderName?: string;
  readonly versionQueryName?: string;
}

/** Microsoft.ApiManagement/service/policyFragments: statements inserted by <include-fragment fragment-id=""/>. */
export interface ApimPolicyFragment {
  readonly name: string;
  readonly format: 'rawxml' | 'xml';
  readonly value: string;
  readonly file: string;
  readonly origin: ApimOrigin;
}

export interface ApimProduct {
  readonly name: string;
  readonly displayName: string;
  readonly subscriptionRequired: boolean;
  readonly approvalRequired: boolean;
  readonly state: 'published' | 'notPublished';
  /** Names of the APIs in the product (products/apis children or productApis). */
  readonly apis: readonly string[];
  readonly policy?: ApimPolicyDocument;
  readonly origin: ApimOrigin;
}

export type ApimSubscriptionScope =
  | { readonly kind: 'all' } // /apis (all APIs) or the service itself (all-access)
  | { readonly kind: 'api'; readonly api: string }
  | { readonly kind: 'product'; readonly product: string };

export interface ApimSubscription {
  readonly name: string;
  readonly displayName: string;
  readonly scope: ApimSubscriptionScope;
  readonly primaryKey: Secret<string>;
  readonly secondaryKey: Secret<string>;
  readonly state: 'active' | 'suspended' | 'submitted' | 'rejected' | 'cancelled' | 'expired';
  readonly allowTracing: boolean;
  readonly origin: ApimOrigin;
}

export interface ApimNamedValue {
  /** The name used in {{…}}: displayName (the resource name when no displayName). */
  readonly displayName: string;
  readonly name: string;
  readonly value: Secret<string>;
  readonly secret: boolean;
  readonly origin: ApimOrigin;
}

export interface ApimBackend {
  readonly name: string;
  readonly url: string;
  readonly protocol: 'http' | 'soap';
  /** credentials.certificateIds: certificate entity names (or ids, resolved to names). */
  readonly certificateIds: readonly string[];
  readonly validateCertificateChain: boolean;
  readonly validateCertificateName: boolean;
  readonly origin: ApimOrigin;
}

export interface ApiManagementModel {
  readonly kind: 'apiManagement';
  readonly name: string;
  readonly id: string;
  readonly location?: string;
  readonly skuName: string;
  readonly virtualNetworkType: ApimVirtualNetworkType;
  readonly hostnameConfigurations: readonly ApimHostnameConfiguration[];
  readonly caCertificates: readonly ApimCaCertificate[];
  readonly certificates: readonly ApimCertificate[];
  readonly apis: readonly ApimApi[];
  readonly products: readonly ApimProduct[];
  readonly subscriptions: readonly ApimSubscription[];
  readonly namedValues: readonly ApimNamedValue[];
  readonly backends: readonly ApimBackend[];
  readonly policyFragments: readonly ApimPolicyFragment[];
  /** The global (service/policies) policy. */
  readonly policy?: ApimPolicyDocument;
  readonly origin: ApimOrigin;
}

/** The default gateway host name of a service: `<name>.azure-api.net`. */
export function defaultGatewayHostName(serviceName: string): string {
  return `${serviceName.toLowerCase()}.azure-api.net`;
}

/** The proxy host names a service answers on (the default host plus custom Proxy host names). */
export function proxyHostNames(model: ApiManagementModel): string[] {
  const names = new Set<string>([defaultGatewayHostName(model.name)]);
  for (const h of model.hostnameConfigurations) if (h.type === 'Proxy') names.add(h.hostName.toLowerCase());
  return [...names];
}
