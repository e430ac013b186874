/**
 * Resolved types and the registry of the .NET types expressions may name (the allow-list of
 * API Management, spec section 3.2). A name missing here is a load-time error naming the type.
 */
import { DotNetException } from '../errors.js';
import { CsObject, ex, typeNameOf, type Runtime } from './core.js';

export interface RType {
  /** Full .NET name without generic arity: System.String, System.Collections.Generic.List. */
  readonly name: string;
  readonly info: TypeInfo | undefined;
  readonly args: readonly RType[];
  /** Array ranks; [] for a non-array. */
  readonly ranks: readonly number[];
  readonly nullable: boolean;
}

export type StaticFn = (rt: Runtime, args: unknown[], typeArgs: readonly RType[] | undefined) => unknown;

export interface TypeInfo {
  readonly fullName: string;
  /** Simple name for the static-type machinery: 'int', 'string', 'double' … for primitives. */
  readonly prim?: string;
  readonly staticMethods?: Readonly<Record<string, StaticFn>>;
  readonly staticProps?: Readonly<Record<string, (rt: Runtime) => unknown>>;
  /** The static type (prim name) a static method/property returns, when it matters for arithmetic. */
  readonly returns?: Readonly<Record<string, string>>;
  readonly construct?: (rt: Runtime, args: unknown[], typeArgs: readonly RType[]) => unknown;
  /** Explicit conversion `(T)v` (v not null). Default: isInstance or InvalidCastException. */
  readonly cast?: (v: unknown, t: RType) => unknown;
  readonly isInstance?: (v: unknown, t: RType) => boolean;
  /** default(T) for value types. */
  readonly defaultValue?: unknown;
  /** Members a restricted type allows (spec 3.2 lists some types with named members only). */
  readonly allowed?: ReadonlySet<string>;
  /**
   * Static methods that are pure functions of one string argument returning a string or a byte[]
   * (UrlDecode, FromBase64String …): a call site with one argument keeps its last results for large
   * inputs in a StringMemo (memo.ts).
   */
  readonly memoizable?: ReadonlySet<string>;
}

export class TypeRegistry {
  private readonly byName = new Map<string, TypeInfo>();
  /** Dotted prefixes of registered names (System, System.Net …) so that `System.Net.WebUtility` resolves. */
  private readonly namespaces = new Set<string>();

  add(info: TypeInfo, ...aliases: string[]): void {
    const full = info.fullName;
    this.byName.set(full, info);
    const short = full.slice(full.lastIndexOf('.') + 1);
    if (!this.byName.has(short)) this.byName.set(short, info);
    for (const a of aliases) this.byName.set(a, info);
    const parts = full.split('.');
    for (let i = 1; i < parts.length; i++) this.namespaces.add(parts.slice(0, i).join('.'));
  }
  get(name: string): TypeInfo | undefined {
    return this.byName.get(name);
  }
  isNamespace(name: string): boolean {
    return this.namespaces.has(name);
  }
}

export function rtype(info: TypeInfo, args: readonly RType[] = [], ranks: readonly number[] = [], nullable = false): RType {
  return { name: info.fullName, info, args, ranks, nullable };
}

export function typeDisplay(t: RType): string {
  let s = t.name;
  if (t.args.length) s += `\`${t.args.length}[${t.args.map(typeDisplay).join(',')}]`;
  if (t.nullable) s = `System.Nullable\`1[${s}]`;
  for (const r of t.ranks) s += `[${','.repeat(r - 1)}]`;
  return s;
}

export function isInstance(v: unknown, t: RType): boolean {
  if (v === null || v === undefined) return false;
  if (t.ranks.length > 0) {
    if (t.name === 'System.Byte' && t.ranks.length === 1) return v instanceof Uint8Array;
    return Array.isArray(v) || v instanceof Uint8Array;
  }
  const info = t.info;
  if (!info) return false;
  if (info.fullName === 'System.Object') return true;
  if (info.isInstance) return info.isInstance(v, t);
  return typeNameOf(v) === info.fullName;
}

/** `(T)v`: conversions of numbers, unboxing, JToken's explicit operators, reference casts. */
export function castTo(v: unknown, t: RType): unknown {
  if (v === null || v === undefined) {
    if (t.ranks.length === 0 && !t.nullable && t.info?.defaultValue !== undefined) {
      throw new DotNetException('System.NullReferenceException', 'Object reference not set to an instance of an object.');
    }
    return null;
  }
  if (t.ranks.length > 0) {
    if (isInstance(v, t)) return v;
    throw ex.invalidCast(v, typeDisplay(t));
  }
  const info = t.info;
  if (!info || info.fullName === 'System.Object') return v;
  if (info.cast) return info.cast(v, t);
  if (isInstance(v, t)) return v;
  throw ex.invalidCast(v, typeDisplay(t));
}

/** `v as T`. */
export function asType(v: unknown, t: RType): unknown {
  if (v === null || v === undefined) return null;
  if (t.info?.fullName === 'System.String') return typeof v === 'string' ? v : null;
  return isInstance(v, t) ? v : null;
}

/** Out/ref arguments: the callee writes through set(). */
export class OutRef {
  constructor(readonly get: () => unknown, readonly set: (v: unknown) => void) {}
}

export function isCsObject(v: unknown): v is CsObject {
  return v instanceof CsObject;
}
