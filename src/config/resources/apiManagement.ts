/**
 * ARM resources → the API Management model. Child resources arrive as separate resources whose
 * names carry their parents ('apim/client-cert-api/validate-from-agw/policy'); they are attached
 * to their parent here. Every problem is reported with the resource and the JSON path inside it,
 * all at once; the model is still returned so that callers can report more, but it must not be
 * started when the bag has errors.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiagnosticBag } from '../../core/diagnostics.js';
import type { DataSource } from '../../core/datasource.js';
import { defineCodes } from '../../core/errors.js';
import { Secret } from '../../core/secret.js';
import type { ArmResource } from '../../model/resources.js';
import { parseResourceId } from '../../model/resources.js';
import type {
  ApiManagementModel,
  ApimApi,
  ApimBackend,
  ApimCaCertificate,
  ApimCertificate,
  ApimHostnameConfiguration,
  ApimNamedValue,
  ApimOperation,
  ApimOperationResponse,
  ApimOrigin,
  ApimPolicyDocument,
  ApimPolicyFragment,
  ApimProduct,
  ApimVersionSet,
  ApimSubscription,
  ApimSubscriptionScope,
  ApimTemplateParameter,
  ApimVirtualNetworkType,
} from '../../model/apiManagement.js';

export const ApimConfigCodes = defineCodes({
  GH_APIM_CONFIG_INVALID: 'An API Management resource has a property with a wrong type or value.',
  GH_APIM_CONFIG_MISSING: 'An API Management resource lacks a required property.',
  GH_APIM_CONFIG_ORPHAN: 'An API Management child resource names a parent that is not declared.',
  GH_APIM_CONFIG_UNSUPPORTED: 'An API Management feature that Gatehouse cannot run locally (Key Vault references, remote policy links …).',
});

const PREFIX = 'microsoft.apimanagement/service';

type Props = Record<string, unknown>;

interface Ctx {
  readonly diagnostics: DiagnosticBag;
  readonly baseDir: string;
}

function originOf(r: ArmResource, index: number): ApimOrigin {
  const o = r['origin'] as { file?: unknown } | undefined;
  const file = o && typeof o.file === 'string' ? o.file : undefined;
  return file ? { file, path: `resources[${index}]` } : { path: `resources[${index}]` };
}

class Reader {
  constructor(
    readonly ctx: Ctx,
    readonly r: ArmResource,
    readonly origin: ApimOrigin,
  ) {}

  private where(path: string) {
    return { file: this.origin.file ?? this.r.name, path };
  }
  error(path: string, message: string, code: string = ApimConfigCodes.GH_APIM_CONFIG_INVALID): void {
    this.ctx.diagnostics.error(code as `GH_${string}`, `${this.r.name}: ${message}`, this.where(path));
  }
  warning(path: string, message: string, code: string = ApimConfigCodes.GH_APIM_CONFIG_UNSUPPORTED): void {
    this.ctx.diagnostics.warning(code as `GH_${string}`, `${this.r.name}: ${message}`, this.where(path));
  }
  get props(): Props {
    const p = this.r.properties;
    return p && typeof p === 'object' ? (p as Props) : {};
  }
  str(obj: Props, key: string, path: string, opts: { required?: boolean } = {}): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (opts.required) this.error(`${path}.${key}`, `'${key}' is required`, ApimConfigCodes.GH_APIM_CONFIG_MISSING);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.error(`${path}.${key}`, `'${key}' must be a string, got ${typeof v}`);
      return undefined;
    }
    return v;
  }
  bool(obj: Props, key: string, path: string, dflt: boolean): boolean {
    const v = obj[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.error(`${path}.${key}`, `'${key}' must be a boolean, got ${JSON.stringify(v)}`);
    return dflt;
  }
  arr(obj: Props, key: string, path: string): unknown[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.error(`${path}.${key}`, `'${key}' must be an array`);
      return [];
    }
    return v;
  }
  obj(v: unknown, path: string): Props | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.error(path, `must be an object`);
      return undefined;
    }
    return v as Props;
  }
  enumOf<T extends string>(obj: Props, key: string, path: string, values: readonly T[], dflt: T): T {
    const v = this.str(obj, key, path);
    if (v === undefined) return dflt;
    const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (!hit) {
      this.error(`${path}.${key}`, `'${key}' must be one of ${values.join(', ')}, got '${v}'`);
      return dflt;
    }
    return hit;
  }
}

function base64Source(text: string, origin: string): DataSource {
  return { kind: 'base64', base64: text.replace(/\s+/g, ''), origin };
}

/** The last segment of a name or resource id ('/subscriptions/…/certificates/dev-client-01' → 'dev-client-01'). */
function lastSegment(idOrName: string): string {
  const parsed = parseResourceId(idOrName);
  const name = parsed ? parsed.name : idOrName;
  const parts = name.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? '';
}

interface Pending {
  service: { r: ArmResource; origin: ApimOrigin; index: number };
  certificates: ApimCertificate[];
  apis: Map<string, { r: Reader; api: Omit<ApimApi, 'operations' | 'policy'>; operations: Map<string, Omit<ApimOperation, 'policy'> & { policy?: ApimPolicyDocument }>; policy?: ApimPolicyDocument }>;
  products: Map<string, { product: Omit<ApimProduct, 'apis' | 'policy'>; apis: string[]; policy?: ApimPolicyDocument }>;
  subscriptions: ApimSubscription[];
  namedValues: ApimNamedValue[];
  backends: ApimBackend[];
  versionSets: Map<string, ApimVersionSet>;
  fragments: ApimPolicyFragment[];
  policy?: ApimPolicyDocument;
}

/** Adapts every Microsoft.ApiManagement/service in `resources` (with its children) to the model. */
export function adaptApiManagement(resources: readonly ArmResource[], ctx: { diagnostics: DiagnosticBag; baseDir: string }): ApiManagementModel[] {
  const services = new Map<string, Pending>();
  const indexed = resources.map((r, index) => ({ r, index, type: r.type.toLowerCase(), names: r.name.split('/') }));
  for (const { r, index, type } of indexed) {
    if (type !== PREFIX) continue;
    services.set(r.name.toLowerCase(), {
      service: { r, origin: originOf(r, index), index },
      certificates: [],
      apis: new Map(),
      products: new Map(),
      subscriptions: [],
      namedValues: [],
      backends: [],
      versionSets: new Map(),
      fragments: [],
    });
  }
  // Parents before children: sort by depth.
  const deferred: (() => void)[] = [];
  const children = indexed.filter((x) => x.type.startsWith(PREFIX + '/')).sort((a, b) => a.names.length - b.names.length);
  for (const { r, index, type, names } of children) {
    const origin = originOf(r, index);
    const rd = new Reader(ctx, r, origin);
    const svc = services.get(names[0]!.toLowerCase());
    if (!svc) {
      rd.error('name', `parent service '${names[0]}' is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
      continue;
    }
    const sub = type.slice(PREFIX.length + 1);
    const p = rd.props;
    switch (sub) {
      case 'certificates':
        adaptCertificate(rd, names, svc);
        break;
      case 'apis':
        adaptApi(rd, names, svc);
        break;
      case 'apis/operations': {
        const api = svc.apis.get(apiKey(names[1]!));
        if (!api) {
          rd.error('name', `parent API '${names[1]}' is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
          break;
        }
        api.operations.set(names[2]!.toLowerCase(), adaptOperation(rd, names[2]!));
        break;
      }
      case 'policies':
        svc.policy = adaptPolicy(rd, ctx);
        break;
      case 'apis/policies': {
        const api = svc.apis.get(apiKey(names[1]!));
        if (!api) rd.error('name', `parent API '${names[1]}' is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
        else api.policy = adaptPolicy(rd, ctx);
        break;
      }
      case 'apis/operations/policies': {
        const api = svc.apis.get(apiKey(names[1]!));
        const op = api?.operations.get(names[2]!.toLowerCase());
        if (!op) rd.error('name', `parent operation '${names[1]}/${names[2]}' is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
        else op.policy = adaptPolicy(rd, ctx);
        break;
      }
      case 'products':
        svc.products.set(names[1]!.toLowerCase(), {
          product: {
            name: names[1]!,
            displayName: rd.str(p, 'displayName', 'properties') ?? names[1]!,
            subscriptionRequired: rd.bool(p, 'subscriptionRequired', 'properties', true),
            approvalRequired: rd.bool(p, 'approvalRequired', 'properties', false),
            state: rd.enumOf(p, 'state', 'properties', ['published', 'notPublished'] as const, 'notPublished'),
            origin,
          },
          apis: [],
        });
        break;
      case 'products/apis':
      case 'products/apilinks': {
        const product = svc.products.get(names[1]!.toLowerCase());
        if (!product) {
          rd.error('name', `parent product '${names[1]}' is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
          break;
        }
        const apiName = sub === 'products/apis' ? names[2]! : lastSegment(rd.str(p, 'apiId', 'properties', { required: true }) ?? '');
        if (apiName) product.apis.push(apiName);
        break;
      }
      case 'products/policies': {
        const product = svc.products.get(names[1]!.toLowerCase());
        if (!product) rd.error('name', `parent product '${names[1]}' is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
        else product.policy = adaptPolicy(rd, ctx);
        break;
      }
      case 'apiversionsets': {
        const scheme = rd.enumOf(p, 'versioningScheme', 'properties', ['Segment', 'Header', 'Query'] as const, 'Segment');
        const headerName = rd.str(p, 'versionHeaderName', 'properties');
        const queryName = rd.str(p, 'versionQueryName', 'properties');
        if (scheme === 'Header' && !headerName) rd.error('properties.versionHeaderName', "a Header versioning scheme needs 'versionHeaderName'", ApimConfigCodes.GH_APIM_CONFIG_MISSING);
        if (scheme === 'Query' && !queryName) rd.error('properties.versionQueryName', "a Query versioning scheme needs 'versionQueryName'", ApimConfigCodes.GH_APIM_CONFIG_MISSING);
        svc.versionSets.set(names[1]!.toLowerCase(), { name: names[1]!, versioningScheme: scheme, ...(headerName ? { versionHeaderName: headerName } : {}), ...(queryName ? { versionQueryName: queryName } : {}) });
        break;
      }
      case 'policyfragments': {
        const doc = adaptPolicy(rd, ctx);
        if (doc) svc.fragments.push({ name: names[1]!, format: doc.format, value: doc.value, file: doc.file, origin: doc.origin });
        break;
      }
      case 'subscriptions':
        deferred.push(() => adaptSubscription(rd, names[1]!, svc));
        break;
      case 'namedvalues':
      case 'properties': {
        const displayName = rd.str(p, 'displayName', 'properties') ?? names[1]!;
        if (p['keyVault'] !== undefined) rd.error('properties.keyVault', 'Key Vault named values are not supported locally; give the value inline', ApimConfigCodes.GH_APIM_CONFIG_UNSUPPORTED);
        const value = rd.str(p, 'value', 'properties', { required: p['keyVault'] === undefined }) ?? '';
        svc.namedValues.push({ name: names[1]!, displayName, value: new Secret(value), secret: rd.bool(p, 'secret', 'properties', false), origin });
        break;
      }
      case 'backends': {
        const creds = rd.obj(p['credentials'], 'properties.credentials') ?? {};
        const tls = rd.obj(p['tls'], 'properties.tls') ?? {};
        const url = rd.str(p, 'url', 'properties', { required: true }) ?? '';
        if (url && !/^https?:\/\//i.test(url)) rd.error('properties.url', `'url' must be an http or https URL, got '${url}'`);
        svc.backends.push({
          name: names[1]!,
          url,
          protocol: rd.enumOf(p, 'protocol', 'properties', ['http', 'soap'] as const, 'http'),
          certificateIds: rd.arr(creds, 'certificateIds', 'properties.credentials').map((c, i) => {
            if (typeof c !== 'string') {
              rd.error(`properties.credentials.certificateIds[${i}]`, 'must be a string');
              return '';
            }
            return lastSegment(c);
          }),
          validateCertificateChain: rd.bool(tls, 'validateCertificateChain', 'properties.tls', true),
          validateCertificateName: rd.bool(tls, 'validateCertificateName', 'properties.tls', true),
          origin,
        });
        break;
      }
      default:
        // Resources Gatehouse does not run (loggers, diagnostics, users, groups, portal settings …) are ignored.
        break;
    }
  }

  for (const f of deferred) f();
  const out: ApiManagementModel[] = [];
  for (const svc of services.values()) out.push(adaptService(ctx, svc));
  return out;
}

function apiKey(name: string): string {
  // 'echo-api;rev=2' is a revision of 'echo-api'; revisions are not run separately.
  return name.split(';')[0]!.toLowerCase();
}

function adaptService(ctx: Ctx, svc: Pending): ApiManagementModel {
  const { r, origin } = svc.service;
  const rd = new Reader(ctx, r, origin);
  const p = rd.props;
  const sku = r.sku && typeof r.sku === 'object' ? (r.sku as Props) : {};
  const vnet = rd.enumOf(p, 'virtualNetworkType', 'properties', ['None', 'External', 'Internal'] as const, 'None') as ApimVirtualNetworkType;

  const caCertificates: ApimCaCertificate[] = [];
  rd.arr(p, 'certificates', 'properties').forEach((c, i) => {
    const path = `properties.certificates[${i}]`;
    const o = rd.obj(c, path);
    if (!o) return;
    const storeName = rd.str(o, 'storeName', path, { required: true });
    if (storeName !== undefined && storeName !== 'Root' && storeName !== 'CertificateAuthority') {
      rd.error(`${path}.storeName`, `'storeName' must be Root or CertificateAuthority, got '${storeName}'`);
      return;
    }
    const enc = rd.str(o, 'encodedCertificate', path, { required: true });
    if (!enc || !storeName) return;
    const pw = rd.str(o, 'certificatePassword', path);
    caCertificates.push({ storeName, data: base64Source(enc, `${r.name} ${path}.encodedCertificate`), ...(pw ? { password: new Secret(pw) } : {}), origin: { ...origin, path: `${origin.path}.${path}` } });
  });

  const hostnameConfigurations: ApimHostnameConfiguration[] = [];
  rd.arr(p, 'hostnameConfigurations', 'properties').forEach((h, i) => {
    const path = `properties.hostnameConfigurations[${i}]`;
    const o = rd.obj(h, path);
    if (!o) return;
    const type = rd.enumOf(o, 'type', path, ['Proxy', 'Portal', 'Management', 'Scm', 'DeveloperPortal', 'ConfigurationApi'] as const, 'Proxy');
    const hostName = rd.str(o, 'hostName', path, { required: true }) ?? '';
    const enc = rd.str(o, 'encodedCertificate', path);
    const pw = rd.str(o, 'certificatePassword', path);
    const dflt = enc ? 'Custom' : 'BuiltIn';
    const source = rd.enumOf(o, 'certificateSource', path, ['BuiltIn', 'Custom', 'KeyVault', 'Managed'] as const, dflt);
    if (o['keyVaultId'] !== undefined) rd.error(`${path}.keyVaultId`, 'Key Vault certificates are not supported locally; give encodedCertificate instead', ApimConfigCodes.GH_APIM_CONFIG_UNSUPPORTED);
    if (source === 'Custom' && !enc) rd.error(`${path}.encodedCertificate`, `a Custom certificate source needs 'encodedCertificate'`, ApimConfigCodes.GH_APIM_CONFIG_MISSING);
    hostnameConfigurations.push({
      type,
      hostName,
      certificateSource: source,
      negotiateClientCertificate: rd.bool(o, 'negotiateClientCertificate', path, false),
      defaultSslBinding: rd.bool(o, 'defaultSslBinding', path, false),
      ...(enc ? { certificate: { data: base64Source(enc, `${r.name} ${path}.encodedCertificate`), ...(pw ? { password: new Secret(pw) } : {}) } } : {}),
    });
  });

  const apis: ApimApi[] = [];
  for (const a of svc.apis.values()) {
    const operations = [...a.operations.values()] as ApimOperation[];
    let versionSet: ApimVersionSet | undefined;
    if (a.api.apiVersionSetId) {
      versionSet = svc.versionSets.get(lastSegment(a.api.apiVersionSetId).toLowerCase());
      if (!versionSet) a.r.error('properties.apiVersionSetId', `apiVersionSetId names version set '${lastSegment(a.api.apiVersionSetId)}', which is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
    }
    apis.push({ ...a.api, operations, ...(versionSet ? { versionSet } : {}), ...(a.policy ? { policy: a.policy } : {}) });
  }
  // Duplicate API paths are a configuration error in Azure too.
  const seen = new Map<string, string>();
  for (const api of apis) {
    const key = `${api.path.toLowerCase()}|${api.apiVersion ?? ''}`;
    const other = seen.get(key);
    if (other) ctx.diagnostics.error(ApimConfigCodes.GH_APIM_CONFIG_INVALID, `APIs '${other}' and '${api.name}' have the same path '${api.path}'`, { file: api.origin.file ?? api.name, path: 'properties.path' });
    else seen.set(key, api.name);
  }
  const products: ApimProduct[] = [...svc.products.values()].map((x) => ({ ...x.product, apis: x.apis, ...(x.policy ? { policy: x.policy } : {}) }));
  for (const prod of products) {
    for (const a of prod.apis) {
      if (!svc.apis.has(apiKey(a))) ctx.diagnostics.error(ApimConfigCodes.GH_APIM_CONFIG_ORPHAN, `product '${prod.name}' names API '${a}', which is not declared`, { file: prod.origin.file ?? prod.name, path: 'name' });
    }
  }
  for (const b of svc.backends) {
    for (const c of b.certificateIds) {
      if (c && !svc.certificates.some((x) => x.name.toLowerCase() === c.toLowerCase())) {
        ctx.diagnostics.error(ApimConfigCodes.GH_APIM_CONFIG_ORPHAN, `backend '${b.name}' names certificate '${c}', which is not declared`, { file: b.origin.file ?? b.name, path: 'properties.credentials.certificateIds' });
      }
    }
  }
  return {
    kind: 'apiManagement',
    name: r.name,
    id: r.id,
    ...(typeof r.location === 'string' ? { location: r.location } : {}),
    skuName: typeof sku['name'] === 'string' ? (sku['name'] as string) : 'Developer',
    virtualNetworkType: vnet,
    hostnameConfigurations,
    caCertificates,
    certificates: svc.certificates,
    apis,
    products,
    subscriptions: svc.subscriptions,
    namedValues: svc.namedValues,
    backends: svc.backends,
    policyFragments: svc.fragments,
    ...(svc.policy ? { policy: svc.policy } : {}),
    origin,
  };
}

function adaptCertificate(rd: Reader, names: string[], svc: Pending): void {
  const p = rd.props;
  if (p['keyVault'] !== undefined) {
    rd.error('properties.keyVault', 'Key Vault certificates are not supported locally; give properties.data instead', ApimConfigCodes.GH_APIM_CONFIG_UNSUPPORTED);
    return;
  }
  const data = rd.str(p, 'data', 'properties', { required: true });
  if (!data) return;
  const pw = rd.str(p, 'password', 'properties');
  svc.certificates.push({ name: names[1]!, data: base64Source(data, `${rd.r.name} properties.data`), ...(pw ? { password: new Secret(pw) } : {}), origin: rd.origin });
}

function adaptApi(rd: Reader, names: string[], svc: Pending): void {
  const p = rd.props;
  const rawPath = rd.str(p, 'path', 'properties', { required: true }) ?? '';
  const path = rawPath.replace(/^\/+|\/+$/g, '');
  const serviceUrl = rd.str(p, 'serviceUrl', 'properties');
  if (serviceUrl && !/^https?:\/\/[^/]/i.test(serviceUrl)) rd.error('properties.serviceUrl', `'serviceUrl' must be an absolute http or https URL, got '${serviceUrl}'`);
  const protocols = rd.arr(p, 'protocols', 'properties').filter((x): x is string => {
    if (typeof x === 'string') return true;
    rd.error('properties.protocols', 'protocols must be strings');
    return false;
  });
  const names2 = rd.obj(p['subscriptionKeyParameterNames'], 'properties.subscriptionKeyParameterNames') ?? {};
  const apiVersionSetId = rd.str(p, 'apiVersionSetId', 'properties');
  const apiVersion = rd.str(p, 'apiVersion', 'properties');
  const name = names[1]!.split(';')[0]!;
  svc.apis.set(apiKey(name), {
    r: rd,
    api: {
      name,
      displayName: rd.str(p, 'displayName', 'properties') ?? name,
      path,
      protocols: protocols.length ? protocols.map((x) => x.toLowerCase()) : ['https'],
      ...(serviceUrl ? { serviceUrl } : {}),
      subscriptionRequired: rd.bool(p, 'subscriptionRequired', 'properties', true),
      subscriptionKeyParameterNames: {
        header: rd.str(names2, 'header', 'properties.subscriptionKeyParameterNames') ?? 'Ocp-Apim-Subscription-Key',
        query: rd.str(names2, 'query', 'properties.subscriptionKeyParameterNames') ?? 'subscription-key',
      },
      ...(apiVersion ? { apiVersion } : {}),
      ...(apiVersionSetId ? { apiVersionSetId } : {}),
      origin: rd.origin,
    },
    operations: new Map(),
  });
}

const METHODS = /^[A-Z]+$|^\*$/;

function adaptOperation(rd: Reader, name: string): ApimOperation {
  const p = rd.props;
  const method = (rd.str(p, 'method', 'properties', { required: true }) ?? 'GET').toUpperCase();
  if (!METHODS.test(method)) rd.error('properties.method', `'method' must be an HTTP method, got '${method}'`);
  let urlTemplate = rd.str(p, 'urlTemplate', 'properties', { required: true }) ?? '/';
  if (!urlTemplate.startsWith('/')) urlTemplate = '/' + urlTemplate;
  const params = new Set<string>();
  for (const m of urlTemplate.matchAll(/\{([^}]*)\}/g)) {
    const n = m[1]!;
    if (!n) rd.error('properties.urlTemplate', `empty template parameter in '${urlTemplate}'`);
    else if (params.has(n)) rd.error('properties.urlTemplate', `template parameter '{${n}}' appears twice in '${urlTemplate}'`);
    params.add(n);
  }
  if ((urlTemplate.match(/\{/g)?.length ?? 0) !== (urlTemplate.match(/\}/g)?.length ?? 0)) rd.error('properties.urlTemplate', `unbalanced braces in '${urlTemplate}'`);
  const templateParameters: ApimTemplateParameter[] = [];
  rd.arr(p, 'templateParameters', 'properties').forEach((t, i) => {
    const path = `properties.templateParameters[${i}]`;
    const o = rd.obj(t, path);
    if (!o) return;
    const n = rd.str(o, 'name', path, { required: true });
    if (!n) return;
    if (!params.has(n)) rd.error(`${path}.name`, `template parameter '${n}' does not appear in urlTemplate '${urlTemplate}'`);
    const dv = rd.str(o, 'defaultValue', path);
    const type = rd.str(o, 'type', path);
    templateParameters.push({
      name: n,
      required: rd.bool(o, 'required', path, false),
      ...(type ? { type } : {}),
      ...(dv !== undefined ? { defaultValue: dv } : {}),
      values: rd.arr(o, 'values', path).map(String),
    });
  });
  const responses: ApimOperationResponse[] = [];
  rd.arr(p, 'responses', 'properties').forEach((r, i) => {
    const path = `properties.responses[${i}]`;
    const o = rd.obj(r, path);
    if (!o) return;
    const statusCode = Number(o['statusCode']);
    if (!Number.isInteger(statusCode)) {
      rd.error(`${path}.statusCode`, `'statusCode' must be an integer`);
      return;
    }
    const representations = rd.arr(o, 'representations', path).map((x, j) => {
      const rep = rd.obj(x, `${path}.representations[${j}]`) ?? {};
      const examples = rep['examples'] && typeof rep['examples'] === 'object' ? (rep['examples'] as Record<string, { value?: unknown }>) : undefined;
      const first = examples ? Object.values(examples)[0]?.value : undefined;
      const sample = typeof rep['sample'] === 'string' ? (rep['sample'] as string) : undefined;
      const example = first === undefined ? sample : typeof first === 'string' ? first : JSON.stringify(first);
      return { contentType: typeof rep['contentType'] === 'string' ? (rep['contentType'] as string) : 'application/json', ...(example !== undefined ? { example } : {}) };
    });
    responses.push({ statusCode, representations });
  });
  return { name, displayName: rd.str(p, 'displayName', 'properties') ?? name, method, urlTemplate, templateParameters, ...(responses.length ? { responses } : {}), origin: rd.origin };
}

function adaptPolicy(rd: Reader, ctx: Ctx): ApimPolicyDocument | undefined {
  const p = rd.props;
  const format = (rd.str(p, 'format', 'properties') ?? 'xml').toLowerCase();
  const value = rd.str(p, 'value', 'properties', { required: true });
  if (value === undefined) return undefined;
  const originFile = rd.r['policyFile'];
  const file = typeof originFile === 'string' ? originFile : `${rd.r.name}.xml`;
  if (format === 'xml' || format === 'rawxml') return { format, value, file, origin: rd.origin };
  if (format === 'xml-link' || format === 'rawxml-link') {
    let path: string;
    if (/^file:/i.test(value)) path = fileURLToPath(value);
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      rd.error('properties.value', `policy links must be local files; '${value}' cannot be fetched`, ApimConfigCodes.GH_APIM_CONFIG_UNSUPPORTED);
      return undefined;
    } else path = isAbsolute(value) ? value : resolve(ctx.baseDir, value);
    try {
      return { format: format === 'xml-link' ? 'xml' : 'rawxml', value: readFileSync(path, 'utf8'), file: path, origin: rd.origin };
    } catch (e) {
      rd.error('properties.value', `cannot read policy file '${path}': ${(e as Error).message}`, 'GH_FILE_NOT_FOUND');
      return undefined;
    }
  }
  rd.error('properties.format', `'format' must be xml, rawxml, xml-link or rawxml-link, got '${format}'`);
  return undefined;
}

function adaptSubscription(rd: Reader, name: string, svc: Pending): void {
  const p = rd.props;
  const scopeText = rd.str(p, 'scope', 'properties', { required: true }) ?? '/apis';
  let scope: ApimSubscriptionScope | undefined;
  const m = /\/(apis|products)(?:\/([^/]+))?\/?$/i.exec(scopeText);
  if (m && !m[2] && m[1]!.toLowerCase() === 'apis') scope = { kind: 'all' };
  else if (m && m[2]) scope = m[1]!.toLowerCase() === 'apis' ? { kind: 'api', api: m[2] } : { kind: 'product', product: m[2] };
  else if (/microsoft\.apimanagement\/service\/[^/]+\/?$/i.test(scopeText)) scope = { kind: 'all' };
  if (!scope) {
    rd.error('properties.scope', `'scope' must be '/apis', '/apis/{api}', '/products/{product}' or a resource id of one of them, got '${scopeText}'`);
    return;
  }
  if (scope.kind === 'api' && !svc.apis.has(apiKey(scope.api))) rd.error('properties.scope', `subscription scope names API '${scope.api}', which is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
  if (scope.kind === 'product' && !svc.products.has(scope.product.toLowerCase())) rd.error('properties.scope', `subscription scope names product '${scope.product}', which is not declared`, ApimConfigCodes.GH_APIM_CONFIG_ORPHAN);
  const key = (k: string) => rd.str(p, k, 'properties') ?? randomBytes(16).toString('hex');
  svc.subscriptions.push({
    name,
    displayName: rd.str(p, 'displayName', 'properties') ?? name,
    scope,
    primaryKey: new Secret(key('primaryKey')),
    secondaryKey: new Secret(key('secondaryKey')),
    state: rd.enumOf(p, 'state', 'properties', ['active', 'suspended', 'submitted', 'rejected', 'cancelled', 'expired'] as const, 'active'),
    allowTracing: rd.bool(p, 'allowTracing', 'properties', false),
    origin: rd.origin,
  });
}
