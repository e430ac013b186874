/**
 * The core of the .NET-shaped runtime: the base class of runtime objects, exceptions with .NET
 * types and messages, the safety budget of one evaluation, equality and ToString as .NET does them.
 */
import { DotNetException } from '../errors.js';
import type { HostContext } from '../host.js';

/** Base class of every runtime object whose PascalCase members expressions may use. */
export abstract class CsObject {
  /** The .NET type name (System.Collections.Generic.Dictionary`2 …), for GetType() and messages. */
  abstract get $type(): string;
  ToString(): string {
    return this.$type;
  }
  GetType(): CsTypeValue {
    return new CsTypeValue(this.$type);
  }
  Equals(other: unknown): boolean {
    return csEquals(this, other);
  }
  GetHashCode(): number {
    return 0;
  }
}

/** What typeof(T) and GetType() return. */
export class CsTypeValue extends CsObject {
  constructor(readonly fullName: string) {
    super();
  }
  get $type(): string {
    return 'System.RuntimeType';
  }
  get Name(): string {
    return this.fullName.slice(this.fullName.lastIndexOf('.') + 1);
  }
  get FullName(): string {
    return this.fullName;
  }
  override ToString(): string {
    return this.fullName;
  }
}

/** A value of a .NET enum: StringComparison.Ordinal, RegexOptions.IgnoreCase, Formatting.None … */
export class EnumValue extends CsObject {
  constructor(readonly enumType: string, readonly name: string, readonly value: number) {
    super();
  }
  get $type(): string {
    return this.enumType;
  }
  override ToString(): string {
    return this.name;
  }
  has(flag: number): boolean {
    return (this.value & flag) === flag && flag !== 0;
  }
}

export interface Limits {
  /** Statements and loop iterations executed, together. */
  readonly maxSteps: number;
  readonly maxDepth: number;
  /** UTF-16 code units of any single string or array built. */
  readonly maxStringLength: number;
  readonly maxMilliseconds: number;
}

export const DEFAULT_LIMITS: Limits = { maxSteps: 1_000_000, maxDepth: 200, maxStringLength: 16 * 1024 * 1024, maxMilliseconds: 2_000 };

/** Raised when a safety limit is hit; it is not catchable by expression code. */
export class LimitExceeded extends Error {
  constructor(readonly limit: string, message: string) {
    super(message);
    this.name = 'LimitExceeded';
  }
}

/** The state of one evaluation: the host, the limits, and the counters. */
export class Runtime {
  steps = 0;
  depth = 0;
  /** Offset in the policy file of the node being evaluated (for error positions). */
  at = 0;
  private readonly deadline: number;
  context: CsObject | undefined;
  constructor(readonly host: HostContext, readonly limits: Limits) {
    this.deadline = Date.now() + limits.maxMilliseconds;
  }
  step(): void {
    if (++this.steps > this.limits.maxSteps) throw new LimitExceeded('steps', `the expression ran more than ${this.limits.maxSteps} statements or loop iterations`);
    if ((this.steps & 1023) === 0 && Date.now() > this.deadline) throw new LimitExceeded('time', `the expression ran longer than ${this.limits.maxMilliseconds} ms`);
  }
  checkTime(): void {
    if (Date.now() > this.deadline) throw new LimitExceeded('time', `the expression ran longer than ${this.limits.maxMilliseconds} ms`);
  }
  enter(): void {
    if (++this.depth > this.limits.maxDepth) throw new LimitExceeded('depth', `the expression recursed deeper than ${this.limits.maxDepth} calls`);
  }
  leave(): void {
    this.depth--;
  }
  str(s: string): string {
    if (s.length > this.limits.maxStringLength) throw new LimitExceeded('string', `the expression built a string of more than ${this.limits.maxStringLength} characters`);
    return s;
  }
  size(n: number): number {
    if (n > this.limits.maxStringLength) throw new LimitExceeded('allocation', `the expression allocated more than ${this.limits.maxStringLength} elements`);
    return n;
  }
}

// ───── exceptions ─────
export const ex = {
  nullRef: () => new DotNetException('System.NullReferenceException', 'Object reference not set to an instance of an object.'),
  keyNotFound: (key: unknown) => new DotNetException('System.Collections.Generic.KeyNotFoundException', `The given key '${csToString(key)}' was not present in the dictionary.`),
  invalidCast: (from: unknown, to: string) => new DotNetException('System.InvalidCastException', `Unable to cast object of type '${typeNameOf(from)}' to type '${to}'.`),
  argNull: (name: string) => new DotNetException('System.ArgumentNullException', `Value cannot be null. (Parameter '${name}')`),
  argRange: (name: string, msg = 'Specified argument was out of the range of valid values.') => new DotNetException('System.ArgumentOutOfRangeException', `${msg} (Parameter '${name}')`),
  arg: (msg: string, name?: string) => new DotNetException('System.ArgumentException', name ? `${msg} (Parameter '${name}')` : msg),
  indexRange: () => new DotNetException('System.IndexOutOfRangeException', 'Index was outside the bounds of the array.'),
  format: (msg = 'Input string was not in a correct format.') => new DotNetException('System.FormatException', msg),
  invalidOp: (msg: string) => new DotNetException('System.InvalidOperationException', msg),
  divZero: () => new DotNetException('System.DivideByZeroException', 'Attempted to divide by zero.'),
  overflow: (msg = 'Arithmetic operation resulted in an overflow.') => new DotNetException('System.OverflowException', msg),
  notSupported: (msg: string) => new DotNetException('System.NotSupportedException', msg),
  missingMember: (target: unknown, name: string) =>
    new DotNetException('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `'${typeNameOf(target)}' does not contain a definition for '${name}'`),
  json: (msg: string) => new DotNetException('Newtonsoft.Json.JsonReaderException', msg),
  crypto: (msg: string) => new DotNetException('System.Security.Cryptography.CryptographicException', msg),
  uriFormat: (msg = 'Invalid URI: The format of the URI could not be determined.') => new DotNetException('System.UriFormatException', msg),
};

// ───── type names, equality, ToString ─────
export function typeNameOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return 'System.String';
    case 'number':
      return Number.isInteger(v) ? 'System.Int32' : 'System.Double';
    case 'boolean':
      return 'System.Boolean';
    case 'function':
      return 'System.Func`1';
    case 'bigint':
      return 'System.Int64';
    default:
      break;
  }
  if (v instanceof CsObject) return v.$type;
  if (v instanceof Uint8Array) return 'System.Byte[]';
  if (Array.isArray(v)) return 'System.Object[]';
  return 'System.Object';
}

export function csEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b) && typeof a !== 'string' && typeof b !== 'string';
  if (a instanceof CsObject && typeof (a as unknown as { $eq?: (o: unknown) => boolean }).$eq === 'function') return (a as unknown as { $eq: (o: unknown) => boolean }).$eq(b);
  return false;
}

/** .NET's double.ToString(): shortest round-trip, "E+XX" exponents, Infinity as ∞. */
export function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '∞';
  if (n === -Infinity) return '-∞';
  if (Object.is(n, -0)) return '-0';
  const s = String(n);
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(s);
  if (m) return `${m[1]}E${m[2]}${m[3]!.padStart(2, '0')}`;
  return s;
}

/** What .NET's ToString() gives for a runtime value (null → ""). */
export function csToString(v: unknown): string {
  if (v === null || v === undefined) return '';
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return v ? 'True' : 'False';
    case 'number':
      return formatDouble(v);
    case 'bigint':
      return v.toString();
    case 'function':
      return 'System.Func`1';
    default:
      break;
  }
  if (v instanceof CsObject) return v.ToString();
  if (v instanceof Uint8Array) return 'System.Byte[]';
  if (Array.isArray(v)) return (v as { $type?: string }).$type ?? 'System.Object[]';
  return String(v);
}

export function isCsTrue(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) throw ex.nullRef();
  throw ex.invalidCast(v, 'System.Boolean');
}

/** Iterates anything enumerable in C# (arrays, lists, strings, dictionaries, JArray …). */
export function iterate(v: unknown): Iterable<unknown> {
  if (v === null || v === undefined) throw ex.nullRef();
  if (typeof v === 'string') return v;
  if (typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function') return v as Iterable<unknown>;
  throw new DotNetException('System.InvalidCastException', `'${typeNameOf(v)}' is not enumerable`);
}

/** Returned by dynamic member lookups ($get) and extension methods that do not apply. */
export const NO_MEMBER = Symbol('no member');
