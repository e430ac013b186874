/**
 * Adapter: a Microsoft.Network/applicationGateways resource as ARM shows it → ApplicationGatewayModel.
 *
 * Every problem is reported at once into the DiagnosticBag with the JSON path of the offending
 * value (`properties.httpListeners[1].properties.sslProfile.id`): unknown properties, ids inside
 * the gateway that point nowhere, missing required values, missing certificate passwords, two
 * listeners on one port and host. Ids that point outside the gateway (public IPs, subnets) are
 * resolved when that resource is in `ctx.resources` and otherwise ignored.
 *
 * Certificates are not parsed here (config/ may not import pki); the edge checks them at load.
 */
import { defineCodes } from '../../core/errors.js';
import type { DiagnosticBag } from '../../core/diagnostics.js';
import { Secret } from '../../core/secret.js';
import type { ArmResource, ResourceOrigin } from '../../model/resources.js';
import { parseResourceId } from '../../model/resources.js';
import {
  DEFAULT_SSL_POLICY,
  PREDEFINED_SSL_POLICIES,
  type ApplicationGatewayModel,
  type BackendAddressPool,
  type BackendHttpSettings,
  type ClientAuthConfiguration,
  type FrontendIPConfiguration,
  type FrontendPort,
  type HeaderConfiguration,
  type HttpListener,
  type PathRule,
  type Probe,
  type RedirectConfiguration,
  type RequestRoutingRule,
  type RewriteRule,
  type RewriteRuleCondition,
  type RewriteRuleSet,
  type SslCertificate,
  type SslPolicy,
  type SslProfile,
  type SslProtocolName,
  type TrustedClientCertificate,
  type TrustedRootCertificate,
  type UrlPathMap,
} from '../../model/applicationGateway.js';

export const AGW_CODES = defineCodes({
  GH_AGW_UNKNOWN_PROPERTY: 'An application gateway property is not part of the ARM schema (misspelt or misplaced).',
  GH_AGW_UNSUPPORTED_PROPERTY: 'An application gateway property is valid in Azure but Gatehouse does not run it; it is ignored.',
  GH_AGW_MISSING_PROPERTY: 'A property the application gateway needs is missing.',
  GH_AGW_INVALID_VALUE: 'An application gateway property has a value of the wrong type or outside its allowed range.',
  GH_AGW_DANGLING_ID: 'A reference inside the application gateway points to a child that does not exist.',
  GH_AGW_DUPLICATE_NAME: 'Two children of the same collection of the application gateway have the same name.',
  GH_AGW_CERTIFICATE_PASSWORD: 'An sslCertificate has PFX data but no password (Azure requires one).',
  GH_AGW_LISTENER_CLASH: 'Two listeners accept the same port and host name, or mix protocols on one port.',
  GH_AGW_PRIORITY: 'Request routing rule priorities are missing or not unique (1-20000, each rule its own).',
  GH_AGW_LIMIT: 'The application gateway exceeds one of Azure\'s limits (counts per gateway, per pool, per profile, per rewrite set; certificate sizes).',
});

export interface AdaptContext {
  readonly resources: readonly ArmResource[];
  readonly diagnostics: DiagnosticBag;
  readonly origin?: ResourceOrigin;
}

type Obj = Record<string, unknown>;

const RESOURCE_KEYS = ['type', 'name', 'apiVersion', 'id', 'location', 'tags', 'zones', 'identity', 'properties', 'dependsOn', 'etag', 'comments', 'condition', 'scope', 'copy', 'sku', 'kind', 'resourceGroup', 'subscriptionId'];
const CHILD_KEYS = ['name', 'id', 'etag', 'type', 'properties'];
const RO = ['provisioningState'];

/** Properties of `properties` (ARM 2025-03-01). Those in `run` are read; the others are accepted and ignored with a warning. */
const PROPS = {
  gateway: {
    run: ['sku', 'sslPolicy', 'enableHttp2', 'autoscaleConfiguration', 'gatewayIPConfigurations', 'frontendIPConfigurations', 'frontendPorts', 'sslCertificates', 'trustedClientCertificates', 'trustedRootCertificates', 'sslProfiles', 'httpListeners', 'backendAddressPools', 'backendHttpSettingsCollection', 'probes', 'rewriteRuleSets', 'requestRoutingRules', 'urlPathMaps', 'redirectConfigurations'],
    known: ['operationalState', 'resourceGuid', 'provisioningState', 'defaultPredefinedSslPolicy', 'authenticationCertificates', 'backendSettingsCollection', 'listeners', 'routingRules', 'webApplicationFirewallConfiguration', 'firewallPolicy', 'enableFips', 'privateLinkConfigurations', 'privateEndpointConnections', 'customErrorConfigurations', 'forceFirewallPolicyAssociation', 'loadDistributionPolicies', 'globalConfiguration', 'enableRequestBuffering', 'enableResponseBuffering', 'entraJWTValidationConfigs'],
  },
  frontendIPConfigurations: { run: ['publicIPAddress', 'privateIPAddress', 'privateIPAllocationMethod', 'subnet'], known: [...RO, 'privateLinkConfiguration'] },
  frontendPorts: { run: ['port'], known: RO },
  sslCertificates: { run: ['data', 'password', 'keyVaultSecretId'], known: [...RO, 'publicCertData'] },
  trustedClientCertificates: { run: ['data'], known: [...RO, 'validatedCertData', 'clientCertIssuerDN'] },
  trustedRootCertificates: { run: ['data', 'keyVaultSecretId'], known: RO },
  sslProfiles: { run: ['trustedClientCertificates', 'sslPolicy', 'clientAuthConfiguration'], known: [...RO, 'httpListeners', 'listeners'] },
  httpListeners: { run: ['protocol', 'frontendIPConfiguration', 'frontendPort', 'hostName', 'hostNames', 'sslCertificate', 'sslProfile', 'requireServerNameIndication'], known: [...RO, 'customErrorConfigurations', 'firewallPolicy'] },
  backendAddressPools: { run: ['backendAddresses'], known: [...RO, 'backendIPConfigurations'] },
  backendHttpSettingsCollection: {
    run: ['port', 'protocol', 'cookieBasedAffinity', 'affinityCookieName', 'requestTimeout', 'probe', 'hostName', 'pickHostNameFromBackendAddress', 'path', 'trustedRootCertificates', 'validateCertChainAndExpiry', 'validateSNI', 'sniName'],
    known: [...RO, 'connectionDraining', 'authenticationCertificates', 'probeEnabled', 'dedicatedBackendConnection'],
  },
  probes: { run: ['protocol', 'host', 'path', 'interval', 'timeout', 'unhealthyThreshold', 'pickHostNameFromBackendHttpSettings', 'minServers', 'match', 'port'], known: [...RO, 'pickHostNameFromBackendSettings', 'enableProbeProxyProtocolHeader'] },
  rewriteRuleSets: { run: ['rewriteRules'], known: RO },
  requestRoutingRules: { run: ['ruleType', 'priority', 'httpListener', 'backendAddressPool', 'backendHttpSettings', 'redirectConfiguration', 'rewriteRuleSet', 'urlPathMap'], known: [...RO, 'loadDistributionPolicy', 'entraJWTValidationConfig'] },
  urlPathMaps: { run: ['defaultBackendAddressPool', 'defaultBackendHttpSettings', 'defaultRedirectConfiguration', 'defaultRewriteRuleSet', 'pathRules'], known: [...RO, 'defaultLoadDistributionPolicy'] },
  redirectConfigurations: { run: ['redirectType', 'targetListener', 'targetUrl', 'includePath', 'includeQueryString'], known: [...RO, 'requestRoutingRules', 'urlPathMaps', 'pathRules'] },
} as const;

type Collection = Exclude<keyof typeof PROPS, 'gateway'>;
const COLLECTIONS = Object.keys(PROPS).filter((k) => k !== 'gateway') as Collection[];

class Reader {
  constructor(
    private readonly bag: DiagnosticBag,
    private readonly file: string | undefined,
    private readonly gatewayName: string,
    private readonly names: Map<Collection | 'gatewayIPConfigurations', Set<string>>,
    private readonly external: readonly ArmResource[],
  ) {}

  private at(path: string) {
    return this.file ? { file: this.file, path } : { path };
  }

  error(code: string, message: string, path: string): void {
    this.bag.error(code as `GH_${string}`, message, this.at(path));
  }

  warning(code: string, message: string, path: string): void {
    this.bag.warning(code as `GH_${string}`, message, this.at(path));
  }

  keys(o: Obj, allowed: readonly string[], known: readonly string[], path: string, what: string): void {
    for (const k of Object.keys(o)) {
      if (allowed.includes(k)) continue;
      if (known.includes(k)) {
        if (o[k] !== undefined && o[k] !== null && !RO.includes(k) && !['publicCertData', 'validatedCertData', 'clientCertIssuerDN', 'resourceGuid', 'operationalState', 'defaultPredefinedSslPolicy', 'backendIPConfigurations', 'httpListeners', 'listeners', 'requestRoutingRules', 'urlPathMaps', 'pathRules', 'privateIPAllocationMethod'].includes(k)) {
          this.warning(AGW_CODES.GH_AGW_UNSUPPORTED_PROPERTY, `${what}: '${k}' is not run by Gatehouse and is ignored`, join(path, k));
        }
        continue;
      }
      const near = [...allowed, ...known].find((a) => a.toLowerCase() === k.toLowerCase());
      this.error(AGW_CODES.GH_AGW_UNKNOWN_PROPERTY, `${what}: unknown property '${k}'${near ? ` (did you mean '${near}'?)` : ''}`, join(path, k));
    }
  }

  obj(v: unknown, path: string, required = false): Obj | undefined {
    if (v === undefined || v === null) {
      if (required) this.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `missing '${lastSegment(path)}'`, path);
      return undefined;
    }
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.error(AGW_CODES.GH_AGW_INVALID_VALUE, `'${lastSegment(path)}' must be an object`, path);
      return undefined;
    }
    return v as Obj;
  }

  arr(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.error(AGW_CODES.GH_AGW_INVALID_VALUE, `'${lastSegment(path)}' must be an array`, path);
      return [];
    }
    return v;
  }

  str(o: Obj, key: string, path: string, required = false): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `missing '${key}'`, join(path, key));
      return undefined;
    }
    if (typeof v !== 'string') {
      this.error(AGW_CODES.GH_AGW_INVALID_VALUE, `'${key}' must be a string`, join(path, key));
      return undefined;
    }
    return v;
  }

  num(o: Obj, key: string, path: string, min: number, max: number, required = false): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `missing '${key}'`, join(path, key));
      return undefined;
    }
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      this.error(AGW_CODES.GH_AGW_INVALID_VALUE, `'${key}' must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`, join(path, key));
      return undefined;
    }
    return n;
  }

  bool(o: Obj, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.error(AGW_CODES.GH_AGW_INVALID_VALUE, `'${key}' must be true or false`, join(path, key));
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[], required = false): T | undefined {
    const v = this.str(o, key, path, required);
    if (v === undefined) return undefined;
    const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (!hit) this.error(AGW_CODES.GH_AGW_INVALID_VALUE, `'${key}' must be one of ${values.join(', ')}, got '${v}'`, join(path, key));
    return hit;
  }

  /** A sub-resource reference `{ id }` into the collection; returns the child's name. */
  ref(o: Obj, key: string, path: string, collection: Collection, required = false): string | undefined {
    const r = this.obj(o[key], join(path, key), required);
    if (!r) return undefined;
    return this.refValue(r, join(path, key), collection);
  }

  refValue(r: Obj, path: string, collection: Collection): string | undefined {
    this.keys(r, ['id'], [], path, 'reference');
    const id = this.str(r, 'id', path, true);
    if (id === undefined) return undefined;
    const parsed = parseResourceId(id);
    const idPath = join(path, 'id');
    const expectedType = `microsoft.network/applicationgateways/${collection.toLowerCase()}`;
    if (!parsed || parsed.type.toLowerCase() !== expectedType) {
      this.error(AGW_CODES.GH_AGW_DANGLING_ID, `'${id}' is not an id of Microsoft.Network/applicationGateways/${collection}`, idPath);
      return undefined;
    }
    const [gw, child] = parsed.name.split('/');
    const existing = this.names.get(collection);
    const found = child !== undefined ? [...(existing ?? [])].find((n) => n.toLowerCase() === child.toLowerCase()) : undefined;
    if (gw?.toLowerCase() !== this.gatewayName.toLowerCase()) {
      this.error(AGW_CODES.GH_AGW_DANGLING_ID, `'${id}' points into application gateway '${gw}', not '${this.gatewayName}'`, idPath);
      return undefined;
    }
    if (found === undefined) {
      const list = [...(existing ?? [])];
      this.error(AGW_CODES.GH_AGW_DANGLING_ID, `no ${collection} named '${child}' in application gateway '${this.gatewayName}'${list.length ? ` (there is ${list.map((n) => `'${n}'`).join(', ')})` : ''}`, idPath);
      return undefined;
    }
    return found;
  }

  /** An id outside the gateway: the resource when it is in the input. */
  externalResource(id: string): ArmResource | undefined {
    return this.external.find((r) => r.id.toLowerCase() === id.toLowerCase());
  }
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

function lastSegment(path: string): string {
  return path.replace(/.*[.[]/, '').replace(/]$/, '');
}

/** Adapts one application gateway resource. Returns undefined only when it is not one. */
export function adaptApplicationGateway(resource: ArmResource, ctx: AdaptContext): ApplicationGatewayModel | undefined {
  if (resource.type.toLowerCase() !== 'microsoft.network/applicationgateways') return undefined;
  const bag = ctx.diagnostics;
  const gatewayName = resource.name;
  const names = new Map<Collection | 'gatewayIPConfigurations', Set<string>>();
  const pre = new Reader(bag, ctx.origin?.file, gatewayName, names, ctx.resources);
  // Resource-level keys are the front-end's business (ArmResource allows extra members such as
  // origin, symbolicName, runtime); only `properties` and below are checked against the schema.
  void RESOURCE_KEYS;
  const props = pre.obj(resource.properties, 'properties', true) ?? {};
  pre.keys(props, PROPS.gateway.run, PROPS.gateway.known, 'properties', 'application gateway');

  // First pass: names of every collection, so that references can be checked in any order.
  const children = new Map<Collection, { name: string; props: Obj; path: string }[]>();
  for (const c of COLLECTIONS) {
    const list: { name: string; props: Obj; path: string }[] = [];
    const seen = new Set<string>();
    pre.arr(props[c], `properties.${c}`).forEach((raw, i) => {
      const path = `properties.${c}[${i}]`;
      const child = pre.obj(raw, path, true);
      if (!child) return;
      pre.keys(child, CHILD_KEYS, [], path, c);
      const name = pre.str(child, 'name', path, true);
      if (name === undefined) return;
      if (seen.has(name.toLowerCase())) {
        pre.error(AGW_CODES.GH_AGW_DUPLICATE_NAME, `two ${c} are named '${name}'`, join(path, 'name'));
        return;
      }
      seen.add(name.toLowerCase());
      const p = pre.obj(child.properties, join(path, 'properties'), c !== 'frontendIPConfigurations' && c !== 'backendAddressPools') ?? {};
      pre.keys(p, PROPS[c].run, PROPS[c].known, join(path, 'properties'), `${c} '${name}'`);
      list.push({ name, props: p, path: join(path, 'properties') });
    });
    children.set(c, list);
    names.set(c, new Set(list.map((x) => x.name)));
  }
  const r = pre;
  const each = <T>(c: Collection, f: (p: Obj, path: string, name: string) => T | undefined): T[] =>
    children.get(c)!.map((x) => f(x.props, x.path, x.name)).filter((x): x is T => x !== undefined);

  const sslPolicy = (o: Obj | undefined, path: string): SslPolicy | undefined => {
    if (!o) return undefined;
    r.keys(o, ['policyType', 'policyName', 'minProtocolVersion', 'cipherSuites', 'disabledSslProtocols'], [], path, 'sslPolicy');
    const policyType = r.oneOf(o, 'policyType', path, ['Predefined', 'Custom', 'CustomV2'] as const);
    const policyName = r.str(o, 'policyName', path);
    let min = r.oneOf(o, 'minProtocolVersion', path, ['TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'] as const);
    if (policyName !== undefined) {
      const m = PREDEFINED_SSL_POLICIES[policyName];
      if (!m) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `unknown predefined policyName '${policyName}' (known: ${Object.keys(PREDEFINED_SSL_POLICIES).join(', ')})`, join(path, 'policyName'));
      else if (min === undefined) min = m;
    }
    const disabled = r.arr(o.disabledSslProtocols, join(path, 'disabledSslProtocols')).filter((x): x is SslProtocolName => typeof x === 'string');
    if (min === undefined && disabled.length) {
      min = (['TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'] as const).find((v) => !disabled.includes(v));
    }
    const cipherSuites = r.arr(o.cipherSuites, join(path, 'cipherSuites')).filter((x): x is string => typeof x === 'string');
    const out: SslPolicy = { policyType: policyType ?? (policyName ? 'Predefined' : 'Custom'), minProtocolVersion: min ?? 'TLSv1_2', cipherSuites };
    return policyName !== undefined ? { ...out, policyName } : out;
  };

  const frontendIPConfigurations = each<FrontendIPConfiguration>('frontendIPConfigurations', (p, path, name) => {
    const out: { -readonly [K in keyof FrontendIPConfiguration]: FrontendIPConfiguration[K] } = { name };
    const pip = r.obj(p.publicIPAddress, join(path, 'publicIPAddress'));
    if (pip) {
      const id = r.str(pip, 'id', join(path, 'publicIPAddress'), true);
      if (id !== undefined) {
        out.publicIPAddressId = id;
        const res = r.externalResource(id);
        const ip = res?.properties?.ipAddress;
        if (typeof ip === 'string') out.publicIPAddress = ip;
      }
    }
    const priv = r.str(p, 'privateIPAddress', path);
    if (priv !== undefined) out.privateIPAddress = priv;
    return out;
  });

  const frontendPorts = each<FrontendPort>('frontendPorts', (p, path, name) => {
    // v2: 1 to 64999 (spec 4.1).
    const port = r.num(p, 'port', path, 1, 64999, true);
    return port === undefined ? undefined : { name, port };
  });

  const sslCertificates = each<SslCertificate>('sslCertificates', (p, path, name) => {
    const data = r.str(p, 'data', path);
    const password = r.str(p, 'password', path);
    const kv = r.str(p, 'keyVaultSecretId', path);
    if (data === undefined && kv === undefined) r.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `sslCertificate '${name}' has neither 'data' nor 'keyVaultSecretId'`, join(path, 'data'));
    if (data !== undefined && (password === undefined || password === '')) r.error(AGW_CODES.GH_AGW_CERTIFICATE_PASSWORD, `sslCertificate '${name}' has PFX data but no password`, join(path, 'password'));
    if (kv !== undefined && data === undefined) r.warning(AGW_CODES.GH_AGW_UNSUPPORTED_PROPERTY, `sslCertificate '${name}': Key Vault references are not fetched locally; give 'data' and 'password'`, join(path, 'keyVaultSecretId'));
    const out: { -readonly [K in keyof SslCertificate]: SslCertificate[K] } = { name, path: join(path, 'data') };
    if (data !== undefined) out.data = data;
    if (password !== undefined) out.password = new Secret(password);
    if (kv !== undefined) out.keyVaultSecretId = kv;
    return out;
  });

  const trustedClientCertificates = each<TrustedClientCertificate>('trustedClientCertificates', (p, path, name) => {
    const data = r.str(p, 'data', path, true);
    return data === undefined ? undefined : { name, data, path: join(path, 'data') };
  });
  const trustedRootCertificates = each<TrustedRootCertificate>('trustedRootCertificates', (p, path, name) => {
    const data = r.str(p, 'data', path, true);
    return data === undefined ? undefined : { name, data, path: join(path, 'data') };
  });

  const sslProfiles = each<SslProfile>('sslProfiles', (p, path, name) => {
    const tcc = r.arr(p.trustedClientCertificates, join(path, 'trustedClientCertificates'))
      .map((x, i) => {
        const o = r.obj(x, join(path, `trustedClientCertificates[${i}]`), true);
        return o ? r.refValue(o, join(path, `trustedClientCertificates[${i}]`), 'trustedClientCertificates') : undefined;
      })
      .filter((x): x is string => x !== undefined);
    const out: { -readonly [K in keyof SslProfile]: SslProfile[K] } = { name, trustedClientCertificates: tcc };
    const pol = sslPolicy(r.obj(p.sslPolicy, join(path, 'sslPolicy')), join(path, 'sslPolicy'));
    if (pol) out.sslPolicy = pol;
    const ca = r.obj(p.clientAuthConfiguration, join(path, 'clientAuthConfiguration'));
    if (ca) {
      // ARM property names are case-insensitive; the MA-ARM sample writes VerifyClientCertIssuerDN.
      const norm: Obj = {};
      const capath = join(path, 'clientAuthConfiguration');
      const canon = ['verifyClientCertIssuerDN', 'verifyClientRevocation', 'verifyClientAuthMode'];
      for (const [k, v] of Object.entries(ca)) norm[canon.find((c) => c.toLowerCase() === k.toLowerCase()) ?? k] = v;
      r.keys(norm, canon, [], capath, 'clientAuthConfiguration');
      const cfg: ClientAuthConfiguration = {
        verifyClientCertIssuerDN: r.bool(norm, 'verifyClientCertIssuerDN', capath) ?? false,
        verifyClientRevocation: r.oneOf(norm, 'verifyClientRevocation', capath, ['None', 'OCSP'] as const) ?? 'None',
        verifyClientAuthMode: r.oneOf(norm, 'verifyClientAuthMode', capath, ['Strict', 'Passthrough'] as const) ?? 'Strict',
      };
      out.clientAuthConfiguration = cfg;
      if (cfg.verifyClientAuthMode === 'Strict' && tcc.length === 0) {
        r.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `sslProfile '${name}' verifies client certificates (Strict) but has no trustedClientCertificates`, join(path, 'trustedClientCertificates'));
      }
    } else if (tcc.length > 0) {
      out.clientAuthConfiguration = { verifyClientCertIssuerDN: false, verifyClientRevocation: 'None', verifyClientAuthMode: 'Strict' };
    }
    return out;
  });

  const portByName = new Map(frontendPorts.map((p) => [p.name, p.port]));
  const httpListeners = each<HttpListener>('httpListeners', (p, path, name) => {
    const protocol = r.oneOf(p, 'protocol', path, ['Http', 'Https'] as const, true);
    const fip = r.ref(p, 'frontendIPConfiguration', path, 'frontendIPConfigurations', true);
    const fport = r.ref(p, 'frontendPort', path, 'frontendPorts', true);
    const hostName = r.str(p, 'hostName', path);
    const hostNamesRaw = r.arr(p.hostNames, join(path, 'hostNames'));
    if (hostName !== undefined && hostNamesRaw.length) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `listener '${name}': hostName and hostNames cannot be used at once`, join(path, 'hostNames'));
    if (hostNamesRaw.length > 5) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `listener '${name}': at most 5 hostNames`, join(path, 'hostNames'));
    const hostNames: string[] = [];
    if (hostName !== undefined && hostName !== '') {
      if (!/^[A-Za-z0-9.-]+$/.test(hostName)) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `listener '${name}': hostName '${hostName}' may hold only A-Z a-z 0-9 - . (wildcards go in hostNames)`, join(path, 'hostName'));
      hostNames.push(hostName);
    }
    hostNamesRaw.forEach((h, i) => {
      const hp = join(path, `hostNames[${i}]`);
      if (typeof h !== 'string') return r.error(AGW_CODES.GH_AGW_INVALID_VALUE, 'host names are strings', hp);
      const problem = wildcardProblem(h);
      if (problem) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `listener '${name}': host name '${h}' ${problem}`, hp);
      hostNames.push(h);
    });
    const sslCertificate = r.ref(p, 'sslCertificate', path, 'sslCertificates');
    const sslProfile = r.ref(p, 'sslProfile', path, 'sslProfiles');
    if (protocol === 'Https' && !sslCertificate && p.sslCertificate === undefined) r.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `Https listener '${name}' needs an sslCertificate`, join(path, 'sslCertificate'));
    if (protocol === 'Http' && (p.sslCertificate !== undefined || p.sslProfile !== undefined)) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `Http listener '${name}' cannot have an sslCertificate or sslProfile`, path);
    if (!protocol || !fip || !fport) return undefined;
    const out: { -readonly [K in keyof HttpListener]: HttpListener[K] } = {
      name,
      protocol,
      frontendIPConfiguration: fip,
      frontendPort: fport,
      port: portByName.get(fport) ?? 0,
      hostNames,
      requireServerNameIndication: r.bool(p, 'requireServerNameIndication', path) ?? false,
    };
    if (sslCertificate) out.sslCertificate = sslCertificate;
    if (sslProfile) out.sslProfile = sslProfile;
    return out;
  });

  const backendAddressPools = each<BackendAddressPool>('backendAddressPools', (p, path, name) => ({
    name,
    backendAddresses: r.arr(p.backendAddresses, join(path, 'backendAddresses')).flatMap((a, i) => {
      const ap = join(path, `backendAddresses[${i}]`);
      const o = r.obj(a, ap, true);
      if (!o) return [];
      r.keys(o, ['fqdn', 'ipAddress'], [], ap, 'backend address');
      const fqdn = r.str(o, 'fqdn', ap);
      const ipAddress = r.str(o, 'ipAddress', ap);
      if (!fqdn === !ipAddress) {
        r.error(AGW_CODES.GH_AGW_INVALID_VALUE, 'a backend address has exactly one of fqdn or ipAddress', ap);
        return [];
      }
      return [fqdn ? { fqdn } : { ipAddress: ipAddress! }];
    }),
  }));

  const backendHttpSettingsCollection = each<BackendHttpSettings>('backendHttpSettingsCollection', (p, path, name) => {
    const port = r.num(p, 'port', path, 1, 65535, true);
    const protocol = r.oneOf(p, 'protocol', path, ['Http', 'Https'] as const, true);
    const roots = r.arr(p.trustedRootCertificates, join(path, 'trustedRootCertificates'))
      .map((x, i) => {
        const o = r.obj(x, join(path, `trustedRootCertificates[${i}]`), true);
        return o ? r.refValue(o, join(path, `trustedRootCertificates[${i}]`), 'trustedRootCertificates') : undefined;
      })
      .filter((x): x is string => x !== undefined);
    const hostName = r.str(p, 'hostName', path);
    const pick = r.bool(p, 'pickHostNameFromBackendAddress', path) ?? false;
    if (hostName && pick) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `backendHttpSettings '${name}': hostName and pickHostNameFromBackendAddress exclude each other`, join(path, 'pickHostNameFromBackendAddress'));
    const probe = r.ref(p, 'probe', path, 'probes');
    const pathOverride = r.str(p, 'path', path);
    const sni = r.str(p, 'sniName', path);
    if (port === undefined || !protocol) return undefined;
    const out: { -readonly [K in keyof BackendHttpSettings]: BackendHttpSettings[K] } = {
      name,
      port,
      protocol,
      cookieBasedAffinity: r.oneOf(p, 'cookieBasedAffinity', path, ['Enabled', 'Disabled'] as const) ?? 'Disabled',
      requestTimeout: r.num(p, 'requestTimeout', path, 1, 86400) ?? 20,
      pickHostNameFromBackendAddress: pick,
      trustedRootCertificates: roots,
      validateCertChainAndExpiry: r.bool(p, 'validateCertChainAndExpiry', path) ?? true,
      validateSNI: r.bool(p, 'validateSNI', path) ?? true,
    };
    const cookieName = r.str(p, 'affinityCookieName', path);
    if (cookieName !== undefined && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(cookieName)) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `'${cookieName}' is not a valid cookie name`, join(path, 'affinityCookieName'));
    else if (cookieName) out.affinityCookieName = cookieName;
    if (probe) out.probe = probe;
    if (hostName) out.hostName = hostName;
    if (pathOverride !== undefined) out.path = pathOverride;
    if (sni) out.sniName = sni;
    return out;
  });

  const probes = each<Probe>('probes', (p, path, name) => {
    const protocol = r.oneOf(p, 'protocol', path, ['Http', 'Https'] as const, true);
    const probePath = r.str(p, 'path', path, true);
    if (probePath !== undefined && !probePath.startsWith('/')) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `probe '${name}': path must start with '/'`, join(path, 'path'));
    const host = r.str(p, 'host', path);
    const pick = r.bool(p, 'pickHostNameFromBackendHttpSettings', path) ?? false;
    if (host && pick) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `probe '${name}': host and pickHostNameFromBackendHttpSettings exclude each other`, join(path, 'host'));
    const m = r.obj(p.match, join(path, 'match'));
    const statusCodes: [number, number][] = [];
    let body = '';
    if (m) {
      r.keys(m, ['statusCodes', 'body'], [], join(path, 'match'), 'probe match');
      r.arr(m.statusCodes, join(path, 'match.statusCodes')).forEach((s, i) => {
        const mm = typeof s === 'string' ? /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(s) : null;
        if (!mm) return r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `probe '${name}': status code '${String(s)}' is not NNN or NNN-NNN`, join(path, `match.statusCodes[${i}]`));
        statusCodes.push([Number(mm[1]), Number(mm[2] ?? mm[1])]);
      });
      body = r.str(m, 'body', join(path, 'match')) ?? '';
      if (body.length > 4090) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `probe '${name}': match.body is longer than 4090 characters`, join(path, 'match.body'));
    }
    if (!protocol || probePath === undefined) return undefined;
    const out: { -readonly [K in keyof Probe]: Probe[K] } = {
      name,
      protocol,
      path: probePath,
      interval: r.num(p, 'interval', path, 1, 86400) ?? 30,
      timeout: r.num(p, 'timeout', path, 1, 86400) ?? 30,
      unhealthyThreshold: r.num(p, 'unhealthyThreshold', path, 1, 20) ?? 3,
      pickHostNameFromBackendHttpSettings: pick,
      minServers: r.num(p, 'minServers', path, 0, 1200) ?? 0,
      match: { statusCodes: statusCodes.length ? statusCodes : [[200, 399]], body },
    };
    if (host) out.host = host;
    const port = r.num(p, 'port', path, 1, 65535);
    if (port !== undefined) out.port = port;
    return out;
  });

  const headerConfigs = (v: unknown, path: string): HeaderConfiguration[] =>
    r.arr(v, path).flatMap((h, i) => {
      const hp = `${path}[${i}]`;
      const o = r.obj(h, hp, true);
      if (!o) return [];
      r.keys(o, ['headerName', 'headerValue', 'headerValueMatcher'], [], hp, 'header configuration');
      const headerName = r.str(o, 'headerName', hp, true);
      const headerValue = r.str(o, 'headerValue', hp) ?? '';
      if (o.headerValueMatcher !== undefined && o.headerValueMatcher !== null) r.warning(AGW_CODES.GH_AGW_UNSUPPORTED_PROPERTY, 'headerValueMatcher is not implemented; the action applies to every value', join(hp, 'headerValueMatcher'));
      if (headerName === undefined) return [];
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(headerName)) {
        r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `'${headerName}' is not a valid header name`, join(hp, 'headerName'));
        return [];
      }
      const lower = headerName.toLowerCase();
      if (lower === 'connection' || lower === 'upgrade' || lower === 'x-original-host') {
        r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `the ${headerName} header cannot be rewritten`, join(hp, 'headerName'));
        return [];
      }
      if (lower === 'host' && headerValue === '') {
        r.error(AGW_CODES.GH_AGW_INVALID_VALUE, 'the Host header cannot be deleted', join(hp, 'headerValue'));
        return [];
      }
      return [{ headerName, headerValue }];
    });

  const rewriteRuleSets = each<RewriteRuleSet>('rewriteRuleSets', (p, path, name) => {
    const rules: RewriteRule[] = [];
    r.arr(p.rewriteRules, join(path, 'rewriteRules')).forEach((x, i) => {
      const rp = join(path, `rewriteRules[${i}]`);
      const o = r.obj(x, rp, true);
      if (!o) return;
      r.keys(o, ['name', 'ruleSequence', 'conditions', 'actionSet'], [], rp, 'rewrite rule');
      const conditions: RewriteRuleCondition[] = [];
      r.arr(o.conditions, join(rp, 'conditions')).forEach((c, j) => {
        const cp = join(rp, `conditions[${j}]`);
        const co = r.obj(c, cp, true);
        if (!co) return;
        r.keys(co, ['variable', 'pattern', 'ignoreCase', 'negate'], [], cp, 'condition');
        const variable = r.str(co, 'variable', cp, true);
        const pattern = r.str(co, 'pattern', cp, true);
        if (variable !== undefined && !/^(var_|http_req_|http_resp_)/.test(variable)) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `condition variable '${variable}' must start with var_, http_req_ or http_resp_`, join(cp, 'variable'));
        if (pattern !== undefined) {
          try {
            new RegExp(pattern);
          } catch (e) {
            r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `pattern is not a regular expression: ${(e as Error).message}`, join(cp, 'pattern'));
          }
        }
        if (variable !== undefined && pattern !== undefined) conditions.push({ variable, pattern, ignoreCase: r.bool(co, 'ignoreCase', cp) ?? false, negate: r.bool(co, 'negate', cp) ?? false });
      });
      const as = r.obj(o.actionSet, join(rp, 'actionSet'), true);
      if (!as) return;
      r.keys(as, ['requestHeaderConfigurations', 'responseHeaderConfigurations', 'urlConfiguration'], [], join(rp, 'actionSet'), 'actionSet');
      const req = headerConfigs(as.requestHeaderConfigurations, join(rp, 'actionSet.requestHeaderConfigurations'));
      const res = headerConfigs(as.responseHeaderConfigurations, join(rp, 'actionSet.responseHeaderConfigurations'));
      const uc = r.obj(as.urlConfiguration, join(rp, 'actionSet.urlConfiguration'));
      let urlConfiguration: RewriteRule['actionSet']['urlConfiguration'];
      if (uc) {
        const up = join(rp, 'actionSet.urlConfiguration');
        r.keys(uc, ['modifiedPath', 'modifiedQueryString', 'reroute'], [], up, 'urlConfiguration');
        const mp = r.str(uc, 'modifiedPath', up);
        const mq = r.str(uc, 'modifiedQueryString', up);
        urlConfiguration = { reroute: r.bool(uc, 'reroute', up) ?? false, ...(mp !== undefined ? { modifiedPath: mp } : {}), ...(mq !== undefined ? { modifiedQueryString: mq } : {}) };
      }
      if (!req.length && !res.length && !urlConfiguration && as.requestHeaderConfigurations === undefined && as.responseHeaderConfigurations === undefined) {
        r.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, 'ActionSet is a required field in a RewriteRule (ApplicationGatewayRewriteRuleSetActionSetInRewriteRuleCannotBeEmpty)', join(rp, 'actionSet'));
      }
      rules.push({
        name: r.str(o, 'name', rp) ?? `rule${i}`,
        ruleSequence: r.num(o, 'ruleSequence', rp, 0, 1000000) ?? 100,
        conditions,
        actionSet: { requestHeaderConfigurations: req, responseHeaderConfigurations: res, ...(urlConfiguration ? { urlConfiguration } : {}) },
      });
    });
    const sorted = rules.map((x, i) => [x, i] as const).sort((a, b) => a[0].ruleSequence - b[0].ruleSequence || a[1] - b[1]).map((x) => x[0]);
    return { name, rewriteRules: sorted };
  });

  const redirectConfigurations = each<RedirectConfiguration>('redirectConfigurations', (p, path, name) => {
    const redirectType = r.oneOf(p, 'redirectType', path, ['Permanent', 'Found', 'SeeOther', 'Temporary'] as const, true);
    const targetListener = r.ref(p, 'targetListener', path, 'httpListeners');
    const targetUrl = r.str(p, 'targetUrl', path);
    if (p.targetListener !== undefined && targetUrl !== undefined) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `redirectConfiguration '${name}': targetUrl cannot be used when targetListener is specified`, join(path, 'targetUrl'));
    if (p.targetListener === undefined && targetUrl === undefined) r.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `redirectConfiguration '${name}' needs targetListener or targetUrl`, path);
    if (!redirectType) return undefined;
    return {
      name,
      redirectType,
      includePath: r.bool(p, 'includePath', path) ?? false,
      includeQueryString: r.bool(p, 'includeQueryString', path) ?? false,
      ...(targetListener ? { targetListener } : {}),
      ...(targetUrl !== undefined ? { targetUrl } : {}),
    };
  });

  const urlPathMaps = each<UrlPathMap>('urlPathMaps', (p, path, name) => {
    const pathRules: PathRule[] = [];
    r.arr(p.pathRules, join(path, 'pathRules')).forEach((x, i) => {
      const pp = join(path, `pathRules[${i}]`);
      const o = r.obj(x, pp, true);
      if (!o) return;
      r.keys(o, CHILD_KEYS, [], pp, 'path rule');
      const pr = r.obj(o.properties, join(pp, 'properties'), true) ?? {};
      const prp = join(pp, 'properties');
      r.keys(pr, ['paths', 'backendAddressPool', 'backendHttpSettings', 'redirectConfiguration', 'rewriteRuleSet'], [...RO, 'firewallPolicy', 'loadDistributionPolicy'], prp, 'path rule');
      const paths = r.arr(pr.paths, join(prp, 'paths')).filter((s, j): s is string => {
        const ok = typeof s === 'string' && /^\/[^*?#]*\*?$/.test(s);
        if (!ok) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `path '${String(s)}' must start with / and may have * only at the end`, join(prp, `paths[${j}]`));
        return ok;
      });
      const rule: PathRule = {
        name: r.str(o, 'name', pp, true) ?? `pathRule${i}`,
        paths,
        ...opt('backendAddressPool', r.ref(pr, 'backendAddressPool', prp, 'backendAddressPools')),
        ...opt('backendHttpSettings', r.ref(pr, 'backendHttpSettings', prp, 'backendHttpSettingsCollection')),
        ...opt('redirectConfiguration', r.ref(pr, 'redirectConfiguration', prp, 'redirectConfigurations')),
        ...opt('rewriteRuleSet', r.ref(pr, 'rewriteRuleSet', prp, 'rewriteRuleSets')),
      };
      pathRules.push(rule);
    });
    return {
      name,
      pathRules,
      ...opt('defaultBackendAddressPool', r.ref(p, 'defaultBackendAddressPool', path, 'backendAddressPools')),
      ...opt('defaultBackendHttpSettings', r.ref(p, 'defaultBackendHttpSettings', path, 'backendHttpSettingsCollection')),
      ...opt('defaultRedirectConfiguration', r.ref(p, 'defaultRedirectConfiguration', path, 'redirectConfigurations')),
      ...opt('defaultRewriteRuleSet', r.ref(p, 'defaultRewriteRuleSet', path, 'rewriteRuleSets')),
    };
  });

  const priorities = new Map<number, string>();
  const listenersUsed = new Map<string, string>();
  const requestRoutingRules = each<RequestRoutingRule>('requestRoutingRules', (p, path, name) => {
    const ruleType = r.oneOf(p, 'ruleType', path, ['Basic', 'PathBasedRouting'] as const) ?? 'Basic';
    const priority = r.num(p, 'priority', path, 1, 20000, true);
    if (priority !== undefined) {
      const other = priorities.get(priority);
      if (other) r.error(AGW_CODES.GH_AGW_PRIORITY, `rules '${other}' and '${name}' have the same priority ${priority}`, join(path, 'priority'));
      priorities.set(priority, name);
    }
    const httpListener = r.ref(p, 'httpListener', path, 'httpListeners', true);
    if (httpListener) {
      const other = listenersUsed.get(httpListener);
      if (other) r.error(AGW_CODES.GH_AGW_LISTENER_CLASH, `listener '${httpListener}' is used by rules '${other}' and '${name}' (one listener, one rule)`, join(path, 'httpListener.id'));
      listenersUsed.set(httpListener, name);
    }
    const out: RequestRoutingRule = {
      name,
      ruleType,
      priority: priority ?? 20000,
      httpListener: httpListener ?? '',
      ...opt('backendAddressPool', r.ref(p, 'backendAddressPool', path, 'backendAddressPools')),
      ...opt('backendHttpSettings', r.ref(p, 'backendHttpSettings', path, 'backendHttpSettingsCollection')),
      ...opt('redirectConfiguration', r.ref(p, 'redirectConfiguration', path, 'redirectConfigurations')),
      ...opt('rewriteRuleSet', r.ref(p, 'rewriteRuleSet', path, 'rewriteRuleSets')),
      ...opt('urlPathMap', r.ref(p, 'urlPathMap', path, 'urlPathMaps')),
    };
    if (ruleType === 'Basic') {
      if (p.urlPathMap !== undefined) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `Basic rule '${name}' cannot have a urlPathMap`, join(path, 'urlPathMap'));
      const hasBackend = p.backendAddressPool !== undefined || p.backendHttpSettings !== undefined;
      if (p.redirectConfiguration !== undefined && hasBackend) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `rule '${name}': a redirect rule has no backendAddressPool/backendHttpSettings`, join(path, 'redirectConfiguration'));
      if (p.redirectConfiguration === undefined && (p.backendAddressPool === undefined || p.backendHttpSettings === undefined)) r.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `Basic rule '${name}' needs backendAddressPool and backendHttpSettings, or a redirectConfiguration`, path);
      const set = out.rewriteRuleSet && rewriteRuleSets.find((s) => s.name === out.rewriteRuleSet);
      if (set && set.rewriteRules.some((x) => x.actionSet.urlConfiguration?.reroute)) r.error(AGW_CODES.GH_AGW_INVALID_VALUE, `rule '${name}': you can't enable 'Reevaluate path map' (reroute) for basic request routing rules`, join(path, 'rewriteRuleSet'));
    } else if (p.urlPathMap === undefined) {
      r.error(AGW_CODES.GH_AGW_MISSING_PROPERTY, `PathBasedRouting rule '${name}' needs a urlPathMap`, join(path, 'urlPathMap'));
    }
    return httpListener ? out : undefined;
  });
  requestRoutingRules.sort((a, b) => a.priority - b.priority);

  // Limits of spec section 7.
  const limit = (what: string, n: number, max: number, path: string) => {
    if (n > max) r.error(AGW_CODES.GH_AGW_LIMIT, `${n} ${what}: Application Gateway allows at most ${max}`, path);
  };
  const counts: [Collection, string, number][] = [
    ['frontendPorts', 'frontend ports', 100],
    ['backendAddressPools', 'backend address pools', 100],
    ['httpListeners', 'HTTP listeners', 200],
    ['requestRoutingRules', 'request routing rules', 400],
    ['backendHttpSettingsCollection', 'backend HTTP settings', 100],
    ['sslCertificates', 'SSL certificates', 100],
    ['trustedClientCertificates', 'trusted client CA certificates', 200],
    ['trustedRootCertificates', 'trusted root certificates', 100],
    ['redirectConfigurations', 'redirect configurations', 100],
    ['rewriteRuleSets', 'rewrite rule sets', 400],
  ];
  for (const [c, what, max] of counts) limit(what, children.get(c)!.length, max, `properties.${c}`);
  backendAddressPools.forEach((p, i) => limit(`targets in backend pool '${p.name}'`, p.backendAddresses.length, 1200, `properties.backendAddressPools[${i}].properties.backendAddresses`));
  sslProfiles.forEach((p, i) => limit(`trusted client CA certificates in sslProfile '${p.name}'`, p.trustedClientCertificates.length, 100, `properties.sslProfiles[${i}].properties.trustedClientCertificates`));
  urlPathMaps.forEach((m, i) => limit(`path rules in urlPathMap '${m.name}'`, m.pathRules.length, 100, `properties.urlPathMaps[${i}].properties.pathRules`));
  rewriteRuleSets.forEach((set, i) => {
    const configs = set.rewriteRules.reduce((n, x) => n + x.actionSet.requestHeaderConfigurations.length + x.actionSet.responseHeaderConfigurations.length + (x.actionSet.urlConfiguration ? 1 : 0), 0);
    limit(`header or URL configurations in rewrite rule set '${set.name}'`, configs, 40, `properties.rewriteRuleSets[${i}]`);
    limit(`conditions in rewrite rule set '${set.name}'`, set.rewriteRules.reduce((n, x) => n + x.conditions.length, 0), 40, `properties.rewriteRuleSets[${i}]`);
  });
  sslCertificates.forEach((c, i) => {
    if (c.data !== undefined && Math.floor((c.data.replace(/\s/g, '').length * 3) / 4) > 16 * 1024) limit(`bytes in sslCertificate '${c.name}'`, Math.floor((c.data.length * 3) / 4), 16 * 1024, `properties.sslCertificates[${i}].properties.data`);
  });
  trustedClientCertificates.forEach((t, i) => {
    if (t.data.length > 25 * 1024) limit(`bytes in trustedClientCertificate '${t.name}'`, t.data.length, 25 * 1024, `properties.trustedClientCertificates[${i}].properties.data`);
  });

  // Listeners: one protocol per port; no two listeners on the same port with the same host name.
  const byPort = new Map<number, HttpListener[]>();
  for (const l of httpListeners) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  const listenerPath = (n: string) => `properties.httpListeners[${children.get('httpListeners')!.findIndex((x) => x.name === n)}]`;
  for (const [port, ls] of byPort) {
    if (new Set(ls.map((l) => l.protocol)).size > 1) r.error(AGW_CODES.GH_AGW_LISTENER_CLASH, `port ${port} has both Http and Https listeners (${ls.map((l) => l.name).join(', ')})`, join(listenerPath(ls[1]!.name), 'properties.frontendPort'));
    const seen = new Map<string, string>();
    for (const l of ls) {
      for (const h of l.hostNames.length ? l.hostNames : ['']) {
        const key = `${l.frontendIPConfiguration}|${h.toLowerCase()}`;
        const other = seen.get(key);
        if (other) r.error(AGW_CODES.GH_AGW_LISTENER_CLASH, `listeners '${other}' and '${l.name}' both accept ${h ? `host '${h}'` : 'every host'} on port ${port}`, join(listenerPath(l.name), 'properties'));
        else seen.set(key, l.name);
      }
    }
  }
  for (const l of httpListeners) {
    if (!requestRoutingRules.some((x) => x.httpListener === l.name)) r.warning(AGW_CODES.GH_AGW_MISSING_PROPERTY, `listener '${l.name}' is used by no request routing rule; Azure rejects this`, listenerPath(l.name));
  }

  const pr = pre.obj(props.sslPolicy, 'properties.sslPolicy');
  const gwPolicy = sslPolicy(pr, 'properties.sslPolicy') ?? DEFAULT_SSL_POLICY;
  const sku = pre.obj(props.sku, 'properties.sku');
  const autoscale = pre.obj(props.autoscaleConfiguration, 'properties.autoscaleConfiguration');
  const enableHttp2 = pre.bool(props, 'enableHttp2', 'properties') ?? false;
  const model: ApplicationGatewayModel = {
    kind: 'applicationGateway',
    name: gatewayName,
    id: resource.id,
    ...(sku ? { sku: { ...opt('name', typeof sku.name === 'string' ? sku.name : undefined), ...opt('tier', typeof sku.tier === 'string' ? sku.tier : undefined) } } : {}),
    enableHttp2,
    ...(autoscale
      ? {
          autoscaleConfiguration: {
            minCapacity: pre.num(autoscale, 'minCapacity', 'properties.autoscaleConfiguration', 0, 125) ?? 0,
            ...opt('maxCapacity', pre.num(autoscale, 'maxCapacity', 'properties.autoscaleConfiguration', 1, 125)),
          },
        }
      : {}),
    sslPolicy: gwPolicy,
    frontendIPConfigurations,
    frontendPorts,
    sslCertificates,
    trustedClientCertificates,
    trustedRootCertificates,
    sslProfiles,
    httpListeners,
    backendAddressPools,
    backendHttpSettingsCollection,
    probes,
    rewriteRuleSets,
    requestRoutingRules,
    urlPathMaps,
    redirectConfigurations,
    ...(ctx.origin ? { origin: ctx.origin } : {}),
  };
  return model;
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

/** Azure's wildcard host-name rules (spec 4.1); undefined when the name is fine. */
export function wildcardProblem(h: string): string | undefined {
  if (!/^[A-Za-z0-9.*?-]+$/.test(h)) return 'may hold only A-Z a-z 0-9 - . * ?';
  if (/\*\?|\?\*|\*\*/.test(h)) return "may not contain '*?', '?*' or '**'";
  const stars = (h.match(/\*/g) ?? []).length;
  if (stars > 2) return "may have at most two '*'";
  if ((h.match(/[*?]/g) ?? []).length > 4) return 'may have at most 4 wildcard characters';
  if (h.split('.').some((c) => (c.match(/\*/g) ?? []).length > 1)) return "may have '*' only once per label";
  return undefined;
}
