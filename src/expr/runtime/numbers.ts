/** Numbers and booleans: ToString with format strings, Parse/TryParse with .NET's messages and ranges. */
import { CsObject, csToString, EnumValue, ex, formatDouble, type Runtime } from './core.js';
import { formatNumber } from './format.js';
import { OutRef, type RType } from './types.js';

type M = (rt: Runtime, n: number, args: unknown[]) => unknown;

function compare(a: number, b: unknown): number {
  if (b === null || b === undefined) return 1;
  const y = Number(b);
  return a < y ? -1 : a > y ? 1 : 0;
}

export const NUMBER_METHODS: Record<string, M> = {
  ToString: (_rt, n, a) => (typeof a[0] === 'string' ? formatNumber(n, a[0]) : Number.isSafeInteger(n) ? String(n) : formatDouble(n)),
  CompareTo: (_rt, n, a) => compare(n, a[0]),
  Equals: (_rt, n, a) => typeof a[0] === 'number' && a[0] === n,
  GetHashCode: (_rt, n) => n | 0,
  GetValueOrDefault: (_rt, n) => n,
};

export const BOOL_METHODS: Record<string, (rt: Runtime, b: boolean, args: unknown[]) => unknown> = {
  ToString: (_rt, b) => (b ? 'True' : 'False'),
  CompareTo: (_rt, b, a) => (b === a[0] ? 0 : b ? 1 : -1),
  Equals: (_rt, b, a) => a[0] === b,
  GetHashCode: (_rt, b) => (b ? 1 : 0),
  GetValueOrDefault: (_rt, b) => b,
};

export interface IntRange {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

export const INT_TYPES: Record<string, IntRange> = {
  'System.Int32': { name: 'Int32', min: -2147483648, max: 2147483647 },
  'System.Int64': { name: 'Int64', min: -9223372036854775808, max: 9223372036854775807 },
  'System.Int16': { name: 'Int16', min: -32768, max: 32767 },
  'System.UInt16': { name: 'UInt16', min: 0, max: 65535 },
  'System.UInt32': { name: 'UInt32', min: 0, max: 4294967295 },
  'System.UInt64': { name: 'UInt64', min: 0, max: 18446744073709551615 },
  'System.Byte': { name: 'Byte', min: 0, max: 255 },
  'System.SByte': { name: 'SByte', min: -128, max: 127 },
};

export function parseInteger(s: unknown, range: IntRange, hex = false): number {
  if (s === null || s === undefined) throw ex.argNull('s');
  const t = String(s).trim();
  const ok = hex ? /^[0-9a-fA-F]+$/.test(t) : /^[+-]?\d+$/.test(t);
  if (!ok) throw ex.format(`The input string '${String(s)}' was not in a correct format.`);
  const v = hex ? parseInt(t, 16) : Number(t);
  if (v < range.min || v > range.max) throw ex.overflow(`Value was either too large or too small for ${range.name === 'Byte' || range.name === 'SByte' ? `an unsigned byte` : `an ${range.name}`}.`);
  return v;
}

export function parseFloatStrict(s: unknown): number {
  if (s === null || s === undefined) throw ex.argNull('s');
  const t = String(s).trim().replace(/,/g, '');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) {
    if (/^[+-]?(Infinity|∞)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    if (t === 'NaN') return NaN;
    throw ex.format(`The input string '${String(s)}' was not in a correct format.`);
  }
  return Number(t);
}

/** Converts a value to an integral type as Convert.ToXxx does (rounding doubles to even, parsing strings). */
export function convertToInt(v: unknown, range: IntRange): number {
  if (v === null || v === undefined) return 0;
  let n: number;
  if (typeof v === 'string') return parseInteger(v, range);
  if (typeof v === 'boolean') n = v ? 1 : 0;
  else if (typeof v === 'number') n = roundHalfEven(v);
  else if (v instanceof EnumValue) n = v.value;
  else if (v instanceof CsObject && typeof (v as unknown as { $number?: () => number }).$number === 'function') n = roundHalfEven((v as unknown as { $number: () => number }).$number());
  else throw ex.invalidCast(v, `System.${range.name}`);
  if (n < range.min || n > range.max) throw ex.overflow(`Value was either too large or too small for an ${range.name}.`);
  return n;
}

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** (int)x: truncation of doubles, unchecked wrap-around of wider integers. */
export function explicitInt(v: unknown, fullName: string): number {
  const range = INT_TYPES[fullName]!;
  let n: number;
  if (typeof v === 'number') n = Math.trunc(v);
  // a char is a one-character string at run time (its static type is not always known: lambda parameters)
  else if (typeof v === 'string' && v.length === 1) n = v.charCodeAt(0);
  else if (v instanceof EnumValue) n = v.value;
  else if (v instanceof CsObject && typeof (v as unknown as { $explicit?: (t: string) => unknown }).$explicit === 'function') {
    return (v as unknown as { $explicit: (t: string) => number }).$explicit(fullName);
  } else throw ex.invalidCast(v, fullName);
  if (!Number.isFinite(n)) return range.min;
  switch (fullName) {
    case 'System.Int32':
      return n | 0;
    case 'System.Byte':
      return n & 0xff;
    case 'System.SByte':
      return (n << 24) >> 24;
    case 'System.Int16':
      return (n << 16) >> 16;
    case 'System.UInt16':
      return n & 0xffff;
    case 'System.UInt32':
      return n >>> 0;
    default:
      return n;
  }
}

export function tryParseInto(a: unknown[], parse: () => unknown, dflt: unknown): boolean {
  const out = a.find((x) => x instanceof OutRef) as OutRef | undefined;
  try {
    const v = parse();
    out?.set(v);
    return true;
  } catch {
    out?.set(dflt);
    return false;
  }
}

export function numberToString(v: unknown): string {
  return csToString(v);
}

export type { RType };
Object.setPrototypeOf(NUMBER_METHODS, null);
Object.setPrototypeOf(BOOL_METHODS, null);
