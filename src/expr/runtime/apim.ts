/**
 * API Management's `context` object, built over the pipeline's HostContext, and the APIM
 * extension types (Jwt, BasicAuthCredentials, IMessageBody, IUrl).
 */
import type { HeaderMap } from '../../core/headers.js';
import type { Certificate } from '../../pki/index.js';
import type { HostBody, HostContext, HostUrl } from '../host.js';
import { CsObject, csToString, EnumValue, ex, NO_MEMBER, type Runtime } from './core.js';
import { CsDictionary, CsList, DictionaryBase, MapDictionary } from './collections.js';
import { DateTime, TimeSpan } from './datetime.js';
import { Guid } from './misc.js';
import { X509Certificate2 } from './x509.js';
import { JToken, parseJson, JObject, JArray } from './json.js';
import { parseXml } from './xml.js';
import { castTo, OutRef, typeDisplay, type RType } from './types.js';
import { stringArray } from './strings.js';
import { DotNetException } from '../errors.js';

/** IReadOnlyDictionary<string, string[]> over a HeaderMap, live (set-header changes show). */
export class HeaderDictionary extends DictionaryBase {
  constructor(private readonly headers: () => HeaderMap) {
    super();
  }
  get $type(): string {
    return 'System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.String[]]';
  }
  lookup(key: unknown): { found: boolean; value: unknown } {
    const v = typeof key === 'string' ? this.headers().getAll(key) : undefined;
    return v ? { found: true, value: stringArray([...v]) } : { found: false, value: null };
  }
  *entries(): Iterable<[unknown, unknown]> {
    for (const [n, v] of this.headers().entries()) yield [n, stringArray([...v])];
  }
  get Count(): number {
    return this.headers().size;
  }
  /** APIM's extension: the values joined with ',' or the default (null when none is given). */
  override GetValueOrDefault(name: unknown, dflt: unknown = null): unknown {
    if (name === null || name === undefined) throw ex.argNull('key');
    const v = this.headers().getAll(String(name));
    return v ? v.join(',') : dflt;
  }
}

/** IReadOnlyDictionary<string, string[]> of query parameters (names case-sensitive). */
export class QueryDictionary extends DictionaryBase {
  constructor(private readonly url: () => HostUrl) {
    super();
  }
  get $type(): string {
    return 'System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.String[]]';
  }
  private grouped(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const [k, v] of this.url().query) {
      const a = m.get(k);
      if (a) a.push(v);
      else m.set(k, [v]);
    }
    return m;
  }
  lookup(key: unknown): { found: boolean; value: unknown } {
    const v = typeof key === 'string' ? this.grouped().get(key) : undefined;
    return v ? { found: true, value: stringArray(v) } : { found: false, value: null };
  }
  *entries(): Iterable<[unknown, unknown]> {
    for (const [k, v] of this.grouped()) yield [k, stringArray(v)];
  }
  get Count(): number {
    return this.grouped().size;
  }
  override GetValueOrDefault(name: unknown, dflt: unknown = null): unknown {
    if (name === null || name === undefined) throw ex.argNull('key');
    const v = this.grouped().get(String(name));
    return v ? v.join(',') : dflt;
  }
}

function queryString(q: readonly [string, string][]): string {
  return q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

export function urlToString(u: HostUrl): string {
  const def = (u.scheme === 'https' && u.port === 443) || (u.scheme === 'http' && u.port === 80);
  const qs = queryString(u.query);
  return `${u.scheme}://${u.host}${def ? '' : ':' + u.port}${u.path}${qs ? '?' + qs : ''}`;
}

export class UrlObject extends CsObject {
  constructor(private readonly url: () => HostUrl) {
    super();
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IUrl';
  }
  get Scheme(): string {
    return this.url().scheme;
  }
  get Host(): string {
    return this.url().host;
  }
  get Port(): number {
    return this.url().port;
  }
  get Path(): string {
    return this.url().path;
  }
  get Query(): QueryDictionary {
    return new QueryDictionary(this.url);
  }
  get QueryString(): string {
    const qs = queryString(this.url().query);
    return qs ? '?' + qs : '';
  }
  override ToString(): string {
    return urlToString(this.url());
  }
}

/** IMessageBody: As<T>(preserveContent) and AsFormUrlEncodedContent(preserveContent). */
export class MessageBody extends CsObject {
  constructor(private readonly body: HostBody) {
    super();
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IMessageBody';
  }
  private text(): string {
    return this.body.bytes ? this.body.bytes.toString('utf8').replace(/^\ufeff/, '') : '';
  }
  /**
   * As API Management does, reading without preserveContent: true uses the original stream and
   * leaves the body empty for whoever reads it next (a later As<T>(), forward-request).
   */
  private consume(preserve: unknown): void {
    if (preserve !== true) this.body.bytes = Buffer.alloc(0);
  }
  As$T(typeArgs: readonly RType[], preserve?: unknown): unknown {
    try {
      return this.read(typeArgs);
    } finally {
      this.consume(preserve);
    }
  }
  private read(typeArgs: readonly RType[]): unknown {
    const t = typeArgs[0];
    const name = t ? typeDisplay(t) : 'System.String';
    switch (name) {
      case 'System.String':
        return this.text();
      case 'System.Byte[]':
        return Buffer.from(this.body.bytes ?? Buffer.alloc(0));
      case 'Newtonsoft.Json.Linq.JObject': {
        const v = parseJson(this.text());
        if (!(v instanceof JObject)) throw new DotNetException('Newtonsoft.Json.JsonReaderException', `Error reading JObject from JsonReader. Current JsonReader item is not an object: ${v instanceof JArray ? 'StartArray' : 'String'}. Path '', line 1, position 1.`);
        return v;
      }
      case 'Newtonsoft.Json.Linq.JArray': {
        const v = parseJson(this.text());
        if (!(v instanceof JArray)) throw new DotNetException('Newtonsoft.Json.JsonReaderException', 'Error reading JArray from JsonReader. Current JsonReader item is not an array. Path \'\', line 1, position 1.');
        return v;
      }
      case 'Newtonsoft.Json.Linq.JToken':
        return parseJson(this.text());
      case 'System.Xml.Linq.XDocument':
        return parseXml(this.text());
      case 'System.Xml.Linq.XElement':
      case 'System.Xml.Linq.XNode': {
        const root = parseXml(this.text()).Root!;
        root.Remove();
        return root;
      }
      default:
        throw ex.notSupported(`Body.As<${name}>() is not supported by Gatehouse (supported: string, byte[], JObject, JArray, JToken, XDocument, XElement, XNode)`);
    }
  }
  As(preserve?: unknown): unknown {
    return this.As$T([], preserve);
  }
  AsFormUrlEncodedContent(preserve?: unknown): FormContent {
    const text = this.text();
    this.consume(preserve);
    const d = new FormContent();
    for (const pair of text.split('&')) {
      if (!pair) continue;
      const i = pair.indexOf('=');
      const k = decodeForm(i < 0 ? pair : pair.slice(0, i));
      const v = i < 0 ? '' : decodeForm(pair.slice(i + 1));
      const cur = d.lookup(k);
      if (cur.found) (cur.value as CsList).Add(v);
      else d.Add(k, new CsList([v], 'System.String'));
    }
    return d;
  }
}

function decodeForm(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** IDictionary<string, IList<string>> with APIM's ToQueryString / ToFormUrlEncodedContent. */
export class FormContent extends CsDictionary {
  constructor() {
    super(false, 'System.Collections.Generic.IDictionary`2[System.String,System.Collections.Generic.IList`1[System.String]]');
  }
  private encode(): string {
    const parts: string[] = [];
    for (const [k, v] of this.entries()) for (const x of (v as CsList).items) parts.push(`${encodeURIComponent(String(k))}=${encodeURIComponent(csToString(x))}`);
    return parts.join('&');
  }
  ToQueryString(): string {
    return this.encode();
  }
  ToFormUrlEncodedContent(): string {
    return this.encode();
  }
}

class Plain extends CsObject {
  constructor(private readonly typeName: string, private readonly fields: Record<string, unknown>) {
    super();
  }
  get $type(): string {
    return this.typeName;
  }
  $get(name: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.fields, name) ? this.fields[name] : NO_MEMBER;
  }
}

/** context.Response over the pipeline's live response. */
export class ContextResponse extends CsObject {
  private headers: HeaderDictionary | undefined;
  constructor(private readonly host: HostContext) {
    super();
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IResponse';
  }
  get StatusCode(): number {
    return this.host.response.statusCode;
  }
  get StatusReason(): string {
    return this.host.response.statusReason;
  }
  get Headers(): HeaderDictionary {
    return (this.headers ??= new HeaderDictionary(() => this.host.response.headers));
  }
  get Body(): MessageBody | null {
    return this.host.response.body.bytes ? new MessageBody(this.host.response.body) : null;
  }
}

/** context.Deployment. */
export class DeploymentObject extends CsObject {
  private certificates: MapDictionary | undefined;
  constructor(private readonly host: HostContext, private readonly ctx: ContextObject) {
    super();
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IDeployment';
  }
  get Region(): string {
    return this.host.deployment.region;
  }
  get ServiceName(): string {
    return this.host.deployment.serviceName;
  }
  get ServiceId(): string {
    return this.host.deployment.serviceId;
  }
  get GatewayId(): string {
    return this.host.deployment.gatewayId;
  }
  get Gateway(): CsObject {
    const id = this.host.deployment.gatewayId;
    return new Plain('Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IGateway', { Id: id, InstanceId: id, IsManaged: id === 'managed' });
  }
  get Certificates(): MapDictionary {
    return (this.certificates ??= new MapDictionary(
      () => this.host.deployment.certificates,
      (c) => this.ctx.x509(c as Certificate),
      'System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.Security.Cryptography.X509Certificates.X509Certificate2]',
    ));
  }
}

/** A response object as send-request stores in a variable (the policy pipeline builds it). */
export class ResponseObject extends CsObject {
  readonly Headers: HeaderDictionary;
  constructor(readonly StatusCode: number, readonly StatusReason: string, private readonly headers: HeaderMap, private readonly body: HostBody) {
    super();
    this.Headers = new HeaderDictionary(() => this.headers);
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IResponse';
  }
  get Body(): MessageBody | null {
    return this.body.bytes ? new MessageBody(this.body) : null;
  }
}

/** context.Request (IRequest). */
export class RequestObject extends CsObject {
  private headers: HeaderDictionary | undefined;
  private url: UrlObject | undefined;
  private originalUrl: UrlObject | undefined;
  private matched: MapDictionary | undefined;
  constructor(private readonly host: HostContext, private readonly ctx: ContextObject) {
    super();
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IRequest';
  }
  get Method(): string {
    return this.host.request.method;
  }
  get Url(): UrlObject {
    return (this.url ??= new UrlObject(() => this.host.request.url));
  }
  get OriginalUrl(): UrlObject {
    return (this.originalUrl ??= new UrlObject(() => this.host.request.originalUrl));
  }
  get Headers(): HeaderDictionary {
    return (this.headers ??= new HeaderDictionary(() => this.host.request.headers));
  }
  get Body(): MessageBody | null {
    return this.host.request.body.bytes ? new MessageBody(this.host.request.body) : null;
  }
  get IpAddress(): string {
    return this.host.request.ipAddress;
  }
  get Certificate(): X509Certificate2 | null {
    const c = this.host.request.certificate;
    return c ? this.ctx.x509(c) : null;
  }
  get MatchedParameters(): MapDictionary {
    return (this.matched ??= new MapDictionary(() => this.host.request.matchedParameters));
  }
  get PrivateEndpointConnection(): null {
    return null;
  }
}

export class ContextObject extends CsObject {
  private readonly certCache = new Map<Certificate, X509Certificate2>();
  private request: RequestObject | undefined;
  private response: ContextResponse | undefined;
  private variables: VariablesDictionary | undefined;
  private deployment: DeploymentObject | undefined;
  constructor(private readonly host: HostContext) {
    super();
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IProxyRequestContext';
  }
  x509(c: Certificate): X509Certificate2 {
    let w = this.certCache.get(c);
    if (!w) this.certCache.set(c, (w = new X509Certificate2(c, this.host)));
    return w;
  }
  get Request(): RequestObject {
    return (this.request ??= new RequestObject(this.host, this));
  }
  get Response(): ContextResponse {
    return (this.response ??= new ContextResponse(this.host));
  }
  get Variables(): VariablesDictionary {
    return (this.variables ??= new VariablesDictionary(this.host.variables));
  }
  get Deployment(): DeploymentObject {
    return (this.deployment ??= new DeploymentObject(this.host, this));
  }
  get Api(): CsObject | null {
    const a = this.host.api;
    if (!a) return null;
    return new Plain('Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IApi', {
      Id: a.id,
      Name: a.name,
      Path: a.path,
      Protocols: stringArray([...a.protocols]),
      ServiceUrl: a.serviceUrl ? new UrlObject(() => a.serviceUrl!) : null,
      SubscriptionKeyParameterNames: new Plain('SubscriptionKeyParameterNames', { Header: a.subscriptionKeyParameterNames.header, Query: a.subscriptionKeyParameterNames.query }),
      Version: a.version ?? null,
      Revision: a.revision ?? '1',
      IsCurrentRevision: a.isCurrentRevision ?? true,
    });
  }
  get Operation(): CsObject | null {
    const o = this.host.operation;
    return o ? new Plain('Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IOperation', { Id: o.id, Name: o.name, Method: o.method, UrlTemplate: o.urlTemplate }) : null;
  }
  get Product(): CsObject | null {
    const p = this.host.product;
    return p
      ? new Plain('Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IProduct', {
          Id: p.id,
          Name: p.name,
          ApprovalRequired: p.approvalRequired,
          SubscriptionRequired: p.subscriptionRequired,
          State: new EnumValue('ProductState', p.state === 'published' ? 'Published' : 'NotPublished', p.state === 'published' ? 1 : 0),
          Groups: [],
          SubscriptionsLimit: null,
        })
      : null;
  }
  get Subscription(): CsObject | null {
    const s = this.host.subscription;
    return s
      ? new Plain('Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.ISubscription', {
          Id: s.id,
          Name: s.name,
          Key: s.key,
          PrimaryKey: s.primaryKey,
          SecondaryKey: s.secondaryKey,
          CreatedDate: new DateTime(s.createdDate.getTime(), 'Utc'),
          StartDate: s.startDate ? new DateTime(s.startDate.getTime(), 'Utc') : null,
          EndDate: s.endDate ? new DateTime(s.endDate.getTime(), 'Utc') : null,
        })
      : null;
  }
  get User(): CsObject | null {
    const u = this.host.user;
    return u
      ? new Plain('Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.IUser', {
          Id: u.id,
          Email: u.email,
          FirstName: u.firstName,
          LastName: u.lastName,
          Note: u.note ?? null,
          RegistrationDate: u.registrationDate ? new DateTime(u.registrationDate.getTime(), 'Utc') : null,
          Groups: u.groups.map((g) => new Plain('IGroup', { Id: g.id, Name: g.name })),
          Identities: [],
        })
      : null;
  }
  get LastError(): CsObject | null {
    const e = this.host.lastError;
    return e
      ? new Plain('Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.ILastError', {
          Source: e.source,
          Reason: e.reason,
          Message: e.message,
          Scope: e.scope,
          Section: e.section,
          Path: e.path,
          PolicyId: e.policyId,
        })
      : null;
  }
  /** Not modelled by the HostContext (workspaces, backend pools, GraphQL resolvers): null. */
  get Workspace(): null {
    return null;
  }
  get Backend(): null {
    return null;
  }
  get GraphQL(): null {
    return null;
  }
  get Elapsed(): TimeSpan {
    return new TimeSpan(this.host.elapsedMs());
  }
  get RequestId(): Guid {
    return Guid.parseLenient(this.host.requestId);
  }
  get Timestamp(): DateTime {
    return new DateTime(this.host.timestamp.getTime(), 'Utc');
  }
  get Tracing(): boolean {
    return this.host.tracing;
  }
  Trace(message: unknown): void {
    this.host.trace('expression', csToString(message));
  }
}

/** context.Variables: IReadOnlyDictionary<string, object> with GetValueOrDefault<T>. */
export class VariablesDictionary extends DictionaryBase {
  constructor(private readonly vars: Map<string, unknown>) {
    super();
  }
  get $type(): string {
    return 'System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.Object]';
  }
  lookup(key: unknown): { found: boolean; value: unknown } {
    if (typeof key !== 'string' || !this.vars.has(key)) return { found: false, value: null };
    return { found: true, value: this.vars.get(key) };
  }
  *entries(): Iterable<[unknown, unknown]> {
    yield* this.vars.entries();
  }
  get Count(): number {
    return this.vars.size;
  }
  /** "Throws an exception if the specified type does not match the actual type." */
  GetValueOrDefault$T(typeArgs: readonly RType[], name: unknown, dflt?: unknown): unknown {
    if (name === null || name === undefined) throw ex.argNull('key');
    const t = typeArgs[0];
    if (typeof name !== 'string' || !this.vars.has(name)) {
      if (dflt !== undefined) return dflt;
      return t && t.ranks.length === 0 && !t.nullable ? t.info?.defaultValue ?? null : null;
    }
    const v = this.vars.get(name);
    if (!t || v === null || v === undefined) return v ?? null;
    return strictCast(v, t);
  }
  override GetValueOrDefault(name: unknown, dflt: unknown = null): unknown {
    return this.GetValueOrDefault$T([], name, dflt);
  }
}

/** Unboxing as .NET does it: the stored value must already be of type T (no numeric conversions across types). */
function strictCast(v: unknown, t: RType): unknown {
  const name = typeDisplay(t);
  const fail = () => ex.invalidCast(v, name);
  switch (name) {
    case 'System.String':
      if (typeof v !== 'string') throw fail();
      return v;
    case 'System.Boolean':
      if (typeof v !== 'boolean') throw fail();
      return v;
    case 'System.Int32':
    case 'System.Int64':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw fail();
      return v;
    case 'System.Double':
      if (typeof v !== 'number') throw fail();
      return v;
    default:
      return castTo(v, t);
  }
}

// ───── Jwt and Basic credentials ─────
function b64urlDecode(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export class Jwt extends CsObject {
  constructor(private readonly header: Record<string, unknown>, private readonly payload: Record<string, unknown>) {
    super();
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.Jwt';
  }
  private str(k: string, from: Record<string, unknown> = this.payload): string | null {
    const v = from[k];
    return v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
  }
  private date(k: string): DateTime | null {
    const v = this.payload[k];
    return typeof v === 'number' ? new DateTime(v * 1000, 'Utc') : null;
  }
  get Algorithm(): string | null {
    return this.str('alg', this.header);
  }
  get Type(): string | null {
    return this.str('typ', this.header);
  }
  get Id(): string | null {
    return this.str('jti');
  }
  get Issuer(): string | null {
    return this.str('iss');
  }
  get Subject(): string | null {
    return this.str('sub');
  }
  get Audiences(): string[] {
    const a = this.payload['aud'];
    return stringArray(a === undefined ? [] : Array.isArray(a) ? a.map(String) : [String(a)]);
  }
  get ExpirationTime(): DateTime | null {
    return this.date('exp');
  }
  get NotBefore(): DateTime | null {
    return this.date('nbf');
  }
  get IssuedAt(): DateTime | null {
    return this.date('iat');
  }
  get Claims(): ClaimsDictionary {
    return new ClaimsDictionary(this.payload);
  }
}

export class ClaimsDictionary extends DictionaryBase {
  constructor(private readonly payload: Record<string, unknown>) {
    super();
  }
  get $type(): string {
    return 'System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.String[]]';
  }
  private values(v: unknown): string[] {
    return stringArray(Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) : [typeof v === 'string' ? v : JSON.stringify(v)]);
  }
  lookup(key: unknown): { found: boolean; value: unknown } {
    if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(this.payload, key)) return { found: false, value: null };
    return { found: true, value: this.values(this.payload[key]) };
  }
  *entries(): Iterable<[unknown, unknown]> {
    for (const [k, v] of Object.entries(this.payload)) yield [k, this.values(v)];
  }
  get Count(): number {
    return Object.keys(this.payload).length;
  }
  override GetValueOrDefault(name: unknown, dflt: unknown = null): unknown {
    const r = this.lookup(name);
    return r.found ? (r.value as string[]).join(',') : dflt;
  }
}

/** AsJwt(): null when the text is not a JWT. A leading "Bearer " is ignored (as the policy toolkit does). */
export function asJwt(s: unknown): Jwt | null {
  if (typeof s !== 'string') return null;
  const t = s.trim().replace(/^bearer\s+/i, '');
  const parts = t.split('.');
  if (parts.length !== 3 && parts.length !== 5) return null;
  try {
    const h = b64urlDecode(parts[0]!);
    const p = b64urlDecode(parts[1]!);
    if (!h || !p) return null;
    const header = JSON.parse(h.toString('utf8')) as unknown;
    const payload = JSON.parse(p.toString('utf8')) as unknown;
    if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object' || Array.isArray(payload)) return null;
    return new Jwt(header as Record<string, unknown>, payload as Record<string, unknown>);
  } catch {
    return null;
  }
}

export class BasicAuthCredentials extends CsObject {
  constructor(readonly UserId: string, readonly Password: string) {
    super();
  }
  get $type(): string {
    return 'Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.BasicAuthCredentials';
  }
}

/** AsBasic(): parses an Authorization header value ("Basic base64(user:password)"); null if invalid. */
export function asBasic(s: unknown): BasicAuthCredentials | null {
  if (typeof s !== 'string') return null;
  const m = /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(s);
  if (!m) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return null;
  return new BasicAuthCredentials(text.slice(0, i), text.slice(i + 1));
}

export function tryParse(out: unknown, v: unknown): boolean {
  if (out instanceof OutRef) out.set(v);
  return v !== null;
}

export function makeContext(host: HostContext, rt: Runtime): ContextObject {
  void rt;
  return new ContextObject(host);
}

export { JToken };
