/**
 * Member access, calls and indexers on runtime values: primitives (string, number, bool, arrays)
 * go through member tables; runtime classes expose their PascalCase members directly (never
 * anything else, so no JavaScript internals are reachable); extension methods (LINQ, APIM's AsJwt …)
 * come last.
 */
import { DotNetException } from '../errors.js';
import { CsObject, csEquals, csToString, CsTypeValue, ex, NO_MEMBER, typeNameOf, type Runtime } from './core.js';
export { NO_MEMBER } from './core.js';
import type { RType, TypeInfo } from './types.js';
import { STRING_METHODS } from './strings.js';
import { NUMBER_METHODS, BOOL_METHODS } from './numbers.js';
import { EXTENSIONS } from './extensions.js';

const PASCAL = /^[A-Z]/;

type Indexable = { $index(rt: Runtime, args: unknown[]): unknown; $setIndex?(rt: Runtime, args: unknown[], v: unknown): void };

function hasMember(t: CsObject, name: string): boolean {
  return PASCAL.test(name) && name in t;
}

export function getMember(rt: Runtime, t: unknown, name: string): unknown {
  if (t === null || t === undefined) throw ex.nullRef();
  if (t instanceof CsObject) {
    const dyn = (t as { $get?: (n: string) => unknown }).$get;
    if (dyn) {
      const r = dyn.call(t, name);
      if (r !== NO_MEMBER) return r;
    }
    if (hasMember(t, name)) {
      const v = (t as unknown as Record<string, unknown>)[name];
      if (typeof v !== 'function') return v;
      throw new DotNetException('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `'${name}' is a method of '${t.$type}'; call it with ( )`);
    }
  } else if (typeof t === 'string') {
    if (name === 'Length') return t.length;
  } else if (t instanceof Uint8Array || Array.isArray(t)) {
    if (name === 'Length' || name === 'LongLength') return t.length;
    if (name === 'Rank') return 1;
  }
  // Nullable<T> on a value that is present
  if (name === 'Value' && (typeof t === 'number' || typeof t === 'boolean' || t instanceof CsObject)) return t;
  if (name === 'HasValue') return true;
  throw ex.missingMember(t, name);
}



export function setMember(rt: Runtime, t: unknown, name: string, value: unknown): void {
  void rt;
  if (t === null || t === undefined) throw ex.nullRef();
  if (t instanceof CsObject && PASCAL.test(name)) {
    // plain fields a class declares settable (XAttribute.Value …)
    const settable = (t as unknown as { $settable?: ReadonlySet<string> }).$settable;
    if (settable?.has(name)) {
      (t as unknown as Record<string, unknown>)[name] = value;
      return;
    }
    let proto: object | null = Object.getPrototypeOf(t);
    while (proto && proto !== Object.prototype) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (d) {
        if (d.set) {
          d.set.call(t, value);
          return;
        }
        break;
      }
      proto = Object.getPrototypeOf(proto);
    }
  }
  throw ex.missingMember(t, `${name} (a settable property)`);
}

export function callMember(rt: Runtime, t: unknown, name: string, args: unknown[], typeArgs: readonly RType[] | undefined): unknown {
  if (t === null || t === undefined) {
    const e = EXTENSIONS[name];
    if (e && e.nullable) return e.fn(rt, t, args, typeArgs);
    throw ex.nullRef();
  }
  switch (typeof t) {
    case 'string': {
      const m = STRING_METHODS[name];
      if (m) {
        const r = m(rt, t, args);
        if (r !== NO_MEMBER) return r;
      }
      break;
    }
    case 'number': {
      const m = NUMBER_METHODS[name];
      if (m) return m(rt, t, args);
      break;
    }
    case 'boolean': {
      const m = BOOL_METHODS[name];
      if (m) return m(rt, t, args);
      break;
    }
    default:
      if (t instanceof CsObject && PASCAL.test(name)) {
        const rec = t as unknown as Record<string, unknown>;
        if (typeArgs && typeof rec[`${name}$T`] === 'function') return (rec[`${name}$T`] as (...a: unknown[]) => unknown).call(t, typeArgs, ...args);
        const m = rec[name];
        if (typeof m === 'function') return (m as (...a: unknown[]) => unknown).apply(t, args);
        if (typeof (rec[`${name}$T`]) === 'function') return (rec[`${name}$T`] as (...a: unknown[]) => unknown).call(t, [], ...args);
      }
  }
  const e = EXTENSIONS[name];
  if (e) {
    const r = e.fn(rt, t, args, typeArgs);
    if (r !== NO_MEMBER) return r;
  }
  switch (name) {
    case 'ToString':
      if (args.length === 0) return csToString(t);
      break;
    case 'Equals':
      return csEquals(t, args[0]);
    case 'GetHashCode':
      return hashCode(t);
    case 'GetType':
      return new CsTypeValue(typeNameOf(t));
    default:
      break;
  }
  throw ex.missingMember(t, name);
}

function hashCode(v: unknown): number {
  const s = csToString(v);
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

function checkIndex(i: unknown, len: number): number {
  if (typeof i !== 'number' || !Number.isInteger(i)) throw ex.invalidCast(i, 'System.Int32');
  if (i < 0 || i >= len) throw ex.indexRange();
  return i;
}

export function getIndex(rt: Runtime, t: unknown, args: unknown[]): unknown {
  if (t === null || t === undefined) throw ex.nullRef();
  if (typeof t === 'string') return t[checkIndex(args[0], t.length)];
  if (t instanceof Uint8Array || Array.isArray(t)) return t[checkIndex(args[0], t.length)];
  if (t instanceof CsObject && typeof (t as unknown as Indexable).$index === 'function') return (t as unknown as Indexable).$index(rt, args);
  throw new DotNetException('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', `Cannot apply indexing with [] to an expression of type '${typeNameOf(t)}'`);
}

export function setIndex(rt: Runtime, t: unknown, args: unknown[], v: unknown): void {
  if (t === null || t === undefined) throw ex.nullRef();
  if (t instanceof Uint8Array) {
    t[checkIndex(args[0], t.length)] = Number(v) & 0xff;
    return;
  }
  if (Array.isArray(t)) {
    t[checkIndex(args[0], t.length)] = v;
    return;
  }
  if (t instanceof CsObject && typeof (t as unknown as Indexable).$setIndex === 'function') {
    (t as unknown as Indexable).$setIndex!(rt, args, v);
    return;
  }
  throw ex.missingMember(t, 'this[] (a settable indexer)');
}

export function hasStatic(info: TypeInfo, name: string): boolean {
  return !!info.staticMethods && Object.prototype.hasOwnProperty.call(info.staticMethods, name);
}
export function hasStaticProp(info: TypeInfo, name: string): boolean {
  return !!info.staticProps && Object.prototype.hasOwnProperty.call(info.staticProps, name);
}
export function staticReturn(info: TypeInfo, name: string): string | undefined {
  return info.returns?.[name];
}
export function callStatic(rt: Runtime, info: TypeInfo, name: string, args: unknown[], typeArgs: readonly RType[] | undefined): unknown {
  return info.staticMethods![name]!(rt, args, typeArgs);
}
export function getStaticProp(rt: Runtime, info: TypeInfo, name: string): unknown {
  return info.staticProps![name]!(rt);
}
export function construct(rt: Runtime, info: TypeInfo, args: unknown[], typeArgs: readonly RType[]): unknown {
  return info.construct!(rt, args, typeArgs);
}
