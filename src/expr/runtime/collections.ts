/** System.Collections.Generic and friends: List, Dictionary, HashSet, Queue, Stack, KeyValuePair, anonymous objects, tuples. */
import { CsObject, csEquals, csToString, ex, iterate, NO_MEMBER, typeNameOf, type Runtime } from './core.js';
import { OutRef } from './types.js';

export class AnonymousObject extends CsObject {
  readonly names: readonly string[];
  readonly values: unknown[];
  constructor(names: readonly string[], values: unknown[]) {
    super();
    this.names = names;
    this.values = values;
  }
  get $type(): string {
    return '<>f__AnonymousType0';
  }
  $get(name: string): unknown {
    const i = this.names.indexOf(name);
    return i < 0 ? NO_MEMBER : this.values[i];
  }
  override ToString(): string {
    return `{ ${this.names.map((n, i) => `${n} = ${csToString(this.values[i])}`).join(', ')} }`;
  }
  $eq(o: unknown): boolean {
    return o instanceof AnonymousObject && o.names.join() === this.names.join() && this.values.every((v, i) => csEquals(v, o.values[i]));
  }
}

export class KeyValuePair extends CsObject {
  constructor(readonly Key: unknown, readonly Value: unknown) {
    super();
  }
  get $type(): string {
    return 'System.Collections.Generic.KeyValuePair`2';
  }
  override ToString(): string {
    return `[${csToString(this.Key)}, ${csToString(this.Value)}]`;
  }
  $eq(o: unknown): boolean {
    return o instanceof KeyValuePair && csEquals(this.Key, o.Key) && csEquals(this.Value, o.Value);
  }
}

export class CsTuple extends CsObject {
  constructor(readonly items: unknown[]) {
    super();
  }
  get $type(): string {
    return `System.Tuple\`${this.items.length}`;
  }
  $get(name: string): unknown {
    const m = /^Item(\d)$/.exec(name);
    if (m) {
      const i = Number(m[1]) - 1;
      if (i < this.items.length) return this.items[i];
    }
    return NO_MEMBER;
  }
  override ToString(): string {
    return `(${this.items.map(csToString).join(', ')})`;
  }
  $eq(o: unknown): boolean {
    return o instanceof CsTuple && o.items.length === this.items.length && this.items.every((v, i) => csEquals(v, o.items[i]));
  }
}

function indexArg(i: unknown, len: number): number {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= len) throw ex.argRange('index', 'Index was out of range. Must be non-negative and less than the size of the collection.');
  return i;
}

export class CsList extends CsObject {
  readonly items: unknown[];
  constructor(items: Iterable<unknown> = [], readonly elemType = 'System.Object') {
    super();
    this.items = [...items];
  }
  get $type(): string {
    return `System.Collections.Generic.List\`1[${this.elemType}]`;
  }
  [Symbol.iterator](): Iterator<unknown> {
    return this.items[Symbol.iterator]();
  }
  get Count(): number {
    return this.items.length;
  }
  get Capacity(): number {
    return this.items.length;
  }
  $index(_rt: Runtime, args: unknown[]): unknown {
    return this.items[indexArg(args[0], this.items.length)];
  }
  $setIndex(_rt: Runtime, args: unknown[], v: unknown): void {
    this.items[indexArg(args[0], this.items.length)] = v;
  }
  Add(v: unknown): void {
    this.items.push(v);
  }
  AddRange(v: unknown): void {
    this.items.push(...iterate(v));
  }
  Insert(i: number, v: unknown): void {
    if (i < 0 || i > this.items.length) throw ex.argRange('index');
    this.items.splice(i, 0, v);
  }
  Remove(v: unknown): boolean {
    const i = this.items.findIndex((x) => csEquals(x, v));
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
  RemoveAt(i: number): void {
    this.items.splice(indexArg(i, this.items.length), 1);
  }
  RemoveAll(pred: (x: unknown) => unknown): number {
    const before = this.items.length;
    const keep = this.items.filter((x) => !pred(x));
    this.items.length = 0;
    this.items.push(...keep);
    return before - keep.length;
  }
  Clear(): void {
    this.items.length = 0;
  }
  Contains(v: unknown): boolean {
    return this.items.some((x) => csEquals(x, v));
  }
  IndexOf(v: unknown): number {
    return this.items.findIndex((x) => csEquals(x, v));
  }
  Find(pred: (x: unknown) => unknown): unknown {
    return this.items.find((x) => pred(x) === true) ?? null;
  }
  FindAll(pred: (x: unknown) => unknown): CsList {
    return new CsList(this.items.filter((x) => pred(x) === true), this.elemType);
  }
  FindIndex(pred: (x: unknown) => unknown): number {
    return this.items.findIndex((x) => pred(x) === true);
  }
  Exists(pred: (x: unknown) => unknown): boolean {
    return this.items.some((x) => pred(x) === true);
  }
  TrueForAll(pred: (x: unknown) => unknown): boolean {
    return this.items.every((x) => pred(x) === true);
  }
  ForEach(fn: (x: unknown) => unknown): void {
    for (const x of [...this.items]) fn(x);
  }
  Sort(cmp?: (a: unknown, b: unknown) => unknown): void {
    this.items.sort(cmp ? (a, b) => Number(cmp(a, b)) : defaultCompare);
  }
  Reverse(): void {
    this.items.reverse();
  }
  ToArray(): unknown[] {
    return [...this.items];
  }
  GetRange(i: number, n: number): CsList {
    return new CsList(this.items.slice(i, i + n), this.elemType);
  }
}

export function defaultCompare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const r = a.localeCompare(b, 'en-US');
    return r;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof CsObject && typeof (a as unknown as { CompareTo?: unknown }).CompareTo === 'function') return (a as unknown as { CompareTo: (x: unknown) => number }).CompareTo(b);
  throw ex.invalidOp(`Failed to compare two elements in the array. (${typeNameOf(a)} does not implement IComparable)`);
}

/** Keys: strings compare ordinal (or ignoring case with StringComparer.OrdinalIgnoreCase), other values by .NET equality. */
export function keyOf(k: unknown, ignoreCase: boolean): unknown {
  if (typeof k === 'string') return ignoreCase ? 's:' + k.toUpperCase() : 's:' + k;
  if (typeof k === 'number') return k;
  if (typeof k === 'boolean') return k;
  if (k instanceof CsObject) return 'o:' + typeNameOf(k) + ':' + k.ToString();
  return k;
}

/** A read-only dictionary view: subclasses give lookups; indexers, TryGetValue, LINQ come from here. */
export abstract class DictionaryBase extends CsObject {
  abstract lookup(key: string | unknown): { found: boolean; value: unknown };
  abstract entries(): Iterable<[unknown, unknown]>;
  abstract get Count(): number;
  [Symbol.iterator](): Iterator<unknown> {
    const it = this.entries()[Symbol.iterator]();
    return {
      next: () => {
        const r = it.next();
        return r.done ? { done: true, value: undefined } : { done: false, value: new KeyValuePair(r.value[0], r.value[1]) };
      },
    };
  }
  $index(_rt: Runtime, args: unknown[]): unknown {
    const k = args[0];
    if (k === null || k === undefined) throw ex.argNull('key');
    const r = this.lookup(k);
    if (!r.found) throw ex.keyNotFound(k);
    return r.value;
  }
  ContainsKey(k: unknown): boolean {
    if (k === null || k === undefined) throw ex.argNull('key');
    return this.lookup(k).found;
  }
  ContainsValue(v: unknown): boolean {
    for (const [, x] of this.entries()) if (csEquals(x, v)) return true;
    return false;
  }
  TryGetValue(k: unknown, out: unknown): boolean {
    if (k === null || k === undefined) throw ex.argNull('key');
    const r = this.lookup(k);
    if (out instanceof OutRef) out.set(r.found ? r.value : null);
    return r.found;
  }
  GetValueOrDefault(k: unknown, dflt: unknown = null): unknown {
    if (k === null || k === undefined) throw ex.argNull('key');
    const r = this.lookup(k);
    return r.found ? r.value : dflt;
  }
  get Keys(): CsList {
    return new CsList([...this.entries()].map((e) => e[0]));
  }
  get Values(): CsList {
    return new CsList([...this.entries()].map((e) => e[1]));
  }
}

export class CsDictionary extends DictionaryBase {
  readonly map = new Map<unknown, [unknown, unknown]>();
  constructor(readonly ignoreCase = false, readonly typeName = 'System.Collections.Generic.Dictionary`2') {
    super();
  }
  get $type(): string {
    return this.typeName;
  }
  lookup(key: unknown): { found: boolean; value: unknown } {
    const e = this.map.get(keyOf(key, this.ignoreCase));
    return e ? { found: true, value: e[1] } : { found: false, value: null };
  }
  *entries(): Iterable<[unknown, unknown]> {
    yield* this.map.values();
  }
  get Count(): number {
    return this.map.size;
  }
  $setIndex(_rt: Runtime, args: unknown[], v: unknown): void {
    const k = args[0];
    if (k === null || k === undefined) throw ex.argNull('key');
    const kk = keyOf(k, this.ignoreCase);
    const e = this.map.get(kk);
    if (e) e[1] = v;
    else this.map.set(kk, [k, v]);
  }
  Add(k: unknown, v: unknown): void {
    if (k instanceof KeyValuePair) {
      v = k.Value;
      k = k.Key;
    }
    if (k === null || k === undefined) throw ex.argNull('key');
    const kk = keyOf(k, this.ignoreCase);
    if (this.map.has(kk)) throw ex.arg(`An item with the same key has already been added. Key: ${csToString(k)}`);
    this.map.set(kk, [k, v]);
  }
  TryAdd(k: unknown, v: unknown): boolean {
    const kk = keyOf(k, this.ignoreCase);
    if (this.map.has(kk)) return false;
    this.map.set(kk, [k, v]);
    return true;
  }
  Remove(k: unknown): boolean {
    return this.map.delete(keyOf(k, this.ignoreCase));
  }
  Clear(): void {
    this.map.clear();
  }
}

/** A read-only dictionary over a JavaScript Map (MatchedParameters, Deployment.Certificates …). */
export class MapDictionary extends DictionaryBase {
  constructor(private readonly source: () => ReadonlyMap<string, unknown>, private readonly wrap: (v: unknown) => unknown = (v) => v, readonly typeName = 'System.Collections.Generic.IReadOnlyDictionary`2') {
    super();
  }
  get $type(): string {
    return this.typeName;
  }
  lookup(key: unknown): { found: boolean; value: unknown } {
    const m = this.source();
    if (typeof key !== 'string' || !m.has(key)) return { found: false, value: null };
    return { found: true, value: this.wrap(m.get(key)) };
  }
  *entries(): Iterable<[unknown, unknown]> {
    for (const [k, v] of this.source()) yield [k, this.wrap(v)];
  }
  get Count(): number {
    return this.source().size;
  }
}

export class CsHashSet extends CsObject {
  readonly map = new Map<unknown, unknown>();
  constructor(items: Iterable<unknown> = [], readonly ignoreCase = false) {
    super();
    for (const i of items) this.Add(i);
  }
  get $type(): string {
    return 'System.Collections.Generic.HashSet`1';
  }
  [Symbol.iterator](): Iterator<unknown> {
    return this.map.values();
  }
  get Count(): number {
    return this.map.size;
  }
  Add(v: unknown): boolean {
    const k = keyOf(v, this.ignoreCase);
    if (this.map.has(k)) return false;
    this.map.set(k, v);
    return true;
  }
  Contains(v: unknown): boolean {
    return this.map.has(keyOf(v, this.ignoreCase));
  }
  Remove(v: unknown): boolean {
    return this.map.delete(keyOf(v, this.ignoreCase));
  }
  Clear(): void {
    this.map.clear();
  }
  UnionWith(o: unknown): void {
    for (const x of iterate(o)) this.Add(x);
  }
}

export class CsQueue extends CsObject {
  readonly items: unknown[] = [];
  get $type(): string {
    return 'System.Collections.Generic.Queue`1';
  }
  [Symbol.iterator](): Iterator<unknown> {
    return this.items[Symbol.iterator]();
  }
  get Count(): number {
    return this.items.length;
  }
  Enqueue(v: unknown): void {
    this.items.push(v);
  }
  Dequeue(): unknown {
    if (!this.items.length) throw ex.invalidOp('Queue empty.');
    return this.items.shift();
  }
  Peek(): unknown {
    if (!this.items.length) throw ex.invalidOp('Queue empty.');
    return this.items[0];
  }
}

export class CsStack extends CsObject {
  readonly items: unknown[] = [];
  get $type(): string {
    return 'System.Collections.Generic.Stack`1';
  }
  [Symbol.iterator](): Iterator<unknown> {
    return [...this.items].reverse()[Symbol.iterator]();
  }
  get Count(): number {
    return this.items.length;
  }
  Push(v: unknown): void {
    this.items.push(v);
  }
  Pop(): unknown {
    if (!this.items.length) throw ex.invalidOp('Stack empty.');
    return this.items.pop();
  }
  Peek(): unknown {
    if (!this.items.length) throw ex.invalidOp('Stack empty.');
    return this.items[this.items.length - 1];
  }
}

export class StringBuilder extends CsObject {
  private parts: string[] = [];
  private len = 0;
  constructor(private readonly rt: Runtime, init = '') {
    super();
    if (init) this.push(init);
  }
  get $type(): string {
    return 'System.Text.StringBuilder';
  }
  private push(s: string): void {
    this.len += s.length;
    this.rt.str(' '.repeat(0));
    if (this.len > this.rt.limits.maxStringLength) this.rt.str('x'.repeat(this.rt.limits.maxStringLength + 1));
    this.parts.push(s);
  }
  get Length(): number {
    return this.len;
  }
  Append(v: unknown, count?: unknown): StringBuilder {
    if (typeof count === 'number' && typeof v === 'string' && v.length === 1) this.push(v.repeat(this.rt.size(count)));
    else this.push(csToString(v));
    return this;
  }
  AppendLine(v?: unknown): StringBuilder {
    this.push(csToString(v ?? '') + '\r\n');
    return this;
  }
  AppendFormat(fmt: string, ...args: unknown[]): StringBuilder {
    // composite formatting is in format.ts; imported lazily to avoid a cycle
    this.push(fmt.replace(/\{(\d+)\}/g, (_m, i) => csToString(args[Number(i)])));
    return this;
  }
  Insert(i: number, v: unknown): StringBuilder {
    const s = this.ToString();
    this.parts = [s.slice(0, i) + csToString(v) + s.slice(i)];
    this.len = this.parts[0]!.length;
    return this;
  }
  Replace(a: string, b: string): StringBuilder {
    const s = this.ToString().split(a).join(b ?? '');
    this.parts = [s];
    this.len = s.length;
    return this;
  }
  Clear(): StringBuilder {
    this.parts = [];
    this.len = 0;
    return this;
  }
  override ToString(): string {
    const s = this.parts.join('');
    this.parts = [s];
    return s;
  }
}

export class StringReader extends CsObject {
  private pos = 0;
  constructor(private readonly text: string) {
    super();
  }
  get $type(): string {
    return 'System.IO.StringReader';
  }
  ReadToEnd(): string {
    const r = this.text.slice(this.pos);
    this.pos = this.text.length;
    return r;
  }
  ReadLine(): string | null {
    if (this.pos >= this.text.length) return null;
    const m = /\r\n|\r|\n/.exec(this.text.slice(this.pos));
    const end = m ? this.pos + m.index : this.text.length;
    const line = this.text.slice(this.pos, end);
    this.pos = m ? end + m[0].length : end;
    return line;
  }
  Read(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos++) : -1;
  }
  Peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }
  Dispose(): void {
    /* nothing to free */
  }
  Close(): void {
    /* nothing to free */
  }
}

export class StringWriter extends CsObject {
  private readonly sb: StringBuilder;
  constructor(rt: Runtime) {
    super();
    this.sb = new StringBuilder(rt);
  }
  get $type(): string {
    return 'System.IO.StringWriter';
  }
  Write(v: unknown): void {
    this.sb.Append(v);
  }
  WriteLine(v?: unknown): void {
    this.sb.AppendLine(v);
  }
  GetStringBuilder(): StringBuilder {
    return this.sb;
  }
  override ToString(): string {
    return this.sb.ToString();
  }
  Dispose(): void {
    /* nothing to free */
  }
  Flush(): void {
    /* nothing to flush */
  }
}
