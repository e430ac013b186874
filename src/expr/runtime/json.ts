/**
 * Newtonsoft.Json.Linq: JToken, JValue, JObject, JArray, JProperty, and JsonConvert, with
 * Newtonsoft's output format (Formatting.Indented uses two spaces and \r\n as on the Windows
 * gateway; Formatting.None is compact) and its explicit conversions ((string)token, (int)token …).
 */
import { DotNetException } from '../errors.js';
import { CsObject, csEquals, csToString, EnumValue, ex, formatDouble, iterate, type Runtime } from './core.js';
import { AnonymousObject, CsList, DictionaryBase, KeyValuePair } from './collections.js';
import { OutRef, typeDisplay, type RType } from './types.js';
import { DateTime, DateTimeOffset } from './datetime.js';

/** Newtonsoft's DateParseHandling.DateTime: an ISO 8601 date-time string becomes a Date token. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$/;

function dateToken(s: string): JValue | undefined {
  const m = ISO_DATE.exec(s);
  if (!m) return undefined;
  let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + (m[7] ? Number('0.' + m[7]) * 1000 : 0);
  if (Number.isNaN(ms) || Number(m[2]) > 12 || Number(m[3]) > 31 || Number(m[4]) > 23) return undefined;
  const z = m[8];
  if (z && z !== 'Z') ms -= (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(4))) * 60000;
  try {
    return new JValue(new DateTime(ms, z === 'Z' ? 'Utc' : z ? 'Local' : 'Unspecified'), 'Date');
  } catch {
    return undefined;
  }
}

const ISO_FORMAT = "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK";

export type JTokenKind = 'Object' | 'Array' | 'Property' | 'Integer' | 'Float' | 'String' | 'Boolean' | 'Null' | 'Date' | 'Guid' | 'Uri' | 'TimeSpan' | 'Bytes' | 'Undefined' | 'Raw';
const TOKEN_TYPE_VALUES: Record<string, number> = { None: 0, Object: 1, Array: 2, Constructor: 3, Property: 4, Comment: 5, Integer: 6, Float: 7, String: 8, Boolean: 9, Null: 10, Undefined: 11, Date: 12, Raw: 13, Bytes: 14, Guid: 15, Uri: 16, TimeSpan: 17 };

export function tokenTypeEnum(name: string): EnumValue {
  return new EnumValue('Newtonsoft.Json.Linq.JTokenType', name, TOKEN_TYPE_VALUES[name] ?? 0);
}

const NL = '\r\n';

export abstract class JToken extends CsObject {
  parent: JContainer | undefined;
  abstract get kind(): JTokenKind;
  get Type(): EnumValue {
    return tokenTypeEnum(this.kind);
  }
  get Parent(): JToken | null {
    return this.parent ?? null;
  }
  get Root(): JToken {
    let t: JToken = this;
    while (t.parent) t = t.parent;
    return t;
  }
  get HasValues(): boolean {
    return false;
  }
  get Path(): string {
    const parts: string[] = [];
    let t: JToken = this;
    while (t.parent) {
      const p: JContainer = t.parent;
      if (p instanceof JArray) parts.unshift(`[${p.items.indexOf(t)}]`);
      else if (t instanceof JProperty) parts.unshift(/^[A-Za-z_$][\w$]*$/.test(t.Name) ? `.${t.Name}` : `['${t.Name}']`);
      t = p;
    }
    return parts.join('').replace(/^\./, '');
  }
  get First(): JToken | null {
    return null;
  }
  get Last(): JToken | null {
    return null;
  }
  get Next(): JToken | null {
    const p = this.parent;
    if (!p) return null;
    const c = p.childList();
    return c[c.indexOf(this) + 1] ?? null;
  }
  get Previous(): JToken | null {
    const p = this.parent;
    if (!p) return null;
    const c = p.childList();
    return c[c.indexOf(this) - 1] ?? null;
  }
  Children(): JToken[] {
    return [];
  }
  Values$T(typeArgs: readonly RType[], key?: unknown): unknown[] {
    const src = key === undefined ? this.Children().flatMap((c) => (c instanceof JProperty ? [c.Value] : [c])) : this.Children().map((c) => c.$index(undefined as unknown as Runtime, [key]));
    const t = typeArgs[0];
    return src.map((v) => (t ? convertToken(v as JToken, typeDisplay(t)) : v));
  }
  Values(key?: unknown): unknown[] {
    return this.Values$T([], key);
  }
  Value$T(typeArgs: readonly RType[], key?: unknown): unknown {
    const v = key === undefined ? this : (this.$index(undefined as unknown as Runtime, [key]) as JToken | null);
    const t = typeArgs[0];
    if (v === null || v === undefined) return null;
    return t ? convertToken(v, typeDisplay(t)) : v;
  }
  $index(_rt: Runtime, args: unknown[]): unknown {
    void args;
    throw ex.invalidOp(`Cannot access child value on ${this.constructor.name}.`);
  }
  ToObject$T(typeArgs: readonly RType[]): unknown {
    const t = typeArgs[0];
    return t ? convertToken(this, typeDisplay(t)) : this.toPlain();
  }
  ToObject(): unknown {
    return this.toPlain();
  }
  abstract toPlain(): unknown;
  abstract write(indent: string | undefined, depth: number): string;
  abstract clone(): JToken;
  DeepClone(): JToken {
    return this.clone();
  }
  SelectToken(path: unknown, errorWhenNoMatch?: unknown): JToken | null {
    const r = selectTokens(this, String(path));
    if (r.length > 1) throw new DotNetException('Newtonsoft.Json.JsonException', 'Path returned multiple tokens.');
    if (r.length === 0 && errorWhenNoMatch === true) throw new DotNetException('Newtonsoft.Json.JsonException', `Path '${String(path)}' does not exist.`);
    return r[0] ?? null;
  }
  SelectTokens(path: unknown): JToken[] {
    return selectTokens(this, String(path));
  }
  Remove(): void {
    if (!this.parent) throw ex.invalidOp('The parent is missing.');
    this.parent.removeChild(this);
  }
  Replace(v: unknown): void {
    if (!this.parent) throw ex.invalidOp('The parent is missing.');
    this.parent.replaceChild(this, toToken(v));
  }
  AddAfterSelf(v: unknown): void {
    if (!(this.parent instanceof JArray)) throw ex.invalidOp('The parent is missing.');
    const a = this.parent;
    a.items.splice(a.items.indexOf(this) + 1, 0, a.adopt(toToken(v)));
  }
  AddBeforeSelf(v: unknown): void {
    if (!(this.parent instanceof JArray)) throw ex.invalidOp('The parent is missing.');
    const a = this.parent;
    a.items.splice(a.items.indexOf(this), 0, a.adopt(toToken(v)));
  }
  override ToString(formatting?: unknown): string {
    const none = formatting instanceof EnumValue && formatting.name === 'None';
    return this.write(none ? undefined : '  ', 0);
  }
  $explicit(target: string): unknown {
    return convertToken(this, target);
  }
}

export class JValue extends JToken {
  constructor(public value: unknown, readonly valueKind: JTokenKind) {
    super();
  }
  get $type(): string {
    return 'Newtonsoft.Json.Linq.JValue';
  }
  get kind(): JTokenKind {
    return this.valueKind;
  }
  get Value(): unknown {
    return this.value;
  }
  set Value(v: unknown) {
    const t = fromPlain(v);
    if (t instanceof JValue) {
      this.value = t.value;
      (this as { valueKind: JTokenKind }).valueKind = t.valueKind;
    }
  }
  toPlain(): unknown {
    return this.value;
  }
  write(): string {
    switch (this.valueKind) {
      case 'Null':
      case 'Undefined':
        return 'null';
      case 'Boolean':
        return this.value ? 'true' : 'false';
      case 'Integer':
        return typeof this.value === 'bigint' ? this.value.toString() : String(this.value);
      case 'Float': {
        const n = this.value as number;
        if (Number.isNaN(n)) return '"NaN"';
        if (!Number.isFinite(n)) return n > 0 ? '"Infinity"' : '"-Infinity"';
        const s = formatDouble(n);
        return /[.E]/.test(s) ? s : s + '.0';
      }
      case 'Raw':
        return String(this.value);
      case 'Date':
        if (this.value instanceof DateTime || this.value instanceof DateTimeOffset) return JSON.stringify(this.value.ToString(ISO_FORMAT));
        return JSON.stringify(csToString(this.value));
      default:
        return JSON.stringify(csToString(this.value));
    }
  }
  clone(): JToken {
    return new JValue(this.value, this.valueKind);
  }
  override ToString(formatting?: unknown): string {
    if (formatting instanceof EnumValue) return this.write();
    if (this.valueKind === 'Null') return '';
    if (this.valueKind === 'Boolean') return this.value ? 'True' : 'False';
    return csToString(this.value);
  }
  $eq(o: unknown): boolean {
    if (o instanceof JValue) return csEquals(this.value, o.value);
    return false;
  }
  override Equals(o: unknown): boolean {
    return o instanceof JValue ? csEquals(this.value, o.value) : csEquals(this.value, o);
  }
  CompareTo(o: unknown): number {
    const a = this.value;
    const b = o instanceof JValue ? o.value : o;
    if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
    return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  }
}

export abstract class JContainer extends JToken {
  abstract childList(): JToken[];
  abstract removeChild(t: JToken): void;
  abstract replaceChild(t: JToken, n: JToken): void;
  override get HasValues(): boolean {
    return this.childList().length > 0;
  }
  override get First(): JToken | null {
    return this.childList()[0] ?? null;
  }
  override get Last(): JToken | null {
    const c = this.childList();
    return c[c.length - 1] ?? null;
  }
  override Children(): JToken[] {
    return [...this.childList()];
  }
  Descendants(): JToken[] {
    const out: JToken[] = [];
    const walk = (t: JToken): void => {
      for (const c of t instanceof JContainer ? t.childList() : []) {
        out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }
  adopt<T extends JToken>(t: T): T {
    if (t.parent) {
      const c = t.clone() as T;
      c.parent = this;
      return c;
    }
    t.parent = this;
    return t;
  }
}

export class JProperty extends JContainer {
  private val: JToken;
  constructor(readonly Name: string, value: unknown) {
    super();
    this.val = this.adopt(toToken(value));
  }
  get $type(): string {
    return 'Newtonsoft.Json.Linq.JProperty';
  }
  get kind(): JTokenKind {
    return 'Property';
  }
  get Value(): JToken {
    return this.val;
  }
  set Value(v: unknown) {
    this.val = this.adopt(toToken(v));
  }
  childList(): JToken[] {
    return [this.val];
  }
  removeChild(): void {
    throw ex.invalidOp('Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.');
  }
  replaceChild(_t: JToken, n: JToken): void {
    this.val = this.adopt(n);
  }
  toPlain(): unknown {
    return this.val.toPlain();
  }
  write(indent: string | undefined, depth: number): string {
    return `${JSON.stringify(this.Name)}:${indent !== undefined ? ' ' : ''}${this.val.write(indent, depth)}`;
  }
  clone(): JToken {
    return new JProperty(this.Name, this.val.clone());
  }
}

export class JObject extends JContainer {
  readonly props = new Map<string, JProperty>();
  get $type(): string {
    return 'Newtonsoft.Json.Linq.JObject';
  }
  get kind(): JTokenKind {
    return 'Object';
  }
  [Symbol.iterator](): Iterator<unknown> {
    return [...this.props.values()].map((p) => new KeyValuePair(p.Name, p.Value))[Symbol.iterator]();
  }
  childList(): JToken[] {
    return [...this.props.values()];
  }
  removeChild(t: JToken): void {
    if (t instanceof JProperty) this.props.delete(t.Name);
  }
  replaceChild(t: JToken, n: JToken): void {
    if (t instanceof JProperty && n instanceof JProperty) {
      const entries = [...this.props.entries()].map(([k, v]) => (v === t ? [n.Name, this.adopt(n)] : [k, v]) as [string, JProperty]);
      this.props.clear();
      for (const [k, v] of entries) this.props.set(k, v);
    }
  }
  get Count(): number {
    return this.props.size;
  }
  override $index(_rt: Runtime, args: unknown[]): unknown {
    const k = args[0];
    if (typeof k !== 'string') throw ex.arg(`Accessed JObject values with invalid key value: ${csToString(k)}. Object property name expected.`);
    return this.props.get(k)?.Value ?? null;
  }
  $setIndex(_rt: Runtime, args: unknown[], v: unknown): void {
    const k = String(args[0]);
    const p = this.props.get(k);
    if (p) p.Value = v;
    else this.props.set(k, this.adopt(new JProperty(k, v)));
  }
  Add(a: unknown, b?: unknown): void {
    if (a instanceof JProperty) {
      if (this.props.has(a.Name)) throw ex.arg(`Can not add property ${a.Name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.`);
      this.props.set(a.Name, this.adopt(a));
      return;
    }
    if (typeof a !== 'string') throw ex.arg(`Can not add ${csToString(a)} to Newtonsoft.Json.Linq.JObject.`);
    if (this.props.has(a)) throw ex.arg(`Can not add property ${a} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.`);
    this.props.set(a, this.adopt(new JProperty(a, b)));
  }
  override Remove(name?: unknown): boolean | void {
    if (name === undefined) return super.Remove();
    const p = this.props.get(String(name));
    if (!p) return false;
    this.props.delete(String(name));
    p.parent = undefined;
    return true;
  }
  ContainsKey(k: unknown): boolean {
    return this.props.has(String(k));
  }
  TryGetValue(k: unknown, out: unknown): boolean {
    const p = this.props.get(String(k));
    if (out instanceof OutRef) out.set(p ? p.Value : null);
    return !!p;
  }
  GetValue(k: unknown, cmp?: unknown): JToken | null {
    const key = String(k);
    if (cmp instanceof EnumValue && (cmp.value & 1) === 1) {
      for (const p of this.props.values()) if (p.Name.toLowerCase() === key.toLowerCase()) return p.Value;
      return null;
    }
    return this.props.get(key)?.Value ?? null;
  }
  Property(name: unknown, cmp?: unknown): JProperty | null {
    const key = String(name);
    if (cmp instanceof EnumValue && (cmp.value & 1) === 1) {
      for (const p of this.props.values()) if (p.Name.toLowerCase() === key.toLowerCase()) return p;
      return null;
    }
    return this.props.get(key) ?? null;
  }
  Properties(): JProperty[] {
    return [...this.props.values()];
  }
  PropertyValues(): JToken[] {
    return [...this.props.values()].map((p) => p.Value);
  }
  Merge(other: unknown): void {
    if (!(other instanceof JObject)) return;
    for (const p of other.props.values()) {
      const mine = this.props.get(p.Name);
      if (mine && mine.Value instanceof JObject && p.Value instanceof JObject) mine.Value.Merge(p.Value);
      else this.$setIndex(undefined as unknown as Runtime, [p.Name], p.Value.clone());
    }
  }
  toPlain(): unknown {
    const o: Record<string, unknown> = {};
    for (const p of this.props.values()) o[p.Name] = p.Value.toPlain();
    return o;
  }
  write(indent: string | undefined, depth: number): string {
    const ps = [...this.props.values()];
    if (!ps.length) return '{}';
    if (indent === undefined) return `{${ps.map((p) => p.write(undefined, depth + 1)).join(',')}}`;
    const pad = indent.repeat(depth + 1);
    return `{${NL}${ps.map((p) => pad + p.write(indent, depth + 1)).join(',' + NL)}${NL}${indent.repeat(depth)}}`;
  }
  clone(): JToken {
    const o = new JObject();
    for (const p of this.props.values()) o.props.set(p.Name, o.adopt(p.clone() as JProperty));
    return o;
  }
}

export class JArray extends JContainer {
  readonly items: JToken[] = [];
  get $type(): string {
    return 'Newtonsoft.Json.Linq.JArray';
  }
  get kind(): JTokenKind {
    return 'Array';
  }
  [Symbol.iterator](): Iterator<unknown> {
    return [...this.items][Symbol.iterator]();
  }
  childList(): JToken[] {
    return this.items;
  }
  removeChild(t: JToken): void {
    const i = this.items.indexOf(t);
    if (i >= 0) this.items.splice(i, 1);
  }
  replaceChild(t: JToken, n: JToken): void {
    const i = this.items.indexOf(t);
    if (i >= 0) this.items[i] = this.adopt(n);
  }
  get Count(): number {
    return this.items.length;
  }
  override $index(_rt: Runtime, args: unknown[]): unknown {
    const i = args[0];
    if (typeof i !== 'number') throw ex.arg(`Accessed JArray values with invalid key value: ${JSON.stringify(csToString(i))}. Int32 array index expected.`);
    if (i < 0 || i >= this.items.length) throw ex.argRange('index', 'Index was out of range. Must be non-negative and less than the size of the collection.');
    return this.items[i];
  }
  $setIndex(_rt: Runtime, args: unknown[], v: unknown): void {
    const i = Number(args[0]);
    if (i < 0 || i >= this.items.length) throw ex.argRange('index', 'Index was out of range. Must be non-negative and less than the size of the collection.');
    this.items[i] = this.adopt(toToken(v));
  }
  Add(v: unknown): void {
    this.items.push(this.adopt(toToken(v)));
  }
  Insert(i: number, v: unknown): void {
    this.items.splice(i, 0, this.adopt(toToken(v)));
  }
  override Remove(v?: unknown): boolean | void {
    if (v === undefined) return super.Remove();
    const i = this.items.findIndex((x) => x === v || (x instanceof JValue && x.Equals(v)));
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
  RemoveAt(i: number): void {
    if (i < 0 || i >= this.items.length) throw ex.argRange('index');
    this.items.splice(i, 1);
  }
  Clear(): void {
    this.items.length = 0;
  }
  Contains(v: unknown): boolean {
    return this.items.some((x) => x === v || (x instanceof JValue && v instanceof JValue && x.Equals(v)));
  }
  IndexOf(v: unknown): number {
    return this.items.indexOf(v as JToken);
  }
  toPlain(): unknown {
    return this.items.map((i) => i.toPlain());
  }
  write(indent: string | undefined, depth: number): string {
    if (!this.items.length) return '[]';
    if (indent === undefined) return `[${this.items.map((i) => i.write(undefined, depth + 1)).join(',')}]`;
    const pad = indent.repeat(depth + 1);
    return `[${NL}${this.items.map((i) => pad + i.write(indent, depth + 1)).join(',' + NL)}${NL}${indent.repeat(depth)}]`;
  }
  clone(): JToken {
    const a = new JArray();
    for (const i of this.items) a.items.push(a.adopt(i.clone()));
    return a;
  }
}

/** Implicit conversion of a runtime value to a JToken (JObject["x"] = value, new JProperty(name, value), JArray.Add). */
export function toToken(v: unknown): JToken {
  if (v instanceof JToken) return v;
  return fromPlain(v);
}

/** JToken.FromObject / JsonConvert: runtime values to tokens. */
export function fromPlain(v: unknown, depth = 0): JToken {
  if (depth > 64) throw new DotNetException('Newtonsoft.Json.JsonSerializationException', 'Self referencing loop detected.');
  if (v === null || v === undefined) return new JValue(null, 'Null');
  if (v instanceof JToken) return v.clone();
  switch (typeof v) {
    case 'string':
      return new JValue(v, 'String');
    case 'boolean':
      return new JValue(v, 'Boolean');
    case 'number':
      return new JValue(v, Number.isInteger(v) ? 'Integer' : 'Float');
    case 'bigint':
      return new JValue(v, 'Integer');
    default:
      break;
  }
  if (v instanceof Uint8Array) return new JValue(Buffer.from(v).toString('base64'), 'String');
  if (v instanceof AnonymousObject) {
    const o = new JObject();
    v.names.forEach((n, i) => o.Add(n, fromPlain(v.values[i], depth + 1)));
    return o;
  }
  if (v instanceof DictionaryBase) {
    const o = new JObject();
    for (const [k, x] of v.entries()) o.$setIndex(undefined as unknown as Runtime, [csToString(k)], fromPlain(x, depth + 1));
    return o;
  }
  if (Array.isArray(v) || v instanceof CsList || (v instanceof CsObject && typeof (v as unknown as Iterable<unknown>)[Symbol.iterator] === 'function')) {
    const a = new JArray();
    for (const x of iterate(v)) a.Add(fromPlain(x, depth + 1));
    return a;
  }
  if (v instanceof CsObject) {
    const iso = (v as unknown as { $json?: () => string }).$json;
    if (iso) return new JValue(iso.call(v), 'String');
    if (v instanceof DateTime || v instanceof DateTimeOffset) return new JValue(v, 'Date');
    if (v instanceof EnumValue) return new JValue(v.value, 'Integer');
    return new JValue(v.ToString(), 'String');
  }
  if (typeof v === 'object') {
    const o = new JObject();
    for (const [k, x] of Object.entries(v as object)) o.Add(k, fromPlain(x, depth + 1));
    return o;
  }
  return new JValue(csToString(v), 'String');
}

/** Explicit conversions of Newtonsoft: (string)token, (int)token, token.Value<T>() … */
export function convertToken(t: JToken | null, target: string): unknown {
  if (t === null) return null;
  if (target === 'Newtonsoft.Json.Linq.JToken' || target === 'System.Object') return t;
  if (target.startsWith('Newtonsoft.Json.Linq.')) {
    if (t.$type === target || (target === 'Newtonsoft.Json.Linq.JContainer' && t instanceof JContainer)) return t;
    throw ex.invalidCast(t, target);
  }
  if (!(t instanceof JValue)) {
    const what = t.kind;
    throw ex.arg(`Can not convert ${what} to ${target.replace('System.', '')}.`);
  }
  const v = t.value;
  if (v === null) {
    if (target === 'System.String') return null;
    throw ex.arg(`Can not convert Null to ${target.replace('System.', '')}.`);
  }
  if (v instanceof DateTime || v instanceof DateTimeOffset) {
    // Newtonsoft converts with the invariant culture
    if (target === 'System.String') return v.ToString('MM/dd/yyyy HH:mm:ss');
    if (target === 'System.DateTime') return v instanceof DateTime ? v : v.UtcDateTime;
    if (target === 'System.DateTimeOffset') return v instanceof DateTimeOffset ? v : new DateTimeOffset(v.ms, 0);
  }
  switch (target) {
    case 'System.String':
      return t.ToString();
    case 'System.Boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') {
        if (/^true$/i.test(v)) return true;
        if (/^false$/i.test(v)) return false;
        throw ex.format(`String '${v}' was not recognized as a valid Boolean.`);
      }
      return Number(v) !== 0;
    case 'System.Int32':
    case 'System.Int64':
    case 'System.Int16':
    case 'System.Byte':
    case 'System.UInt32':
    case 'System.UInt64': {
      const n = typeof v === 'string' ? Number(v.trim()) : typeof v === 'boolean' ? Number(v) : Number(v);
      if (typeof v === 'string' && !/^\s*[+-]?\d+(\.\d+)?\s*$/.test(v)) throw ex.format(`The input string '${v}' was not in a correct format.`);
      return Math.round(n);
    }
    case 'System.Double':
    case 'System.Single':
    case 'System.Decimal': {
      const n = Number(v);
      if (typeof v === 'string' && Number.isNaN(n)) throw ex.format(`The input string '${v}' was not in a correct format.`);
      return n;
    }
    default:
      return v;
  }
}

// ───── parsing ─────
class JsonParser {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  constructor(private readonly s: string) {}
  private fail(msg: string): never {
    const path = '';
    throw new DotNetException('Newtonsoft.Json.JsonReaderException', `${msg} Path '${path}', line ${this.line}, position ${this.i - this.lineStart}.`);
  }
  private ws(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === '\n') {
        this.line++;
        this.i++;
        this.lineStart = this.i;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\ufeff') this.i++;
      else if (c === '/' && s[this.i + 1] === '/') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (c === '/' && s[this.i + 1] === '*') {
        const e = s.indexOf('*/', this.i + 2);
        this.i = e < 0 ? s.length : e + 2;
      } else return;
    }
  }
  parseRoot(): JToken {
    this.ws();
    if (this.i >= this.s.length) this.fail('Unexpected end of content while loading JObject.');
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.fail(`Additional text encountered after finished reading JSON content: ${this.s[this.i]}.`);
    return v;
  }
  private value(depth: number): JToken {
    if (depth > 256) this.fail('The reader\'s MaxDepth of 256 has been exceeded.');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"' || c === "'") {
      const str = this.string();
      return (str.length >= 19 && str.length <= 33 && dateToken(str)) || new JValue(str, 'String');
    }
    if (c === undefined) this.fail('Unexpected end when reading JSON.');
    const m = /^(-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.s.slice(this.i, this.i + 400));
    if (m && /[-\d]/.test(c)) {
      this.i += m[1]!.length;
      const text = m[1]!;
      const isFloat = /[.eE]/.test(text);
      if (!isFloat) {
        const n = Number(text);
        return new JValue(Number.isSafeInteger(n) ? n : BigInt(text), 'Integer');
      }
      return new JValue(Number(text), 'Float');
    }
    for (const [word, tok] of [['true', new JValue(true, 'Boolean')], ['false', new JValue(false, 'Boolean')], ['null', new JValue(null, 'Null')], ['undefined', new JValue(null, 'Undefined')], ['NaN', new JValue(NaN, 'Float')], ['Infinity', new JValue(Infinity, 'Float')], ['-Infinity', new JValue(-Infinity, 'Float')]] as const) {
      if (this.s.startsWith(word, this.i) && !/[\w$]/.test(this.s[this.i + word.length] ?? '')) {
        this.i += word.length;
        return tok;
      }
    }
    this.fail(`Unexpected character encountered while parsing value: ${c}.`);
  }
  private string(): string {
    const q = this.s[this.i]!;
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail('Unterminated string. Expected delimiter: ' + q + '.');
      this.i++;
      if (c === q) return out;
      if (c === '\\') {
        const e = this.s[this.i++];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            const h = this.s.slice(this.i, this.i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('Invalid Unicode escape sequence.');
            out += String.fromCharCode(parseInt(h, 16));
            this.i += 4;
            break;
          }
          case undefined:
            this.fail('Unterminated string.');
            break;
          default:
            out += e;
        }
      } else out += c;
    }
  }
  private object(depth: number): JObject {
    this.i++;
    const o = new JObject();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return o;
    }
    for (;;) {
      this.ws();
      let name: string;
      const c = this.s[this.i];
      if (c === '"' || c === "'") name = this.string();
      else {
        const m = /^[A-Za-z_$][\w$-]*/.exec(this.s.slice(this.i, this.i + 256));
        if (!m) this.fail(`Invalid property identifier character: ${c ?? 'end of input'}.`);
        name = m[0];
        this.i += name.length;
      }
      this.ws();
      if (this.s[this.i] !== ':') this.fail(`Invalid character after parsing property name. Expected ':' but got: ${this.s[this.i] ?? 'end of input'}.`);
      this.i++;
      const v = this.value(depth + 1);
      o.$setIndex(undefined as unknown as Runtime, [name], v);
      this.ws();
      const d = this.s[this.i];
      if (d === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === '}') {
          this.i++;
          return o;
        }
        continue;
      }
      if (d === '}') {
        this.i++;
        return o;
      }
      this.fail(`After parsing a value an unexpected character was encountered: ${d ?? 'end of input'}.`);
    }
  }
  private array(depth: number): JArray {
    this.i++;
    const a = new JArray();
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return a;
    }
    for (;;) {
      a.Add(this.value(depth + 1));
      this.ws();
      const d = this.s[this.i];
      if (d === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === ']') {
          this.i++;
          return a;
        }
        continue;
      }
      if (d === ']') {
        this.i++;
        return a;
      }
      this.fail(`After parsing a value an unexpected character was encountered: ${d ?? 'end of input'}.`);
    }
  }
}

export function parseJson(text: unknown): JToken {
  if (text === null || text === undefined) throw ex.argNull('json');
  return new JsonParser(String(text)).parseRoot();
}

function selectTokens(root: JToken, path: string): JToken[] {
  let p = path.trim();
  if (p.startsWith('$')) p = p.slice(1);
  let current: JToken[] = [root];
  const re = /^(?:\.\.([A-Za-z_$][\w$-]*|\*)|\.?([A-Za-z_$][\w$-]*)|\.?\*|\[\s*(?:'([^']*)'|"([^"]*)"|(-?\d+)|\*)\s*\])/;
  while (p.length) {
    const m = re.exec(p);
    if (!m) throw new DotNetException('Newtonsoft.Json.JsonException', `Unexpected character while parsing path: ${p[0]}`);
    p = p.slice(m[0].length);
    const next: JToken[] = [];
    for (const t of current) {
      if (m[1] !== undefined) {
        const all = t instanceof JContainer ? t.Descendants() : [];
        for (const d of all) if (d instanceof JProperty && (m[1] === '*' || d.Name === m[1])) next.push(d.Value);
      } else if (m[2] !== undefined || m[3] !== undefined || m[4] !== undefined) {
        const name = (m[2] ?? m[3] ?? m[4])!;
        if (t instanceof JObject) {
          const v = t.props.get(name);
          if (v) next.push(v.Value);
        }
      } else if (m[5] !== undefined) {
        if (t instanceof JArray) {
          let i = Number(m[5]);
          if (i < 0) i += t.items.length;
          const v = t.items[i];
          if (v) next.push(v);
        }
      } else {
        if (t instanceof JObject) next.push(...[...t.props.values()].map((x) => x.Value));
        else if (t instanceof JArray) next.push(...t.items);
      }
    }
    current = next;
  }
  return current;
}

export function serializeObject(v: unknown, formatting: unknown): string {
  const indented = formatting instanceof EnumValue && formatting.name === 'Indented';
  const t = fromPlain(v);
  return t.write(indented ? '  ' : undefined, 0);
}

export function jsonTypeStaticsNeedRt(rt: Runtime): void {
  void rt;
}
