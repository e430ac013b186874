/** System.String and System.Char: instance members, statics, comparisons as .NET does them (ordinal by default). */
import { csEquals, csToString, EnumValue, ex, iterate, type Runtime } from './core.js';
import { compositeFormat } from './format.js';
import { OutRef } from './types.js';

export type StringMethod = (rt: Runtime, s: string, args: unknown[]) => unknown;

export function ignoreCase(cmp: unknown): boolean {
  return cmp instanceof EnumValue && (cmp.value & 1) === 1;
}

function str(v: unknown, name: string): string {
  if (v === null || v === undefined) throw ex.argNull(name);
  if (typeof v !== 'string') return csToString(v);
  return v;
}

export function charArray(s: string): string[] {
  const a = s.split('');
  Object.defineProperty(a, '$type', { value: 'System.Char[]', enumerable: false });
  return a;
}

export function stringArray(a: string[]): string[] {
  Object.defineProperty(a, '$type', { value: 'System.String[]', enumerable: false });
  return a;
}

function indexOf(s: string, args: unknown[], last: boolean): number {
  const needle = args[0];
  if (needle === null || needle === undefined) throw ex.argNull('value');
  let start: number | undefined;
  let cmp: unknown;
  for (const a of args.slice(1)) {
    if (typeof a === 'number') {
      if (start === undefined) start = a;
    } else cmp = a;
  }
  const ic = ignoreCase(cmp);
  const hay = ic ? s.toLowerCase() : s;
  const n = ic ? String(needle).toLowerCase() : String(needle);
  if (start !== undefined && (start < 0 || start > s.length)) throw ex.argRange('startIndex', 'Index was out of range. Must be non-negative and less than or equal to the size of the collection.');
  return last ? hay.lastIndexOf(n, start) : hay.indexOf(n, start);
}

const WS = /^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/g;

function trimChars(s: string, args: unknown[], start: boolean, end: boolean): string {
  let chars: string[] | undefined;
  if (args.length === 1 && Array.isArray(args[0])) chars = args[0] as string[];
  else if (args.length > 0) chars = args.map(String);
  if (!chars || chars.length === 0) {
    if (start && end) return s.replace(WS, '');
    if (start) return s.replace(/^[\s\u0085\u00a0]+/, '');
    return s.replace(/[\s\u0085\u00a0]+$/, '');
  }
  let i = 0;
  let j = s.length;
  if (start) while (i < j && chars.includes(s[i]!)) i++;
  if (end) while (j > i && chars.includes(s[j - 1]!)) j--;
  return s.slice(i, j);
}

function split(s: string, args: unknown[]): string[] {
  let seps: string[] = [];
  let count = Number.MAX_SAFE_INTEGER;
  let options = 0;
  for (const a of args) {
    if (typeof a === 'string') seps.push(a);
    else if (Array.isArray(a)) seps.push(...(a as string[]));
    else if (a instanceof EnumValue) options = a.value;
    else if (typeof a === 'number') count = a;
    else if (a === null) {
      /* whitespace */
    }
  }
  seps = seps.filter((x) => x !== '');
  let parts: string[];
  if (seps.length === 0) parts = s.split(/[\s\u0085\u00a0]/);
  else {
    parts = [];
    let cur = 0;
    let i = 0;
    while (i <= s.length - 1) {
      const sep = seps.find((p) => s.startsWith(p, i));
      if (sep !== undefined && parts.length < count - 1) {
        parts.push(s.slice(cur, i));
        i += sep.length;
        cur = i;
      } else i++;
    }
    parts.push(s.slice(cur));
  }
  if (options & 2) parts = parts.map((p) => p.trim());
  if (options & 1) parts = parts.filter((p) => p !== '');
  return stringArray(parts);
}

/**
 * String members whose result is a new string that depends only on the receiver and the arguments
 * (no culture, no state): with constant arguments the compiler memoizes them for large receivers.
 */
export const PURE_STRING_METHODS: ReadonlySet<string> = new Set(['Replace', 'Trim', 'TrimStart', 'TrimEnd', 'ToLower', 'ToUpper', 'ToLowerInvariant', 'ToUpperInvariant']);

export const STRING_METHODS: Record<string, StringMethod> = {
  ToString: (_rt, s) => s,
  Clone: (_rt, s) => s,
  Contains: (_rt, s, a) => {
    const v = a[0];
    if (v === null || v === undefined) throw ex.argNull('value');
    if (ignoreCase(a[1])) return s.toLowerCase().includes(String(v).toLowerCase());
    return s.includes(String(v));
  },
  StartsWith: (_rt, s, a) => {
    const v = str(a[0], 'value');
    return ignoreCase(a[1]) ? s.toLowerCase().startsWith(v.toLowerCase()) : s.startsWith(v);
  },
  EndsWith: (_rt, s, a) => {
    const v = str(a[0], 'value');
    return ignoreCase(a[1]) ? s.toLowerCase().endsWith(v.toLowerCase()) : s.endsWith(v);
  },
  IndexOf: (_rt, s, a) => indexOf(s, a, false),
  LastIndexOf: (_rt, s, a) => indexOf(s, a, true),
  IndexOfAny: (_rt, s, a) => {
    const chars = a[0] as string[];
    for (let i = Number(a[1] ?? 0); i < s.length; i++) if (chars.includes(s[i]!)) return i;
    return -1;
  },
  Substring: (_rt, s, a) => {
    const start = Number(a[0]);
    const len = a.length > 1 ? Number(a[1]) : s.length - start;
    if (start < 0 || start > s.length) throw ex.argRange('startIndex', 'startIndex cannot be larger than length of string.');
    if (len < 0 || start + len > s.length) throw ex.argRange('length', 'Index and length must refer to a location within the string.');
    return s.substr(start, len);
  },
  Replace: (rt, s, a) => {
    const from = a[0];
    if (from === null || from === undefined) throw ex.argNull('oldValue');
    if (from === '') throw ex.arg('The value cannot be an empty string.', 'oldValue');
    const to = a[1] === null || a[1] === undefined ? '' : String(a[1]);
    if (a.length > 2 && ignoreCase(a[a.length - 1])) {
      const re = new RegExp(String(from).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
      return rt.str(s.replace(re, () => to));
    }
    return rt.str(s.split(String(from)).join(to));
  },
  ToLower: (_rt, s) => s.toLowerCase(),
  ToLowerInvariant: (_rt, s) => s.toLowerCase(),
  ToUpper: (_rt, s) => s.toUpperCase(),
  ToUpperInvariant: (_rt, s) => s.toUpperCase(),
  Trim: (_rt, s, a) => trimChars(s, a, true, true),
  TrimStart: (_rt, s, a) => trimChars(s, a, true, false),
  TrimEnd: (_rt, s, a) => trimChars(s, a, false, true),
  PadLeft: (rt, s, a) => rt.str(s.padStart(rt.size(Number(a[0])), a[1] === undefined ? ' ' : String(a[1]))),
  PadRight: (rt, s, a) => rt.str(s.padEnd(rt.size(Number(a[0])), a[1] === undefined ? ' ' : String(a[1]))),
  Split: (_rt, s, a) => split(s, a),
  Equals: (_rt, s, a) => {
    const o = a[0];
    if (typeof o !== 'string') return false;
    return ignoreCase(a[1]) ? s.toLowerCase() === o.toLowerCase() : s === o;
  },
  CompareTo: (_rt, s, a) => compareStrings(s, a[0] as string | null, false, true),
  Insert: (rt, s, a) => rt.str(s.slice(0, Number(a[0])) + str(a[1], 'value') + s.slice(Number(a[0]))),
  Remove: (_rt, s, a) => {
    const start = Number(a[0]);
    if (start < 0 || start > s.length) throw ex.argRange('startIndex', 'startIndex must be less than length of string.');
    return a.length > 1 ? s.slice(0, start) + s.slice(start + Number(a[1])) : s.slice(0, start);
  },
  ToCharArray: (_rt, s) => charArray(s),
  Normalize: (_rt, s) => s.normalize('NFC'),
  GetHashCode: (_rt, s) => {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
    return h;
  },
  // char instance members (a char is a 1-character string at run time)
  CompareOrdinal: (_rt, s, a) => compareStrings(s, a[0] as string, false, false),
};

/** Culture comparison approximated by localeCompare with invariant rules; ordinal by code unit. */
export function compareStrings(a: string | null, b: string | null, ic: boolean, culture: boolean): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  if (culture) {
    const r = a.localeCompare(b, 'en-US', { sensitivity: ic ? 'accent' : 'variant' });
    return r < 0 ? -1 : r > 0 ? 1 : 0;
  }
  const x = ic ? a.toUpperCase() : a;
  const y = ic ? b.toUpperCase() : b;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isNullOrWhiteSpace(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && /^[\s\u0085\u00a0]*$/.test(v));
}

export function stringJoin(rt: Runtime, sep: unknown, rest: unknown[]): string {
  const s = sep === null || sep === undefined ? '' : String(sep);
  let items: unknown[];
  if (rest.length === 1 && rest[0] !== null && typeof rest[0] === 'object') items = [...iterate(rest[0])];
  else items = rest;
  return rt.str(items.map(csToString).join(s));
}

export const STRING_STATICS = {
  IsNullOrEmpty: (_rt: Runtime, a: unknown[]) => a[0] === null || a[0] === undefined || a[0] === '',
  IsNullOrWhiteSpace: (_rt: Runtime, a: unknown[]) => isNullOrWhiteSpace(a[0]),
  Format: (rt: Runtime, a: unknown[]) => {
    let args = a.slice(1);
    let fmt = a[0];
    if (fmt !== null && typeof fmt === 'object' && !(Array.isArray(fmt))) {
      // Format(IFormatProvider, format, args…)
      fmt = a[1];
      args = a.slice(2);
    }
    if (args.length === 1 && Array.isArray(args[0]) && !(args[0] as { $type?: string }).$type?.startsWith('System.Char')) args = args[0] as unknown[];
    return rt.str(compositeFormat(str(fmt, 'format'), args));
  },
  Concat: (rt: Runtime, a: unknown[]) => {
    if (a.length === 1 && a[0] !== null && typeof a[0] === 'object') return rt.str([...iterate(a[0])].map(csToString).join(''));
    return rt.str(a.map(csToString).join(''));
  },
  Join: (rt: Runtime, a: unknown[]) => stringJoin(rt, a[0], a.slice(1)),
  Equals: (_rt: Runtime, a: unknown[]) => {
    const [x, y, c] = a;
    if (typeof x === 'string' && typeof y === 'string' && ignoreCase(c)) return x.toLowerCase() === y.toLowerCase();
    return csEquals(x ?? null, y ?? null);
  },
  Compare: (_rt: Runtime, a: unknown[]) => {
    const [x, y, c] = a;
    const ic = c === true || ignoreCase(c);
    const culture = !(c instanceof EnumValue) || c.value < 4;
    return compareStrings(x as string | null, y as string | null, ic, culture);
  },
  CompareOrdinal: (_rt: Runtime, a: unknown[]) => compareStrings(a[0] as string | null, a[1] as string | null, false, false),
  Copy: (_rt: Runtime, a: unknown[]) => str(a[0], 'str'),
  IsInterned: (_rt: Runtime, a: unknown[]) => a[0],
};

export function newString(rt: Runtime, args: unknown[]): string {
  if (Array.isArray(args[0])) {
    const chars = args[0] as string[];
    const start = args.length > 1 ? Number(args[1]) : 0;
    const len = args.length > 2 ? Number(args[2]) : chars.length - start;
    return chars.slice(start, start + len).join('');
  }
  return rt.str(String(args[0]).repeat(rt.size(Number(args[1]))));
}

const charTest = (re: RegExp) => (_rt: Runtime, a: unknown[]) => {
  const s = a[0];
  const c = typeof s === 'string' ? (a.length > 1 ? s[Number(a[1])] : s) : undefined;
  if (c === undefined) throw ex.argNull('c');
  return re.test(c);
};

export const CHAR_STATICS = {
  IsDigit: charTest(/^\p{Nd}$/u),
  IsNumber: charTest(/^\p{N}$/u),
  IsLetter: charTest(/^\p{L}$/u),
  IsLetterOrDigit: charTest(/^[\p{L}\p{Nd}]$/u),
  IsWhiteSpace: charTest(/^[\s\u0085\u00a0]$/),
  IsUpper: charTest(/^\p{Lu}$/u),
  IsLower: charTest(/^\p{Ll}$/u),
  IsPunctuation: charTest(/^\p{P}$/u),
  IsSymbol: charTest(/^\p{S}$/u),
  IsControl: charTest(/^\p{Cc}$/u),
  IsSurrogate: charTest(/^[\ud800-\udfff]$/),
  ToUpper: (_rt: Runtime, a: unknown[]) => String(a[0]).toUpperCase(),
  ToLower: (_rt: Runtime, a: unknown[]) => String(a[0]).toLowerCase(),
  ToUpperInvariant: (_rt: Runtime, a: unknown[]) => String(a[0]).toUpperCase(),
  ToLowerInvariant: (_rt: Runtime, a: unknown[]) => String(a[0]).toLowerCase(),
  Parse: (_rt: Runtime, a: unknown[]) => {
    const s = str(a[0], 's');
    if (s.length !== 1) throw ex.format('String must be exactly one character long.');
    return s;
  },
  TryParse: (_rt: Runtime, a: unknown[]) => {
    const s = a[0];
    const ok = typeof s === 'string' && s.length === 1;
    if (a[1] instanceof OutRef) a[1].set(ok ? s : '\0');
    return ok;
  },
  GetNumericValue: (_rt: Runtime, a: unknown[]) => {
    const c = String(a[0]);
    return /^[0-9]$/.test(c) ? Number(c) : -1;
  },
  ConvertFromUtf32: (_rt: Runtime, a: unknown[]) => String.fromCodePoint(Number(a[0])),
  ConvertToUtf32: (_rt: Runtime, a: unknown[]) => String(a[0]).codePointAt(Number(a[1] ?? 0)) ?? 0,
};
Object.setPrototypeOf(STRING_METHODS, null);
