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
  return callMemberTail(rt, t, name, args, typeArgs);
}

/** callMember after the receiver's own members: extension methods, then the members every object has. */
function callMemberTail(rt: Runtime, t: unknown, name: string, args: unknown[], typeArgs: readonly RType[] | undefined): unknown {
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

function isPascal(name: string): boolean {
  const c = name.charCodeAt(0);
  return c >= 65 && c <= 90;
}

type Rec = Record<string, unknown>;
type Method = (...a: unknown[]) => unknown;

/**
 * `t.name` at one site of the expression: getMember, with the site's memory of the last runtime
 * class it read the member from (an inline cache). Member names are fixed at compile time and a
 * runtime class's members are fixed by its prototype, so for the next object of the same class
 * the answer is a plain property read. The cache is used only where getMember would do exactly
 * that read: classes without dynamic members ($get), a PascalCase name that the prototype chain
 * has (getters), or that the object had as its own field (then a read giving undefined, which may
 * mean the field is absent on this object, goes the general way).
 */
export function memberReader(name: string): (rt: Runtime, t: unknown) => unknown {
  const pascal = isPascal(name);
  let protoClass: object | null = null;
  let fieldClass: object | null = null;
  return (rt, t) => {
    if (t !== null && typeof t === 'object') {
      const p: unknown = Object.getPrototypeOf(t);
      if (p === protoClass) {
        const v = (t as Rec)[name];
        if (typeof v !== 'function') return v;
      } else if (p === fieldClass) {
        const v = (t as Rec)[name];
        if (v !== undefined && typeof v !== 'function') return v;
      }
    }
    const v = getMember(rt, t, name);
    if (pascal && t instanceof CsObject && typeof (t as unknown as Rec).$get !== 'function') {
      const p = Object.getPrototypeOf(t) as object;
      if (name in p) protoClass = p;
      else if (Object.prototype.hasOwnProperty.call(t, name)) fieldClass = p;
    }
    return v;
  };
}

/**
 * `t.name(args)` at one site of the expression: callMember, with the string method resolved at
 * compile time and the site's memory of the last runtime class it called (an inline cache): the
 * method callMember chose for an object of that class (a function of its prototype chain, as
 * TypeScript classes cannot shadow a method with a field), or that the class has no such member
 * and an extension method (LINQ …) applies.
 */
export function methodCaller(name: string, typeArgs: readonly RType[] | undefined): (rt: Runtime, t: unknown, args: unknown[]) => unknown {
  const pascal = isPascal(name);
  const stringMethod = STRING_METHODS[name];
  const generic = `${name}$T`;
  let cls: object | null = null;
  /** What the cached class does: 1 its method, 2 its generic method with the site's type arguments, 3 its generic method with none, 4 not its member. */
  let how = 0;
  let fn: Method | undefined;
  return (rt, t, args) => {
    if (typeof t === 'string') {
      if (stringMethod) {
        const r = stringMethod(rt, t, args);
        if (r !== NO_MEMBER) return r;
      }
      return callMemberTail(rt, t, name, args, typeArgs);
    }
    if (t !== null && typeof t === 'object' && Object.getPrototypeOf(t) === cls) {
      switch (how) {
        case 1:
          return fn!.apply(t, args);
        case 2:
          return fn!.call(t, typeArgs, ...args);
        case 3:
          return fn!.call(t, [], ...args);
        default:
          return callMemberTail(rt, t, name, args, typeArgs);
      }
    }
    if (pascal && t instanceof CsObject && !Object.prototype.hasOwnProperty.call(t, name) && !Object.prototype.hasOwnProperty.call(t, generic)) {
      // learn the class before the call (callMember may throw): the same choice callMember makes
      const rec = t as unknown as Rec;
      const m = rec[name];
      const g = rec[generic];
      cls = Object.getPrototypeOf(t) as object;
      if (typeArgs && typeof g === 'function') [how, fn] = [2, g as Method];
      else if (typeof m === 'function') [how, fn] = [1, m as Method];
      else if (typeof g === 'function') [how, fn] = [3, g as Method];
      else [how, fn] = [4, undefined];
    }
    return callMember(rt, t, name, args, typeArgs);
  };
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
