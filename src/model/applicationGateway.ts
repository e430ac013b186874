/**
 * Microsoft.Network/applicationGateways — the typed model the edge runs.
 *
 * Two layers, as design.md asks:
 * - `*Config` types: the resource as written (ARM JSON / Bicep after evaluation), Azure's names,
 *   every sub-resource reference an `{ id }`.
 * - the model (`ApplicationGatewayModel` and its parts): references resolved to the names of the
 *   children they point at, defaults applied, secrets wrapped. Plain and JSON-serialisable; the
 *   edge compiles it (secure contexts, regexes, rule lists) once at load.
 *
 * Facts and sources: ../shared/spec/app-gateway.md.
 */
import type { Secret } from '../core/secret.js';

// ---------------------------------------------------------------------------------------------
// As written
// ---------------------------------------------------------------------------------------------

export interface SubResourceConfig {
  readonly id: string;
}

/** Every child of the gateway has this envelope in ARM. */
export interface ChildConfig<P> {
  readonly name: string;
  readonly id?: string;
  readonly etag?: string;
  readonly type?: string;
  readonly properties?: P;
}

export type ApplicationGatewayProtocol = 'Http' | 'Https';
export type SslProtocolName = 'TLSv1_0' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3';
export type ClientAuthVerificationMode = 'Strict' | 'Passthrough';
export type ClientRevocationOption = 'None' | 'OCSP';
export type RequestRoutingRuleType = 'Basic' | 'PathBasedRouting';
export type RedirectType = 'Permanent' | 'Found' | 'SeeOther' | 'Temporary';

export interface SslPolicyConfig {
  readonly policyType?: 'Predefined' | 'Custom' | 'CustomV2';
  readonly policyName?: string;
  readonly minProtocolVersion?: SslProtocolName;
  readonly cipherSuites?: readonly string[];
  readonly disabledSslProtocols?: readonly SslProtocolName[];
}

export interface ClientAuthConfigurationConfig {
  readonly verifyClientCertIssuerDN?: boolean;
  readonly verifyClientRevocation?: ClientRevocationOption;
  readonly verifyClientAuthMode?: ClientAuthVerificationMode;
}

export interface RewriteRuleConditionConfig {
  readonly variable: string;
  readonly pattern: string;
  readonly ignoreCase?: boolean;
  readonly negate?: boolean;
}

export interface HeaderConfigurationConfig {
  readonly headerName: string;
  readonly headerValue?: string | null;
  readonly headerValueMatcher?: { readonly pattern?: string; readonly ignoreCase?: boolean; readonly negate?: boolean };
}

export interface UrlConfigurationConfig {
  readonly modifiedPath?: string | null;
  readonly modifiedQueryString?: string | null;
  readonly reroute?: boolean;
}

export interface RewriteRuleConfig {
  readonly name?: string;
  readonly ruleSequence?: number;
  readonly conditions?: readonly RewriteRuleConditionConfig[];
  readonly actionSet: {
    readonly requestHeaderConfigurations?: readonly HeaderConfigurationConfig[];
    readonly responseHeaderConfigurations?: readonly HeaderConfigurationConfig[];
    readonly urlConfiguration?: UrlConfigurationConfig;
  };
}

/** `properties` of the resource, as written. Only the members the edge reads are typed. */
export interface ApplicationGatewayPropertiesConfig {
  readonly sku?: { readonly name?: string; readonly tier?: string; readonly capacity?: number };
  readonly sslPolicy?: SslPolicyConfig;
  readonly enableHttp2?: boolean;
  readonly autoscaleConfiguration?: { readonly minCapacity?: number; readonly maxCapacity?: number };
  readonly frontendIPConfigurations?: readonly ChildConfig<{ publicIPAddress?: SubResourceConfig; privateIPAddress?: string; subnet?: SubResourceConfig }>[];
  readonly frontendPorts?: readonly ChildConfig<{ port: number }>[];
  readonly sslCertificates?: readonly ChildConfig<{ data?: string; password?: string; keyVaultSecretId?: string }>[];
  readonly trustedClientCertificates?: readonly ChildConfig<{ data?: string }>[];
  readonly trustedRootCertificates?: readonly ChildConfig<{ data?: string; keyVaultSecretId?: string }>[];
  readonly sslProfiles?: readonly ChildConfig<{ trustedClientCertificates?: readonly SubResourceConfig[]; sslPolicy?: SslPolicyConfig; clientAuthConfiguration?: ClientAuthConfigurationConfig }>[];
  readonly httpListeners?: readonly ChildConfig<Record<string, unknown>>[];
  readonly backendAddressPools?: readonly ChildConfig<{ backendAddresses?: readonly { fqdn?: string; ipAddress?: string }[] }>[];
  readonly backendHttpSettingsCollection?: readonly ChildConfig<Record<string, unknown>>[];
  readonly probes?: readonly ChildConfig<Record<string, unknown>>[];
  readonly rewriteRuleSets?: readonly ChildConfig<{ rewriteRules?: readonly RewriteRuleConfig[] }>[];
  readonly requestRoutingRules?: readonly ChildConfig<Record<string, unknown>>[];
  readonly urlPathMaps?: readonly ChildConfig<Record<string, unknown>>[];
  readonly redirectConfigurations?: readonly ChildConfig<Record<string, unknown>>[];
}

// ---------------------------------------------------------------------------------------------
// The model (references resolved to names, defaults applied)
// ---------------------------------------------------------------------------------------------

export interface SslPolicy {
  readonly policyType: 'Predefined' | 'Custom' | 'CustomV2';
  readonly policyName?: string;
  /** The effective minimum version (from the predefined policy when only a name is given). */
  readonly minProtocolVersion: SslProtocolName;
  readonly cipherSuites: readonly string[];
}

export interface FrontendIPConfiguration {
  readonly name: string;
  /** The id of the public IP resource, when the frontend is public. */
  readonly publicIPAddressId?: string;
  /** The resolved address of that public IP, when the resource was in the input. */
  readonly publicIPAddress?: string;
  readonly privateIPAddress?: string;
}

export interface FrontendPort {
  readonly name: string;
  readonly port: number;
}

export interface SslCertificate {
  readonly name: string;
  /** Base-64 PFX, as Azure stores it. */
  readonly data?: string;
  readonly password?: Secret<string>;
  readonly keyVaultSecretId?: string;
  /** JSON path of `data`, for messages. */
  readonly path: string;
}

export interface TrustedClientCertificate {
  readonly name: string;
  /** The uploaded chain (PEM or CER text, or base64). */
  readonly data: string;
  readonly path: string;
}

export interface TrustedRootCertificate {
  readonly name: string;
  readonly data: string;
  readonly path: string;
}

export interface ClientAuthConfiguration {
  readonly verifyClientCertIssuerDN: boolean;
  readonly verifyClientRevocation: ClientRevocationOption;
  /** Absent in the input means Strict (spec 1.2, inference). */
  readonly verifyClientAuthMode: ClientAuthVerificationMode;
}

export interface SslProfile {
  readonly name: string;
  readonly trustedClientCertificates: readonly string[];
  readonly sslPolicy?: SslPolicy;
  readonly clientAuthConfiguration?: ClientAuthConfiguration;
}

export interface HttpListener {
  readonly name: string;
  readonly protocol: ApplicationGatewayProtocol;
  readonly frontendIPConfiguration: string;
  readonly frontendPort: string;
  /** The port number of frontendPort, copied for convenience. */
  readonly port: number;
  /** hostName or hostNames; empty for a Basic listener. Wildcards `*` and `?` as Azure allows. */
  readonly hostNames: readonly string[];
  readonly requireServerNameIndication: boolean;
  readonly sslCertificate?: string;
  readonly sslProfile?: string;
}

export interface BackendAddress {
  readonly fqdn?: string;
  readonly ipAddress?: string;
}

export interface BackendAddressPool {
  readonly name: string;
  readonly backendAddresses: readonly BackendAddress[];
}

export interface BackendHttpSettings {
  readonly name: string;
  readonly port: number;
  readonly protocol: ApplicationGatewayProtocol;
  readonly cookieBasedAffinity: 'Enabled' | 'Disabled';
  /** Default ApplicationGatewayAffinity; a CORS twin `<name>CORS` is set beside it. */
  readonly affinityCookieName?: string;
  /** Seconds. */
  readonly requestTimeout: number;
  readonly probe?: string;
  readonly hostName?: string;
  readonly pickHostNameFromBackendAddress: boolean;
  readonly path?: string;
  readonly trustedRootCertificates: readonly string[];
  readonly validateCertChainAndExpiry: boolean;
  readonly validateSNI: boolean;
  readonly sniName?: string;
}

export interface ProbeMatch {
  /** Ranges, inclusive: '200-399' → [200, 399]. */
  readonly statusCodes: readonly (readonly [number, number])[];
  readonly body: string;
}

export interface Probe {
  readonly name: string;
  readonly protocol: ApplicationGatewayProtocol;
  readonly host?: string;
  readonly path: string;
  /** Seconds. */
  readonly interval: number;
  readonly timeout: number;
  readonly unhealthyThreshold: number;
  readonly pickHostNameFromBackendHttpSettings: boolean;
  readonly minServers: number;
  readonly match: ProbeMatch;
  readonly port?: number;
}

export interface RewriteRuleCondition {
  readonly variable: string;
  readonly pattern: string;
  readonly ignoreCase: boolean;
  readonly negate: boolean;
}

export interface HeaderConfiguration {
  readonly headerName: string;
  /** Empty string means delete (Azure: "Header will be deleted if this is omitted"). */
  readonly headerValue: string;
}

export interface UrlConfiguration {
  readonly modifiedPath?: string;
  readonly modifiedQueryString?: string;
  readonly reroute: boolean;
}

export interface RewriteRule {
  readonly name: string;
  readonly ruleSequence: number;
  readonly conditions: readonly RewriteRuleCondition[];
  readonly actionSet: {
    readonly requestHeaderConfigurations: readonly HeaderConfiguration[];
    readonly responseHeaderConfigurations: readonly HeaderConfiguration[];
    readonly urlConfiguration?: UrlConfiguration;
  };
}

export interface RewriteRuleSet {
  readonly name: string;
  /** Sorted by ruleSequence (stable: equal sequences keep their written order). */
  readonly rewriteRules: readonly RewriteRule[];
}

export interface RedirectConfiguration {
  readonly name: string;
  readonly redirectType: RedirectType;
  readonly targetListener?: string;
  readonly targetUrl?: string;
  readonly includePath: boolean;
  readonly includeQueryString: boolean;
}

export interface PathRule {
  readonly name: string;
  readonly paths: readonly string[];
  readonly backendAddressPool?: string;
  readonly backendHttpSettings?: string;
  readonly redirectConfiguration?: string;
  readonly rewriteRuleSet?: string;
}

export interface UrlPathMap {
  readonly name: string;
  readonly defaultBackendAddressPool?: string;
  readonly defaultBackendHttpSettings?: string;
  readonly defaultRedirectConfiguration?: string;
  readonly defaultRewriteRuleSet?: string;
  readonly pathRules: readonly PathRule[];
}

export interface RequestRoutingRule {
  readonly name: string;
  readonly ruleType: RequestRoutingRuleType;
  readonly priority: number;
  readonly httpListener: string;
  readonly backendAddressPool?: string;
  readonly backendHttpSettings?: string;
  readonly redirectConfiguration?: string;
  readonly rewriteRuleSet?: string;
  readonly urlPathMap?: string;
}

export interface ApplicationGatewayModel {
  readonly kind: 'applicationGateway';
  readonly name: string;
  readonly id: string;
  readonly sku?: { readonly name?: string; readonly tier?: string };
  readonly enableHttp2: boolean;
  readonly autoscaleConfiguration?: { readonly minCapacity: number; readonly maxCapacity?: number };
  /** The gateway's default TLS policy (AppGwSslPolicy20220101 when absent: TLS 1.2 minimum). */
  readonly sslPolicy: SslPolicy;
  readonly frontendIPConfigurations: readonly FrontendIPConfiguration[];
  readonly frontendPorts: readonly FrontendPort[];
  readonly sslCertificates: readonly SslCertificate[];
  readonly trustedClientCertificates: readonly TrustedClientCertificate[];
  readonly trustedRootCertificates: readonly TrustedRootCertificate[];
  readonly sslProfiles: readonly SslProfile[];
  readonly httpListeners: readonly HttpListener[];
  readonly backendAddressPools: readonly BackendAddressPool[];
  readonly backendHttpSettingsCollection: readonly BackendHttpSettings[];
  readonly probes: readonly Probe[];
  readonly rewriteRuleSets: readonly RewriteRuleSet[];
  /** Sorted by priority, highest (1) first. */
  readonly requestRoutingRules: readonly RequestRoutingRule[];
  readonly urlPathMaps: readonly UrlPathMap[];
  readonly redirectConfigurations: readonly RedirectConfiguration[];
  /** Where the resource was declared, for messages. */
  readonly origin?: { readonly file: string; readonly line?: number; readonly column?: number };
}

/** The predefined policies of spec 4.6: name → minimum protocol version. */
export const PREDEFINED_SSL_POLICIES: Readonly<Record<string, SslProtocolName>> = {
  AppGwSslPolicy20150501: 'TLSv1_0',
  AppGwSslPolicy20170401: 'TLSv1_1',
  AppGwSslPolicy20170401S: 'TLSv1_2',
  AppGwSslPolicy20220101: 'TLSv1_2',
  AppGwSslPolicy20220101S: 'TLSv1_2',
};

export const DEFAULT_SSL_POLICY: SslPolicy = {
  policyType: 'Predefined',
  policyName: 'AppGwSslPolicy20220101',
  minProtocolVersion: 'TLSv1_2',
  cipherSuites: [],
};

/** Defaults of the default probe (spec 5.3). */
export const DEFAULT_PROBE = { interval: 30, timeout: 30, unhealthyThreshold: 3, statusCodes: [[200, 399]] as const } as const;
