/**
 * The ARM template function library (the semantics Bicep lowers to). Both front-ends call these:
 * a function gets evaluated arguments and a FunctionContext, and returns a value or throws
 * EvalError. Any Unknown argument makes the result Unknown (except for the few functions that
 * look at their arguments lazily: if, coalesce, and the front-ends' own short-circuits).
 */
import { createHash, randomUUID } from 'node:crypto';
import { EvalError, LambdaValue, Unknown, clone, deepEquals, findKey, isObject, isUnknown, toArmString, type JsonObject } from './value.js';

export type TargetScope = 'resourceGroup' | 'subscription' | 'managementGroup' | 'tenant';

/** Where a template is deployed: what resourceGroup(), subscription(), deployment() … return. */
export interface ScopeContext {
  readonly targetScope: TargetScope;
  readonly tenantId: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly managementGroup: string;
  readonly deploymentName: string;
}

export interface FunctionContext {
  readonly scope: ScopeContext;
  /** A fixed time for utcNow() (tests and conformance). */
  readonly now?: Date;
  /** reference(id, apiVersion, 'Full'): provided by the deployment. */
  reference?(id: string, apiVersion: string | undefined, full: boolean): unknown;
  /** newGuid(): the deployment hands out reproducible values (a fresh random one without it). */
  newGuid?(): string;
}

export type Builtin = (args: unknown[], ctx: FunctionContext) => unknown;

const MAX_INT = 2n ** 63n - 1n;

function str(v: unknown, fn: string, i = 0): string {
  if (typeof v !== 'string') throw new EvalError(`${fn}(): argument ${i + 1} must be a string, got ${describe(v)}`, 'GH_BICEP_TYPE');
  return v;
}
function int(v: unknown, fn: string, i = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new EvalError(`${fn}(): argument ${i + 1} must be an int, got ${describe(v)}`, 'GH_BICEP_TYPE');
  return v;
}
function arr(v: unknown, fn: string, i = 0): unknown[] {
  if (!Array.isArray(v)) throw new EvalError(`${fn}(): argument ${i + 1} must be an array, got ${describe(v)}`, 'GH_BICEP_TYPE');
  return v;
}
function obj(v: unknown, fn: string, i = 0): JsonObject {
  if (!isObject(v)) throw new EvalError(`${fn}(): argument ${i + 1} must be an object, got ${describe(v)}`, 'GH_BICEP_TYPE');
  return v;
}
function bool(v: unknown, fn: string, i = 0): boolean {
  if (typeof v !== 'boolean') throw new EvalError(`${fn}(): argument ${i + 1} must be a bool, got ${describe(v)}`, 'GH_BICEP_TYPE');
  return v;
}
function lambda(v: unknown, fn: string, i: number): LambdaValue {
  if (!(v instanceof LambdaValue)) throw new EvalError(`${fn}(): argument ${i + 1} must be a lambda`, 'GH_BICEP_TYPE');
  return v;
}
function arity(args: unknown[], fn: string, min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new EvalError(`${fn}() expects ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`, 'GH_BICEP_ARGUMENTS');
  }
}
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return `string '${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'number') return `int ${v}`;
  if (typeof v === 'boolean') return `bool ${v}`;
  if (Array.isArray(v)) return 'array';
  if (v instanceof LambdaValue) return 'lambda';
  if (isObject(v)) return 'object';
  return 'resource';
}
function checkInt(n: number): number {
  if (!Number.isSafeInteger(n) && Math.abs(n) > Number(MAX_INT)) throw new EvalError(`integer overflow`, 'GH_BICEP_EVAL');
  return n;
}

// ---- hashing ------------------------------------------------------------------------------------

function murmur64(d: Uint8Array): bigint {
  const C1 = 0x239b961b;
  const C2 = 0xab0e9789;
  const M = (x: number) => x >>> 0;
  const rotl = (x: number, r: number) => M((x << r) | (x >>> (32 - r)));
  const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;
  const le = (i: number, n: number) => {
    let v = 0;
    for (let k = n - 1; k >= 0; k--) v = v * 256 + d[i + k]!;
    return M(v);
  };
  const fmix = (h: number) => {
    h = mul(h ^ (h >>> 16), 0x85ebca6b);
    h = mul(h ^ (h >>> 13), 0xc2b2ae35);
    return M(h ^ (h >>> 16));
  };
  let h1 = 0;
  let h2 = 0;
  let i = 0;
  const n = d.length;
  for (; i + 7 < n; i += 8) {
    let k1 = le(i, 4);
    let k2 = le(i + 4, 4);
    k1 = mul(rotl(mul(k1, C1), 15), C2);
    h1 = M(h1 ^ k1);
    h1 = M(mul(M(rotl(h1, 19) + h2), 5) + 0x561ccd1b);
    k2 = mul(rotl(mul(k2, C2), 17), C1);
    h2 = M(h2 ^ k2);
    h2 = M(mul(M(rotl(h2, 13) + h1), 5) + 0x0bcaa747);
  }
  const t = n - i;
  if (t > 0) {
    h1 = M(h1 ^ mul(rotl(mul(le(i, Math.min(t, 4)), C1), 15), C2));
    if (t > 4) h2 = M(h2 ^ mul(rotl(mul(le(i + 4, t - 4), C2), 17), C1));
  }
  h1 = M(h1 ^ n);
  h2 = M(h2 ^ n);
  h1 = M(h1 + h2);
  h2 = M(h2 + h1);
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = M(h1 + h2);
  h2 = M(h2 + h1);
  return (BigInt(h2) << 32n) | BigInt(h1);
}

/** ARM uniqueString(): 13 base32 characters of a MurmurHash64 variant over the '-'-joined arguments. */
export function uniqueString(...args: string[]): string {
  let h = murmur64(new TextEncoder().encode(args.join('-')));
  const A = 'abcdefghijklmnopqrstuvwxyz234567';
  let s = '';
  for (let j = 0; j < 13; j++) {
    s += A[Number(h >> 59n) & 31];
    h = (h << 5n) & 0xffffffffffffffffn;
  }
  return s;
}

/** ARM guid(): RFC 4122 version 5 UUID in the namespace 11fb06fb-712d-4ddd-98c7-e71bbd588830. */
export function armGuid(...args: string[]): string {
  const ns = Buffer.from('11fb06fb712d4ddd98c7e71bbd588830', 'hex');
  const b = createHash('sha1').update(ns).update(Buffer.from(args.join('-'), 'utf8')).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---- resource ids --------------------------------------------------------------------------------

function idPath(fn: string, type: string, names: string[]): string {
  const [ns, ...types] = type.replace(/\/+$/, '').split('/');
  if (!ns || types.length === 0 || types.some((t) => t === '')) throw new EvalError(`${fn}(): '${type}' is not a resource type`, 'GH_BICEP_RESOURCE_ID');
  if (names.length !== types.length)
    throw new EvalError(`${fn}(): the type '${type}' requires '${types.length}' resource name argument(s), got ${names.length}`, 'GH_BICEP_RESOURCE_ID');
  return `${ns}/` + types.map((t, i) => `${t}/${names[i]}`).join('/');
}

function splitTypeArgs(fn: string, args: unknown[]): { lead: string[]; type: string; names: string[] } {
  const s = args.map((a, i) => str(a, fn, i));
  const ti = s.findIndex((x) => x.includes('/') && !x.startsWith('/'));
  if (ti < 0 || s.slice(ti + 1).some((x) => x.includes('/')))
    throw new EvalError(`${fn}(): requires exactly one multi-segmented argument (the resource type); names may not contain '/'`, 'GH_BICEP_RESOURCE_ID');
  return { lead: s.slice(0, ti), type: s[ti]!, names: s.slice(ti + 1) };
}

export function resourceIdFn(scope: ScopeContext, args: unknown[]): string {
  const { lead, type, names } = splitTypeArgs('resourceId', args);
  const path = idPath('resourceId', type, names);
  if (scope.targetScope === 'resourceGroup') {
    if (lead.length > 2) throw new EvalError('resourceId(): the type must be one of the first three arguments', 'GH_BICEP_RESOURCE_ID');
    const [sub, rg] = lead.length === 2 ? lead : [scope.subscriptionId, lead[0] ?? scope.resourceGroup];
    return `/subscriptions/${sub}/resourceGroups/${rg}/providers/${path}`;
  }
  if (scope.targetScope === 'subscription') {
    // ARM: "the type must be one of the first 2 arguments at subscription scope" (Azure/bicep#3619)
    if (lead.length > 1) throw new EvalError('resourceId(): at subscription scope the type must be one of the first two arguments; use extensionResourceId() or a module scoped to the resource group', 'GH_BICEP_RESOURCE_ID');
    return `/subscriptions/${lead[0] ?? scope.subscriptionId}/providers/${path}`;
  }
  return `/providers/${path}`;
}

export function subscriptionResourceIdFn(scope: ScopeContext, args: unknown[]): string {
  const { lead, type, names } = splitTypeArgs('subscriptionResourceId', args);
  if (lead.length > 1) throw new EvalError('subscriptionResourceId(): the type must be one of the first two arguments', 'GH_BICEP_RESOURCE_ID');
  return `/subscriptions/${lead[0] ?? scope.subscriptionId}/providers/${idPath('subscriptionResourceId', type, names)}`;
}

export function tenantResourceIdFn(args: unknown[]): string {
  const { lead, type, names } = splitTypeArgs('tenantResourceId', args);
  if (lead.length > 0) throw new EvalError('tenantResourceId(): the type must be the first argument', 'GH_BICEP_RESOURCE_ID');
  return `/providers/${idPath('tenantResourceId', type, names)}`;
}

export function extensionResourceIdFn(args: unknown[]): string {
  if (args.length < 2) throw new EvalError('extensionResourceId() expects a resource id, a type and names', 'GH_BICEP_ARGUMENTS');
  const base = str(args[0], 'extensionResourceId');
  const { lead, type, names } = splitTypeArgs('extensionResourceId', args.slice(1));
  if (lead.length > 0) throw new EvalError('extensionResourceId(): the type must follow the resource id', 'GH_BICEP_RESOURCE_ID');
  return `${base.replace(/\/$/, '')}/providers/${idPath('extensionResourceId', type, names)}`;
}

export function managementGroupResourceIdFn(scope: ScopeContext, args: unknown[]): string {
  const { lead, type, names } = splitTypeArgs('managementGroupResourceId', args);
  const mg = lead[0] ?? scope.managementGroup;
  return `/providers/Microsoft.Management/managementGroups/${mg}/providers/${idPath('managementGroupResourceId', type, names)}`;
}

/** Splits a full resource id into its parts (scope prefix, type, names). */
export function parseAnyResourceId(id: string): { scope: string; type: string; names: string[] } | undefined {
  const i = id.toLowerCase().lastIndexOf('/providers/');
  if (i < 0) return undefined;
  const rest = id.slice(i + '/providers/'.length).split('/');
  if (rest.length < 3 || rest.length % 2 === 0) return undefined;
  const ns = rest[0]!;
  const types: string[] = [];
  const names: string[] = [];
  for (let k = 1; k < rest.length; k += 2) {
    types.push(rest[k]!);
    names.push(rest[k + 1]!);
  }
  return { scope: id.slice(0, i), type: [ns, ...types].join('/'), names };
}

// ---- scope objects -----------------------------------------------------------------------------

export function resourceGroupObject(scope: ScopeContext, sub?: string, rg?: string): JsonObject {
  const s = sub ?? scope.subscriptionId;
  const name = rg ?? scope.resourceGroup;
  return {
    id: `/subscriptions/${s}/resourceGroups/${name}`,
    name,
    type: 'Microsoft.Resources/resourceGroups',
    location: scope.location,
    tags: {},
    properties: { provisioningState: 'Succeeded' },
  };
}

export function subscriptionObject(scope: ScopeContext, sub?: string): JsonObject {
  const s = sub ?? scope.subscriptionId;
  return { id: `/subscriptions/${s}`, subscriptionId: s, tenantId: scope.tenantId, displayName: 'Gatehouse local subscription' };
}

export function deploymentObject(scope: ScopeContext): JsonObject {
  const o: JsonObject = { name: scope.deploymentName, properties: { template: { contentVersion: '1.0.0.0' } } };
  if (scope.targetScope !== 'resourceGroup') o.location = scope.location;
  return o;
}

export const ENVIRONMENT: JsonObject = {
  name: 'AzureCloud',
  gallery: 'https://gallery.azure.com/',
  graph: 'https://graph.windows.net/',
  portal: 'https://portal.azure.com',
  graphAudience: 'https://graph.windows.net/',
  activeDirectoryDataLake: 'https://datalake.azure.net/',
  batch: 'https://batch.core.windows.net/',
  media: 'https://rest.media.azure.net',
  sqlManagement: 'https://management.core.windows.net:8443/',
  vmImageAliasDoc: 'https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json',
  resourceManager: 'https://management.azure.com/',
  authentication: {
    loginEndpoint: 'https://login.microsoftonline.com/',
    audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
    tenant: 'common',
    identityProvider: 'AAD',
  },
  suffixes: {
    acrLoginServer: '.azurecr.io',
    azureDatalakeAnalyticsCatalogAndJob: 'azuredatalakeanalytics.net',
    azureDatalakeStoreFileSystem: 'azuredatalakestore.net',
    azureFrontDoorEndpointSuffix: 'azurefd.net',
    keyvaultDns: '.vault.azure.net',
    sqlServerHostname: '.database.windows.net',
    storage: 'core.windows.net',
  },
};

// ---- formatting ----------------------------------------------------------------------------------

function formatNumber(v: number, spec: string): string {
  const m = /^([A-Za-z])(\d*)$/.exec(spec);
  if (!m) return String(v);
  const kind = m[1]!.toUpperCase();
  const p = m[2] === '' ? undefined : Number(m[2]);
  switch (kind) {
    case 'D':
      return (v < 0 ? '-' : '') + String(Math.abs(v)).padStart(p ?? 0, '0');
    case 'N':
      return v.toLocaleString('en-US', { minimumFractionDigits: p ?? 2, maximumFractionDigits: p ?? 2 });
    case 'F':
      return v.toFixed(p ?? 2);
    case 'X':
      return (m[1] === 'x' ? v.toString(16) : v.toString(16).toUpperCase()).padStart(p ?? 0, '0');
    default:
      return String(v);
  }
}

/** .NET composite formatting as ARM format() does it: {0}, {0,5}, {0:N0}, {{ and }}. */
export function dotnetFormat(fmt: string, args: unknown[]): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '{') {
      if (fmt[i + 1] === '{') {
        out += '{';
        i++;
        continue;
      }
      const end = fmt.indexOf('}', i);
      if (end < 0) throw new EvalError(`format(): unterminated placeholder in '${fmt}'`, 'GH_BICEP_EVAL');
      const m = /^\s*(\d+)\s*(?:,\s*(-?\d+))?\s*(?::(.*))?$/.exec(fmt.slice(i + 1, end));
      if (!m) throw new EvalError(`format(): bad placeholder '${fmt.slice(i, end + 1)}'`, 'GH_BICEP_EVAL');
      const idx = Number(m[1]);
      if (idx >= args.length) throw new EvalError(`format(): placeholder {${idx}} has no argument`, 'GH_BICEP_EVAL');
      const a = args[idx];
      let s = typeof a === 'number' && m[3] ? formatNumber(a, m[3]) : toArmString(a);
      if (m[2]) {
        const w = Number(m[2]);
        s = w < 0 ? s.padEnd(-w) : s.padStart(w);
      }
      out += s;
      i = end;
    } else if (c === '}') {
      if (fmt[i + 1] === '}') i++;
      out += '}';
    } else out += c;
  }
  return out;
}

/** Percent-encodes all but RFC 3986 unreserved characters (as .NET Uri.EscapeDataString). */
export function uriComponent(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// ---- dates -----------------------------------------------------------------------------------------

function parseDuration(d: string): { sign: number; y: number; mo: number; w: number; day: number; h: number; mi: number; s: number } {
  const m = /^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(d);
  if (!m || d === 'P' || d.endsWith('T')) throw new EvalError(`dateTimeAdd(): '${d}' is not an ISO 8601 duration`, 'GH_BICEP_EVAL');
  const n = (i: number) => (m[i] ? Number(m[i]) : 0);
  return { sign: m[1] ? -1 : 1, y: n(2), mo: n(3), w: n(4), day: n(5), h: n(6), mi: n(7), s: n(8) };
}

function isoNoMillis(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

function formatDate(d: Date, fmt: string): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  if (fmt === 'u') return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}Z`;
  if (fmt === 'd') return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
  if (fmt === 'o' || fmt === 'O') return d.toISOString().replace('Z', '0000Z');
  return fmt.replace(/yyyy|yy|MM|dd|HH|hh|mm|ss|fff|'[^']*'/g, (t) => {
    switch (t) {
      case 'yyyy':
        return p(d.getUTCFullYear(), 4);
      case 'yy':
        return p(d.getUTCFullYear() % 100);
      case 'MM':
        return p(d.getUTCMonth() + 1);
      case 'dd':
        return p(d.getUTCDate());
      case 'HH':
        return p(d.getUTCHours());
      case 'hh':
        return p(((d.getUTCHours() + 11) % 12) + 1);
      case 'mm':
        return p(d.getUTCMinutes());
      case 'ss':
        return p(d.getUTCSeconds());
      case 'fff':
        return p(d.getUTCMilliseconds(), 3);
      default:
        return t.slice(1, -1);
    }
  });
}

// ---- CIDR ------------------------------------------------------------------------------------------

function parseIpv4(s: string, fn: string): number {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new EvalError(`${fn}(): '${s}' is not an IPv4 address`, 'GH_BICEP_EVAL');
  return parts.reduce((a, p) => a * 256 + Number(p), 0);
}
export function ipv4ToString(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
export function parseIpv4Cidr(cidr: string, fn = 'parseCidr'): { network: number; bits: number; size: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || Number(m[2]) > 32) throw new EvalError(`${fn}(): '${cidr}' is not an IPv4 CIDR range`, 'GH_BICEP_EVAL');
  const bits = Number(m[2]);
  const size = 2 ** (32 - bits);
  const addr = parseIpv4(m[1]!, fn);
  return { network: addr - (addr % size), bits, size };
}

// ---- union -----------------------------------------------------------------------------------------

function unionObjects(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const existing = findKey(out, k);
    if (existing !== undefined && isObject(out[existing]) && isObject(v)) out[existing] = unionObjects(out[existing] as JsonObject, v);
    else {
      if (existing !== undefined && existing !== k) delete out[existing];
      out[k] = v;
    }
  }
  return out;
}

function armCompare(a: unknown, b: unknown, fn: string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new EvalError(`${fn}(): cannot compare ${describe(a)} with ${describe(b)}`, 'GH_BICEP_TYPE');
}

function lengthOf(v: unknown, fn: string): number {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  throw new EvalError(`${fn}(): expects a string, array or object, got ${describe(v)}`, 'GH_BICEP_TYPE');
}

function utf8Base64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/** JSON as ARM reads it (Newtonsoft): line and block comments and trailing commas are tolerated. */
export function stripJsonComments(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      out += s.slice(i, j + 1);
      i = j;
    } else if (c === '/' && s[i + 1] === '/') {
      while (i < s.length && s[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && s[i + 1] === '*') {
      const e = s.indexOf('*/', i + 2);
      i = e < 0 ? s.length : e + 1;
    } else if (c === ',') {
      let j = i + 1;
      while (j < s.length && /\s/.test(s[j]!)) j++;
      if (s[j] !== '}' && s[j] !== ']') out += c;
    } else out += c;
  }
  return out;
}

function parseJson(s: string, fn: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    /* try again without comments */
  }
  try {
    return JSON.parse(stripJsonComments(s));
  } catch {
    throw new EvalError(`${fn}(): the text is not valid JSON`, 'GH_BICEP_EVAL');
  }
}

// ---- the catalogue ---------------------------------------------------------------------------------

const B: Record<string, Builtin> = {};
function def(names: string | string[], min: number, max: number, f: Builtin): void {
  for (const n of Array.isArray(names) ? names : [names]) {
    B[n.toLowerCase()] = (args, ctx) => {
      arity(args, n, min, max);
      return f(args, ctx);
    };
  }
}

// logic / comparison / arithmetic
def('true', 0, 0, () => true);
def('false', 0, 0, () => false);
def('null', 0, 0, () => null);
def('not', 1, 1, (a) => !bool(a[0], 'not'));
def('and', 1, Infinity, (a) => a.every((x, i) => bool(x, 'and', i)));
def('or', 1, Infinity, (a) => a.some((x, i) => bool(x, 'or', i)));
def('if', 3, 3, (a) => (bool(a[0], 'if') ? a[1] : a[2]));
def('equals', 2, 2, (a) => deepEquals(a[0], a[1]));
def('less', 2, 2, (a) => armCompare(a[0], a[1], 'less') < 0);
def('lessOrEquals', 2, 2, (a) => armCompare(a[0], a[1], 'lessOrEquals') <= 0);
def('greater', 2, 2, (a) => armCompare(a[0], a[1], 'greater') > 0);
def('greaterOrEquals', 2, 2, (a) => armCompare(a[0], a[1], 'greaterOrEquals') >= 0);
def('add', 2, 2, (a) => checkInt(int(a[0], 'add') + int(a[1], 'add', 1)));
def('sub', 2, 2, (a) => checkInt(int(a[0], 'sub') - int(a[1], 'sub', 1)));
def('mul', 2, 2, (a) => checkInt(int(a[0], 'mul') * int(a[1], 'mul', 1)));
def('div', 2, 2, (a) => {
  const d = int(a[1], 'div', 1);
  if (d === 0) throw new EvalError('div(): division by zero', 'GH_BICEP_EVAL');
  return Math.trunc(int(a[0], 'div') / d);
});
def('mod', 2, 2, (a) => {
  const d = int(a[1], 'mod', 1);
  if (d === 0) throw new EvalError('mod(): division by zero', 'GH_BICEP_EVAL');
  const r = int(a[0], 'mod') % d;
  return r === 0 ? 0 : r;
});
def('coalesce', 1, Infinity, (a) => a.find((x) => x !== null && x !== undefined) ?? null);
def('min', 1, Infinity, (a) => {
  const xs = a.length === 1 && Array.isArray(a[0]) ? a[0] : a;
  if (xs.length === 0) throw new EvalError('min(): empty array', 'GH_BICEP_EVAL');
  return xs.reduce((m: unknown, x) => (armCompare(x, m, 'min') < 0 ? x : m));
});
def('max', 1, Infinity, (a) => {
  const xs = a.length === 1 && Array.isArray(a[0]) ? a[0] : a;
  if (xs.length === 0) throw new EvalError('max(): empty array', 'GH_BICEP_EVAL');
  return xs.reduce((m: unknown, x) => (armCompare(x, m, 'max') > 0 ? x : m));
});

// conversion
def('string', 1, 1, (a) => toArmString(a[0]));
def('int', 1, 1, (a) => {
  const v = a[0];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number(v.trim());
  throw new EvalError(`int(): cannot convert ${describe(v)} to an int`, 'GH_BICEP_TYPE');
});
def('bool', 1, 1, (a) => {
  const v = a[0];
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new EvalError(`bool(): cannot convert ${describe(v)} to a bool`, 'GH_BICEP_TYPE');
});
def('array', 1, 1, (a) => (Array.isArray(a[0]) ? a[0] : [a[0]]));
def('json', 1, 1, (a) => parseJson(str(a[0], 'json'), 'json'));
def('any', 1, 1, (a) => a[0]);
def('createArray', 0, Infinity, (a) => [...a]);
def('createObject', 0, Infinity, (a) => {
  if (a.length % 2) throw new EvalError('createObject(): expects key/value pairs', 'GH_BICEP_ARGUMENTS');
  const o: JsonObject = {};
  for (let i = 0; i < a.length; i += 2) o[str(a[i], 'createObject', i)] = a[i + 1];
  return o;
});
def('base64', 1, 1, (a) => utf8Base64(str(a[0], 'base64')));
def('base64ToString', 1, 1, (a) => Buffer.from(str(a[0], 'base64ToString'), 'base64').toString('utf8'));
def('base64ToJson', 1, 1, (a) => parseJson(Buffer.from(str(a[0], 'base64ToJson'), 'base64').toString('utf8'), 'base64ToJson'));
def('dataUri', 1, 1, (a) => `data:text/plain;charset=utf8;base64,${utf8Base64(toArmString(a[0]))}`);
def('dataUriToString', 1, 1, (a) => {
  const s = str(a[0], 'dataUriToString');
  const m = /^data:([^,]*?)(;base64)?,(.*)$/s.exec(s);
  if (!m) throw new EvalError(`dataUriToString(): not a data URI`, 'GH_BICEP_EVAL');
  return m[2] ? Buffer.from(m[3]!, 'base64').toString('utf8') : decodeURIComponent(m[3]!);
});

// strings
def('concat', 1, Infinity, (a) => {
  if (a.length > 0 && a.every((x) => Array.isArray(x) || x === null)) return a.flatMap((x) => (x === null ? [] : (x as unknown[])));
  return a.map((x, i) => {
    if (Array.isArray(x) || isObject(x)) throw new EvalError(`concat(): argument ${i + 1} must be a string, int or bool when the others are not arrays`, 'GH_BICEP_TYPE');
    return toArmString(x);
  }).join('');
});
def('format', 1, Infinity, (a) => dotnetFormat(str(a[0], 'format'), a.slice(1)));
def('toLower', 1, 1, (a) => str(a[0], 'toLower').toLowerCase());
def('toUpper', 1, 1, (a) => str(a[0], 'toUpper').toUpperCase());
def('trim', 1, 1, (a) => str(a[0], 'trim').trim());
def('replace', 3, 3, (a) => str(a[0], 'replace').split(str(a[1], 'replace', 1)).join(str(a[2], 'replace', 2)));
def('split', 2, 2, (a) => {
  const s = str(a[0], 'split');
  const d = a[1];
  if (typeof d === 'string') return s.split(d);
  const ds = arr(d, 'split', 1).map((x, i) => str(x, 'split', i));
  if (ds.length === 0) return [s];
  const re = new RegExp(ds.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
  return s.split(re);
});
def('join', 2, 2, (a) => arr(a[0], 'join').map((x) => toArmString(x)).join(str(a[1], 'join', 1)));
def('substring', 1, 3, (a) => {
  const s = str(a[0], 'substring');
  const start = a.length > 1 ? int(a[1], 'substring', 1) : 0;
  const len = a.length > 2 ? int(a[2], 'substring', 2) : s.length - start;
  if (start < 0 || start > s.length || len < 0 || start + len > s.length)
    throw new EvalError(`substring(): start ${start} and length ${len} are outside the string of length ${s.length}`, 'GH_BICEP_EVAL');
  return s.slice(start, start + len);
});
def('take', 2, 2, (a) => {
  const n = Math.max(0, int(a[1], 'take', 1));
  if (typeof a[0] === 'string' || Array.isArray(a[0])) return a[0].slice(0, n);
  throw new EvalError(`take(): expects a string or an array`, 'GH_BICEP_TYPE');
});
def('skip', 2, 2, (a) => {
  const n = Math.max(0, int(a[1], 'skip', 1));
  if (typeof a[0] === 'string' || Array.isArray(a[0])) return a[0].slice(n);
  throw new EvalError(`skip(): expects a string or an array`, 'GH_BICEP_TYPE');
});
def('startsWith', 2, 2, (a) => str(a[0], 'startsWith').toLowerCase().startsWith(str(a[1], 'startsWith', 1).toLowerCase()));
def('endsWith', 2, 2, (a) => str(a[0], 'endsWith').toLowerCase().endsWith(str(a[1], 'endsWith', 1).toLowerCase()));
def('indexOf', 2, 2, (a) => {
  if (Array.isArray(a[0])) return a[0].findIndex((x) => deepEquals(x, a[1]));
  return str(a[0], 'indexOf').toLowerCase().indexOf(str(a[1], 'indexOf', 1).toLowerCase());
});
def('lastIndexOf', 2, 2, (a) => {
  if (Array.isArray(a[0])) {
    for (let i = a[0].length - 1; i >= 0; i--) if (deepEquals(a[0][i], a[1])) return i;
    return -1;
  }
  return str(a[0], 'lastIndexOf').toLowerCase().lastIndexOf(str(a[1], 'lastIndexOf', 1).toLowerCase());
});
def('contains', 2, 2, (a) => {
  const c = a[0];
  if (typeof c === 'string') return c.includes(toArmString(a[1]));
  if (Array.isArray(c)) return c.some((x) => deepEquals(x, a[1]));
  if (isObject(c)) return findKey(c, str(a[1], 'contains', 1)) !== undefined;
  throw new EvalError(`contains(): expects a string, array or object, got ${describe(c)}`, 'GH_BICEP_TYPE');
});
def('padLeft', 2, 3, (a) => {
  const s = typeof a[0] === 'number' ? String(a[0]) : str(a[0], 'padLeft');
  const ch = a.length > 2 ? str(a[2], 'padLeft', 2) : ' ';
  if (ch.length !== 1) throw new EvalError('padLeft(): the padding must be one character', 'GH_BICEP_EVAL');
  return s.padStart(int(a[1], 'padLeft', 1), ch);
});
def('length', 1, 1, (a) => lengthOf(a[0], 'length'));
def('empty', 1, 1, (a) => {
  const v = a[0];
  if (v === null || v === undefined) return true;
  if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.keys(v).length === 0;
  return false;
});
def('first', 1, 1, (a) => {
  const v = a[0];
  if (typeof v === 'string') return v.slice(0, 1);
  return arr(v, 'first').length ? (v as unknown[])[0] : null;
});
def('last', 1, 1, (a) => {
  const v = a[0];
  if (typeof v === 'string') return v.slice(-1);
  const xs = arr(v, 'last');
  return xs.length ? xs[xs.length - 1] : null;
});
def('uniqueString', 1, Infinity, (a) => uniqueString(...a.map((x, i) => str(x, 'uniqueString', i))));
def('guid', 1, Infinity, (a) => armGuid(...a.map((x, i) => str(x, 'guid', i))));
def('newGuid', 0, 0, (_a, ctx) => (ctx.newGuid ? ctx.newGuid() : randomUUID()));
def('uri', 2, 2, (a) => {
  const base = str(a[0], 'uri');
  const rel = str(a[1], 'uri', 1);
  try {
    return new URL(rel, base).toString().replace(/\/$/, base.endsWith('/') || rel.endsWith('/') || rel === '' ? '/' : '');
  } catch {
    throw new EvalError(`uri(): '${base}' is not an absolute URI`, 'GH_BICEP_EVAL');
  }
});
def('uriComponent', 1, 1, (a) => uriComponent(str(a[0], 'uriComponent')));
def('uriComponentToString', 1, 1, (a) => decodeURIComponent(str(a[0], 'uriComponentToString')));
def('utcNow', 0, 1, (a, ctx) => formatDate(ctx.now ?? new Date(), a.length ? str(a[0], 'utcNow') : 'yyyyMMddTHHmmssZ'));
def('dateTimeAdd', 2, 3, (a) => {
  const base = new Date(str(a[0], 'dateTimeAdd'));
  if (Number.isNaN(base.getTime())) throw new EvalError(`dateTimeAdd(): '${a[0]}' is not a date`, 'GH_BICEP_EVAL');
  const d = parseDuration(str(a[1], 'dateTimeAdd', 1));
  const r = new Date(base.getTime());
  r.setUTCFullYear(r.getUTCFullYear() + d.sign * d.y, r.getUTCMonth() + d.sign * d.mo);
  r.setTime(r.getTime() + d.sign * (((d.w * 7 + d.day) * 24 + d.h) * 3600 + d.mi * 60 + d.s) * 1000);
  return a.length > 2 ? formatDate(r, str(a[2], 'dateTimeAdd', 2)) : isoNoMillis(r);
});
def('dateTimeFromEpoch', 1, 1, (a) => isoNoMillis(new Date(int(a[0], 'dateTimeFromEpoch') * 1000)));
def('dateTimeToEpoch', 1, 1, (a) => {
  const d = new Date(str(a[0], 'dateTimeToEpoch'));
  if (Number.isNaN(d.getTime())) throw new EvalError(`dateTimeToEpoch(): '${a[0]}' is not a date`, 'GH_BICEP_EVAL');
  return Math.floor(d.getTime() / 1000);
});

// arrays and objects
def('range', 2, 2, (a) => {
  const start = int(a[0], 'range');
  const count = int(a[1], 'range', 1);
  if (count < 0 || count > 10000) throw new EvalError(`range(): count ${count} is outside 0..10000`, 'GH_BICEP_EVAL');
  return Array.from({ length: count }, (_, i) => start + i);
});
def('union', 1, Infinity, (a) => {
  if (a.every((x) => Array.isArray(x) || x === null)) {
    const out: unknown[] = [];
    for (const xs of a) for (const x of (xs as unknown[] | null) ?? []) if (!out.some((y) => deepEquals(x, y))) out.push(x);
    return out;
  }
  return a.reduce((acc: JsonObject, x, i) => (x === null ? acc : unionObjects(acc, obj(x, 'union', i))), {});
});
def('intersection', 1, Infinity, (a) => {
  if (Array.isArray(a[0])) {
    const rest = a.slice(1).map((x, i) => arr(x, 'intersection', i + 1));
    const out: unknown[] = [];
    for (const x of a[0]) if (rest.every((r) => r.some((y) => deepEquals(x, y))) && !out.some((y) => deepEquals(x, y))) out.push(x);
    return out;
  }
  const first = obj(a[0], 'intersection');
  const rest = a.slice(1).map((x, i) => obj(x, 'intersection', i + 1));
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((r) => { const rk = findKey(r, k); return rk !== undefined && deepEquals(r[rk], v); })) out[k] = v;
  return out;
});
def('shallowMerge', 1, 1, (a) => Object.assign({}, ...arr(a[0], 'shallowMerge').map((x, i) => (x === null ? {} : obj(x, 'shallowMerge', i)))));
def('flatten', 1, 1, (a) => arr(a[0], 'flatten').flatMap((x, i) => (x === null ? [] : arr(x, 'flatten', i))));
def('items', 1, 1, (a) => {
  const o = obj(a[0], 'items');
  return Object.keys(o)
    .sort((x, y) => {
      const lx = x.toLowerCase();
      const ly = y.toLowerCase();
      return lx < ly ? -1 : lx > ly ? 1 : x < y ? -1 : x > y ? 1 : 0;
    })
    .map((k) => ({ key: k, value: o[k] }));
});
def('objectKeys', 1, 1, (a) => Object.keys(obj(a[0], 'objectKeys')));
def('tryGet', 2, Infinity, (a) => {
  let v = a[0];
  for (const k of a.slice(1)) {
    if (v === null || v === undefined) return null;
    if (Array.isArray(v) && typeof k === 'number') v = k >= 0 && k < v.length ? v[k] : null;
    else if (isObject(v) && typeof k === 'string') {
      const key = findKey(v, k);
      v = key === undefined ? null : v[key];
    } else return null;
  }
  return v ?? null;
});
def('indexFromEnd', 2, 2, (a) => {
  const xs = arr(a[0], 'indexFromEnd');
  const n = int(a[1], 'indexFromEnd', 1);
  if (n < 1 || n > xs.length) throw new EvalError(`indexFromEnd(): index ^${n} is outside the array of length ${xs.length}`, 'GH_BICEP_EVAL');
  return xs[xs.length - n];
});
def('distinct', 1, 1, (a) => {
  const out: unknown[] = [];
  for (const x of arr(a[0], 'distinct')) if (!out.some((y) => deepEquals(x, y))) out.push(x);
  return out;
});

// lambdas
def('map', 2, 2, (a) => {
  const l = lambda(a[1], 'map', 1);
  return arr(a[0], 'map').map((x, i) => l.invoke([x, i]));
});
def('filter', 2, 2, (a) => {
  const l = lambda(a[1], 'filter', 1);
  return arr(a[0], 'filter').filter((x, i) => bool(l.invoke([x, i]), 'filter'));
});
def('reduce', 3, 3, (a) => {
  const l = lambda(a[2], 'reduce', 2);
  return arr(a[0], 'reduce').reduce((acc, x, i) => l.invoke([acc, x, i]), a[1]);
});
def('sort', 2, 2, (a) => {
  const l = lambda(a[1], 'sort', 1);
  // ARM sorts with a "less than" predicate; a stable merge sort keeps equal items in order.
  const xs = [...arr(a[0], 'sort')];
  const sorted = mergeSort(xs, (x, y) => bool(l.invoke([x, y]), 'sort'));
  return sorted;
});
def('toObject', 2, 3, (a) => {
  const k = lambda(a[1], 'toObject', 1);
  const v = a.length > 2 ? lambda(a[2], 'toObject', 2) : undefined;
  const o: JsonObject = {};
  for (const x of arr(a[0], 'toObject')) o[str(k.invoke([x]), 'toObject')] = v ? v.invoke([x]) : x;
  return o;
});
def('mapValues', 2, 2, (a) => {
  const l = lambda(a[1], 'mapValues', 1);
  const o: JsonObject = {};
  for (const [k, v] of Object.entries(obj(a[0], 'mapValues'))) o[k] = l.invoke([v]);
  return o;
});
def('groupBy', 2, 3, (a) => {
  const l = lambda(a[1], 'groupBy', 1);
  const v = a.length > 2 ? lambda(a[2], 'groupBy', 2) : undefined;
  const o: JsonObject = {};
  for (const x of arr(a[0], 'groupBy')) {
    const k = str(l.invoke([x]), 'groupBy');
    ((o[k] ??= []) as unknown[]).push(v ? v.invoke([x]) : x);
  }
  return o;
});
def('like', 2, 2, (a) => {
  const re = new RegExp('^' + str(a[1], 'like', 1).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'is');
  return re.test(str(a[0], 'like'));
});

// CIDR
def('parseCidr', 1, 1, (a) => {
  const { network, bits, size } = parseIpv4Cidr(str(a[0], 'parseCidr'));
  const mask = 2 ** 32 - size;
  return {
    network: ipv4ToString(network),
    netmask: ipv4ToString(mask),
    broadcast: ipv4ToString(network + size - 1),
    firstUsable: ipv4ToString(bits >= 31 ? network : network + 1),
    lastUsable: ipv4ToString(bits >= 31 ? network + size - 1 : network + size - 2),
    cidr: bits,
  };
});
def('cidrSubnet', 3, 3, (a) => {
  const { network, bits } = parseIpv4Cidr(str(a[0], 'cidrSubnet'), 'cidrSubnet');
  const nb = int(a[1], 'cidrSubnet', 1);
  const idx = int(a[2], 'cidrSubnet', 2);
  if (nb < bits || nb > 32) throw new EvalError(`cidrSubnet(): new prefix /${nb} must be between /${bits} and /32`, 'GH_BICEP_EVAL');
  const count = 2 ** (nb - bits);
  if (idx < 0 || idx >= count) throw new EvalError(`cidrSubnet(): index ${idx} is outside 0..${count - 1}`, 'GH_BICEP_EVAL');
  return `${ipv4ToString(network + idx * 2 ** (32 - nb))}/${nb}`;
});
def('cidrHost', 2, 2, (a) => {
  const { network, bits, size } = parseIpv4Cidr(str(a[0], 'cidrHost'), 'cidrHost');
  const idx = int(a[1], 'cidrHost', 1);
  const usable = bits >= 31 ? size : size - 2;
  if (idx < 0 || idx >= usable) throw new EvalError(`cidrHost(): host index ${idx} is outside 0..${usable - 1}`, 'GH_BICEP_EVAL');
  return ipv4ToString(network + (bits >= 31 ? 0 : 1) + idx);
});

// scope and ids
def('resourceId', 2, Infinity, (a, ctx) => resourceIdFn(ctx.scope, a));
def('subscriptionResourceId', 2, Infinity, (a, ctx) => subscriptionResourceIdFn(ctx.scope, a));
def('tenantResourceId', 2, Infinity, (a) => tenantResourceIdFn(a));
def('extensionResourceId', 3, Infinity, (a) => extensionResourceIdFn(a));
def('managementGroupResourceId', 2, Infinity, (a, ctx) => managementGroupResourceIdFn(ctx.scope, a));
def('resourceGroup', 0, 2, (a, ctx) =>
  a.length === 2 ? resourceGroupObject(ctx.scope, str(a[0], 'resourceGroup'), str(a[1], 'resourceGroup', 1)) : resourceGroupObject(ctx.scope, undefined, a.length ? str(a[0], 'resourceGroup') : undefined),
);
def('subscription', 0, 1, (a, ctx) => subscriptionObject(ctx.scope, a.length ? str(a[0], 'subscription') : undefined));
def('tenant', 0, 0, (_a, ctx) => ({ id: `/tenants/${ctx.scope.tenantId}`, tenantId: ctx.scope.tenantId, countryCode: 'NL', displayName: 'Gatehouse local tenant' }));
def('managementGroup', 0, 1, (a, ctx) => {
  const name = a.length ? str(a[0], 'managementGroup') : ctx.scope.managementGroup;
  return { id: `/providers/Microsoft.Management/managementGroups/${name}`, name, type: 'Microsoft.Management/managementGroups', properties: {} };
});
def('deployment', 0, 0, (_a, ctx) => deploymentObject(ctx.scope));
def('environment', 0, 0, () => clone(ENVIRONMENT));
def('fail', 1, 1, (a) => {
  throw new EvalError(`fail(): ${toArmString(a[0])}`, 'GH_BICEP_FAIL');
});
def('pickZones', 3, 5, () => []);

function mergeSort<T>(xs: T[], less: (a: T, b: T) => boolean): T[] {
  if (xs.length <= 1) return xs;
  const mid = xs.length >> 1;
  const l = mergeSort(xs.slice(0, mid), less);
  const r = mergeSort(xs.slice(mid), less);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < l.length && j < r.length) out.push(less(r[j]!, l[i]!) ? r[j++]! : l[i++]!);
  return out.concat(l.slice(i), r.slice(j));
}

/** Functions that see Unknown arguments themselves instead of returning Unknown. */
const UNKNOWN_TOLERANT = new Set(['coalesce', 'if', 'createarray', 'createobject', 'array', 'any', 'tryget']);

export function hasBuiltin(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(B, name.toLowerCase());
}

export function builtinNames(): string[] {
  return Object.keys(B);
}

/** Calls a built-in function by (case-insensitive) name. Throws EvalError for unknown names. */
export function callBuiltin(name: string, args: unknown[], ctx: FunctionContext): unknown {
  const key = name.toLowerCase();
  const f = B[key];
  if (!f) throw new EvalError(`unknown function '${name}'`, 'GH_BICEP_UNKNOWN_FUNCTION');
  if (!UNKNOWN_TOLERANT.has(key)) {
    // concat of arrays keeps unknown items; anything else with an unknown argument is unknown
    const arraysOnly = key === 'concat' && args.every((x) => Array.isArray(x) || x === null);
    if (!arraysOnly) {
      const u = args.find(isUnknown) ?? (key === 'flatten' && Array.isArray(args[0]) ? args[0].find(isUnknown) : undefined);
      if (u) return new Unknown(`${name}(${args.map((x) => (isUnknown(x) ? x.expression : JSON.stringify(x) ?? 'null')).join(', ').slice(0, 300)})`);
    }
  }
  return f(args, ctx);
}
