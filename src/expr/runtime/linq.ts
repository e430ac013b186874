/** System.Linq.Enumerable over anything enumerable (arrays, lists, dictionaries, strings, JArray …). */
import { CsObject, csEquals, csToString, ex, iterate, NO_MEMBER, type Runtime } from './core.js';
import { CsDictionary, CsHashSet, CsList, defaultCompare, keyOf } from './collections.js';
import { isInstance, castTo, type RType } from './types.js';

type Fn = (...a: unknown[]) => unknown;

function seq(v: unknown): unknown[] {
  return [...iterate(v)];
}

function fnArg(a: unknown, name: string): Fn {
  if (typeof a !== 'function') throw ex.argNull(name);
  return a as Fn;
}

/** Func<T, bool> or Func<T, int, bool>: the index is passed only to two-parameter lambdas (a method group takes one). */
function pred(a: unknown): (x: unknown, i: number) => boolean {
  const f = fnArg(a, 'predicate');
  return f.length >= 2 ? (x, i) => f(x, i) === true : (x) => f(x) === true;
}

/**
 * pred(a), checked and built when the first element needs it (as before, a sequence without
 * elements never looks at the predicate), then the same function for every element.
 */
function predOnce(a: unknown): (x: unknown, i: number) => boolean {
  let p: ((x: unknown, i: number) => boolean) | undefined;
  return (x, i) => (p ??= pred(a))(x, i);
}

function withIndex(f: Fn): (x: unknown, i: number) => unknown {
  return f.length >= 2 ? (x, i) => f(x, i) : (x) => f(x);
}

export class Grouping extends CsObject {
  constructor(readonly Key: unknown, readonly items: unknown[]) {
    super();
  }
  get $type(): string {
    return 'System.Linq.IGrouping`2';
  }
  [Symbol.iterator](): Iterator<unknown> {
    return this.items[Symbol.iterator]();
  }
}

function tag<T extends unknown[]>(a: T, keys?: ((x: unknown) => unknown)[], desc?: boolean[]): T {
  Object.defineProperty(a, '$type', { value: 'System.Collections.Generic.IEnumerable`1', enumerable: false });
  if (keys) {
    Object.defineProperty(a, '$keys', { value: keys, enumerable: false });
    Object.defineProperty(a, '$desc', { value: desc, enumerable: false });
  }
  return a;
}

function noElements(): Error {
  return ex.invalidOp('Sequence contains no elements');
}

function sortBy(items: unknown[], keys: ((x: unknown) => unknown)[], desc: boolean[], cmp?: unknown): unknown[] {
  const c = typeof cmp === 'function' ? (a: unknown, b: unknown) => Number((cmp as Fn)(a, b)) : cmpObj(cmp);
  return items
    .map((x, i) => ({ x, i, k: keys.map((f) => f(x)) }))
    .sort((a, b) => {
      for (let j = 0; j < keys.length; j++) {
        const r = c(a.k[j], b.k[j]);
        if (r !== 0) return desc[j] ? -r : r;
      }
      return a.i - b.i;
    })
    .map((e) => e.x);
}

function cmpObj(cmp: unknown): (a: unknown, b: unknown) => number {
  if (cmp instanceof CsObject && typeof (cmp as unknown as { Compare?: unknown }).Compare === 'function') {
    return (a, b) => (cmp as unknown as { Compare: (a: unknown, b: unknown) => number }).Compare(a, b);
  }
  return (a, b) => {
    if (typeof a === 'string' && typeof b === 'string') {
      // culture-sensitive by default, as Comparer<string>.Default is
      const r = a.localeCompare(b, 'en-US');
      return r < 0 ? -1 : r > 0 ? 1 : 0;
    }
    return defaultCompare(a, b);
  };
}

function numbers(items: unknown[], sel: unknown): number[] {
  const f = typeof sel === 'function' ? (sel as Fn) : (x: unknown) => x;
  return items.map((x) => f(x)).filter((x) => x !== null && x !== undefined).map((x) => Number(x));
}

function comparerIgnoresCase(c: unknown): boolean {
  return c instanceof CsObject && (c as unknown as { ignoreCase?: boolean }).ignoreCase === true;
}

export type Ext = (rt: Runtime, t: unknown, a: unknown[], typeArgs: readonly RType[] | undefined) => unknown;

export const LINQ: Record<string, Ext> = {
  Any: (_rt, t, a) => {
    const s = seq(t);
    return a.length ? s.some(predOnce(a[0])) : s.length > 0;
  },
  All: (_rt, t, a) => seq(t).every(predOnce(a[0])),
  Where: (_rt, t, a) => tag(seq(t).filter(predOnce(a[0]))),
  Select: (_rt, t, a) => {
    const f = withIndex(fnArg(a[0], 'selector'));
    return tag(seq(t).map((x, i) => f(x, i)));
  },
  SelectMany: (rt, t, a) => {
    const f = withIndex(fnArg(a[0], 'selector'));
    const out: unknown[] = [];
    seq(t).forEach((x, i) => {
      const inner = seq(f(x, i));
      rt.size(out.length + inner.length);
      for (const y of inner) out.push(y);
    });
    return tag(out);
  },
  First: (_rt, t, a) => {
    const s = seq(t);
    if (a.length) {
      const p = pred(a[0]);
      const i = s.findIndex((x, j) => p(x, j));
      if (i < 0) throw ex.invalidOp('Sequence contains no matching element');
      return s[i];
    }
    if (!s.length) throw noElements();
    return s[0];
  },
  FirstOrDefault: (_rt, t, a) => {
    const s = seq(t);
    if (a.length && typeof a[0] === 'function') {
      const p = pred(a[0]);
      const i = s.findIndex((x, j) => p(x, j));
      return i < 0 ? (a[1] ?? null) : s[i];
    }
    return s.length ? s[0] : (a[0] ?? null);
  },
  Last: (_rt, t, a) => {
    let s = seq(t);
    if (a.length) s = s.filter(predOnce(a[0]));
    if (!s.length) throw a.length ? ex.invalidOp('Sequence contains no matching element') : noElements();
    return s[s.length - 1];
  },
  LastOrDefault: (_rt, t, a) => {
    let s = seq(t);
    if (a.length && typeof a[0] === 'function') s = s.filter(predOnce(a[0]));
    return s.length ? s[s.length - 1] : null;
  },
  Single: (_rt, t, a) => {
    let s = seq(t);
    if (a.length) {
      s = s.filter(predOnce(a[0]));
      if (!s.length) throw ex.invalidOp('Sequence contains no matching element');
      if (s.length > 1) throw ex.invalidOp('Sequence contains more than one matching element');
    }
    if (!s.length) throw noElements();
    if (s.length > 1) throw ex.invalidOp('Sequence contains more than one element');
    return s[0];
  },
  SingleOrDefault: (_rt, t, a) => {
    let s = seq(t);
    if (a.length && typeof a[0] === 'function') s = s.filter(predOnce(a[0]));
    if (s.length > 1) throw ex.invalidOp(a.length ? 'Sequence contains more than one matching element' : 'Sequence contains more than one element');
    return s.length ? s[0] : null;
  },
  ElementAt: (_rt, t, a) => {
    const s = seq(t);
    const i = Number(a[0]);
    if (i < 0 || i >= s.length) throw ex.argRange('index', 'Index was out of range. Must be non-negative and less than the size of the collection.');
    return s[i];
  },
  ElementAtOrDefault: (_rt, t, a) => seq(t)[Number(a[0])] ?? null,
  Count: (_rt, t, a) => (a.length ? seq(t).filter(predOnce(a[0])).length : seq(t).length),
  LongCount: (_rt, t, a) => (a.length ? seq(t).filter(predOnce(a[0])).length : seq(t).length),
  OrderBy: (_rt, t, a) => {
    const k = fnArg(a[0], 'keySelector') as (x: unknown) => unknown;
    return tag(sortBy(seq(t), [k], [false], a[1]), [k], [false]);
  },
  OrderByDescending: (_rt, t, a) => {
    const k = fnArg(a[0], 'keySelector') as (x: unknown) => unknown;
    return tag(sortBy(seq(t), [k], [true], a[1]), [k], [true]);
  },
  ThenBy: (_rt, t, a) => {
    const prev = (t as { $keys?: ((x: unknown) => unknown)[]; $desc?: boolean[] });
    const keys = [...(prev.$keys ?? []), fnArg(a[0], 'keySelector') as (x: unknown) => unknown];
    const desc = [...(prev.$desc ?? []), false];
    return tag(sortBy(seq(t), keys, desc), keys, desc);
  },
  ThenByDescending: (_rt, t, a) => {
    const prev = (t as { $keys?: ((x: unknown) => unknown)[]; $desc?: boolean[] });
    const keys = [...(prev.$keys ?? []), fnArg(a[0], 'keySelector') as (x: unknown) => unknown];
    const desc = [...(prev.$desc ?? []), true];
    return tag(sortBy(seq(t), keys, desc), keys, desc);
  },
  Reverse: (_rt, t) => tag(seq(t).reverse()),
  ToArray: (_rt, t) => {
    const s = seq(t);
    if (t instanceof Uint8Array) return Buffer.from(t);
    if (s.every((x) => typeof x === 'string')) Object.defineProperty(s, '$type', { value: 'System.String[]', enumerable: false });
    return s;
  },
  ToList: (_rt, t) => new CsList(seq(t)),
  ToHashSet: (_rt, t, a) => new CsHashSet(seq(t), comparerIgnoresCase(a[0])),
  ToDictionary: (_rt, t, a) => {
    const k = fnArg(a[0], 'keySelector');
    const v = typeof a[1] === 'function' ? (a[1] as Fn) : (x: unknown) => x;
    const cmp = typeof a[1] === 'function' ? a[2] : a[1];
    const d = new CsDictionary(comparerIgnoresCase(cmp));
    for (const x of seq(t)) d.Add(k(x), v(x));
    return d;
  },
  ToLookup: (rt, t, a) => LINQ.GroupBy!(rt, t, a, undefined),
  GroupBy: (_rt, t, a) => {
    const k = fnArg(a[0], 'keySelector');
    const v = typeof a[1] === 'function' ? (a[1] as Fn) : (x: unknown) => x;
    const groups = new Map<unknown, Grouping>();
    for (const x of seq(t)) {
      const key = k(x);
      const kk = keyOf(key, comparerIgnoresCase(a[a.length - 1]));
      let g = groups.get(kk);
      if (!g) groups.set(kk, (g = new Grouping(key, [])));
      g.items.push(v(x));
    }
    return tag([...groups.values()]);
  },
  Concat: (rt, t, a) => {
    const x = seq(t);
    const y = seq(a[0]);
    rt.size(x.length + y.length);
    return tag([...x, ...y]);
  },
  Append: (_rt, t, a) => tag([...seq(t), a[0]]),
  Prepend: (_rt, t, a) => tag([a[0], ...seq(t)]),
  Distinct: (_rt, t, a) => {
    const seen = new Set<unknown>();
    const ic = comparerIgnoresCase(a[0]);
    return tag(seq(t).filter((x) => {
      const k = keyOf(x, ic);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }));
  },
  Union: (rt, t, a) => LINQ.Distinct!(rt, [...seq(t), ...seq(a[0])], a.slice(1), undefined),
  Intersect: (_rt, t, a) => {
    const other = new Set(seq(a[0]).map((x) => keyOf(x, comparerIgnoresCase(a[1]))));
    const seen = new Set<unknown>();
    return tag(seq(t).filter((x) => {
      const k = keyOf(x, comparerIgnoresCase(a[1]));
      if (!other.has(k) || seen.has(k)) return false;
      seen.add(k);
      return true;
    }));
  },
  Except: (_rt, t, a) => {
    const other = new Set(seq(a[0]).map((x) => keyOf(x, comparerIgnoresCase(a[1]))));
    const seen = new Set<unknown>();
    return tag(seq(t).filter((x) => {
      const k = keyOf(x, comparerIgnoresCase(a[1]));
      if (other.has(k) || seen.has(k)) return false;
      seen.add(k);
      return true;
    }));
  },
  Contains: (_rt, t, a) => {
    const ic = comparerIgnoresCase(a[1]);
    if (ic) return seq(t).some((x) => keyOf(x, true) === keyOf(a[0], true));
    return seq(t).some((x) => csEquals(x, a[0]));
  },
  Sum: (_rt, t, a) => numbers(seq(t), a[0]).reduce((x, y) => x + y, 0),
  Min: (_rt, t, a) => {
    const n = typeof a[0] === 'function' ? seq(t).map((x) => (a[0] as Fn)(x)) : seq(t);
    if (!n.length) throw noElements();
    return n.reduce((x, y) => (defaultCompare(y, x) < 0 ? y : x));
  },
  Max: (_rt, t, a) => {
    const n = typeof a[0] === 'function' ? seq(t).map((x) => (a[0] as Fn)(x)) : seq(t);
    if (!n.length) throw noElements();
    return n.reduce((x, y) => (defaultCompare(y, x) > 0 ? y : x));
  },
  Average: (_rt, t, a) => {
    const n = numbers(seq(t), a[0]);
    if (!n.length) throw noElements();
    return n.reduce((x, y) => x + y, 0) / n.length;
  },
  Aggregate: (_rt, t, a) => {
    const s = seq(t);
    if (a.length === 1) {
      if (!s.length) throw noElements();
      const f = fnArg(a[0], 'func');
      return s.slice(1).reduce((acc, x) => f(acc, x), s[0]);
    }
    const f = fnArg(a[1], 'func');
    const r = s.reduce((acc, x) => f(acc, x), a[0]);
    return typeof a[2] === 'function' ? (a[2] as Fn)(r) : r;
  },
  Skip: (_rt, t, a) => tag(seq(t).slice(Math.max(0, Number(a[0])))),
  Take: (_rt, t, a) => tag(seq(t).slice(0, Math.max(0, Number(a[0])))),
  SkipLast: (_rt, t, a) => {
    const s = seq(t);
    return tag(s.slice(0, Math.max(0, s.length - Number(a[0]))));
  },
  TakeLast: (_rt, t, a) => {
    const s = seq(t);
    return tag(s.slice(Math.max(0, s.length - Number(a[0]))));
  },
  SkipWhile: (_rt, t, a) => {
    const s = seq(t);
    const p = pred(a[0]);
    let i = 0;
    while (i < s.length && p(s[i], i)) i++;
    return tag(s.slice(i));
  },
  TakeWhile: (_rt, t, a) => {
    const s = seq(t);
    const p = pred(a[0]);
    let i = 0;
    while (i < s.length && p(s[i], i)) i++;
    return tag(s.slice(0, i));
  },
  DefaultIfEmpty: (_rt, t, a) => {
    const s = seq(t);
    return tag(s.length ? s : [a[0] ?? null]);
  },
  SequenceEqual: (_rt, t, a) => {
    const x = seq(t);
    const y = seq(a[0]);
    return x.length === y.length && x.every((v, i) => csEquals(v, y[i]));
  },
  Zip: (_rt, t, a) => {
    const x = seq(t);
    const y = seq(a[0]);
    const f = typeof a[1] === 'function' ? (a[1] as Fn) : undefined;
    const n = Math.min(x.length, y.length);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(f ? f(x[i], y[i]) : [x[i], y[i]]);
    return tag(out);
  },
  Cast: (_rt, t, _a, typeArgs) => {
    const ty = typeArgs?.[0];
    return tag(seq(t).map((x) => (ty ? castTo(x, ty) : x)));
  },
  OfType: (_rt, t, _a, typeArgs) => {
    const ty = typeArgs?.[0];
    return tag(seq(t).filter((x) => (ty ? isInstance(x, ty) : true)));
  },
  AsEnumerable: (_rt, t) => t,
};

export function joinToString(items: unknown[]): string {
  return items.map(csToString).join(',');
}

export { NO_MEMBER };
