/**
 * The rest of the allowed .NET surface: Guid, Math, Random, Convert, BitConverter, Encoding,
 * WebUtility and Uri (with .NET's treatment of '+' and '%'), Regex, hashes and HMACs, AES.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { DotNetException } from '../errors.js';
import { CsObject, csToString, EnumValue, ex, iterate, NO_MEMBER, type Runtime } from './core.js';
import { OutRef } from './types.js';
import { convertToInt, INT_TYPES, parseFloatStrict, parseInteger, roundHalfEven } from './numbers.js';
import { stringArray } from './strings.js';
import { DateTime } from './datetime.js';

// ───── Guid ─────
export class Guid extends CsObject {
  constructor(readonly bytes: Buffer) {
    super();
  }
  get $type(): string {
    return 'System.Guid';
  }
  static fromString(s: unknown): Guid {
    if (s === null || s === undefined) throw ex.argNull('input');
    const t = String(s).trim().replace(/^[{(]|[})]$/g, '');
    const hex = t.replace(/-/g, '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex) || (t.includes('-') && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(t))) {
      throw ex.format('Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).');
    }
    const b = Buffer.from(hex, 'hex');
    // .NET stores the first three fields little-endian
    return new Guid(Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]));
  }
  /** A request id that is not a GUID still gets a stable Guid (hash of the text). */
  static parseLenient(s: string): Guid {
    try {
      return Guid.fromString(s);
    } catch {
      return new Guid(createHash('md5').update(s).digest());
    }
  }
  private hex(): string {
    const b = this.bytes;
    const h = Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]).toString('hex');
    return h;
  }
  override ToString(format?: unknown): string {
    const h = this.hex();
    const d = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    switch (typeof format === 'string' ? format : 'D') {
      case 'N':
      case 'n':
        return h;
      case 'B':
      case 'b':
        return `{${d}}`;
      case 'P':
      case 'p':
        return `(${d})`;
      case 'D':
      case 'd':
      case '':
        return d;
      default:
        throw ex.format('Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".');
    }
  }
  ToByteArray(): Buffer {
    return Buffer.from(this.bytes);
  }
  $eq(o: unknown): boolean {
    return o instanceof Guid && o.bytes.equals(this.bytes);
  }
  override Equals(o: unknown): boolean {
    return this.$eq(o);
  }
  override GetHashCode(): number {
    return this.bytes.readInt32LE(0) ^ this.bytes.readInt32LE(4) ^ this.bytes.readInt32LE(8) ^ this.bytes.readInt32LE(12);
  }
  CompareTo(o: unknown): number {
    if (!(o instanceof Guid)) return 1;
    return this.hex() < o.hex() ? -1 : this.hex() > o.hex() ? 1 : 0;
  }
}

export const GUID_TYPE = {
  construct: (_rt: Runtime, a: unknown[]) => {
    if (a.length === 0) return new Guid(Buffer.alloc(16));
    if (a[0] instanceof Uint8Array) {
      if (a[0].length !== 16) throw ex.arg("Byte array for Guid must be exactly 16 bytes long.", 'b');
      return new Guid(Buffer.from(a[0]));
    }
    return Guid.fromString(a[0]);
  },
  staticProps: { Empty: () => new Guid(Buffer.alloc(16)) },
  staticMethods: {
    NewGuid: () => Guid.fromString(randomUUID()),
    Parse: (_rt: Runtime, a: unknown[]) => Guid.fromString(a[0]),
    ParseExact: (_rt: Runtime, a: unknown[]) => Guid.fromString(a[0]),
    TryParse: (_rt: Runtime, a: unknown[]) => {
      const out = a.find((x) => x instanceof OutRef) as OutRef | undefined;
      try {
        out?.set(Guid.fromString(a[0]));
        return true;
      } catch {
        out?.set(new Guid(Buffer.alloc(16)));
        return false;
      }
    },
  },
};

// ───── Math ─────
function round(a: unknown[]): number {
  const x = Number(a[0]);
  let digits = 0;
  let away = false;
  for (const v of a.slice(1)) {
    if (typeof v === 'number') digits = v;
    else if (v instanceof EnumValue) away = v.name === 'AwayFromZero';
  }
  const f = 10 ** digits;
  const y = x * f;
  const r = away ? Math.sign(y) * Math.round(Math.abs(y)) : roundHalfEven(Number(y.toPrecision(15)));
  return r / f;
}

const num1 = (f: (x: number) => number) => (_rt: Runtime, a: unknown[]) => f(Number(a[0]));
export const MATH_STATICS = {
  Abs: num1(Math.abs),
  Floor: num1(Math.floor),
  Ceiling: num1(Math.ceil),
  Truncate: num1(Math.trunc),
  Sqrt: num1(Math.sqrt),
  Exp: num1(Math.exp),
  Log10: num1(Math.log10),
  Log2: num1(Math.log2),
  Sin: num1(Math.sin),
  Cos: num1(Math.cos),
  Tan: num1(Math.tan),
  Asin: num1(Math.asin),
  Acos: num1(Math.acos),
  Atan: num1(Math.atan),
  Sign: num1((x) => Math.sign(x)),
  Log: (_rt: Runtime, a: unknown[]) => (a.length > 1 ? Math.log(Number(a[0])) / Math.log(Number(a[1])) : Math.log(Number(a[0]))),
  Pow: (_rt: Runtime, a: unknown[]) => Math.pow(Number(a[0]), Number(a[1])),
  Atan2: (_rt: Runtime, a: unknown[]) => Math.atan2(Number(a[0]), Number(a[1])),
  Max: (_rt: Runtime, a: unknown[]) => Math.max(Number(a[0]), Number(a[1])),
  Min: (_rt: Runtime, a: unknown[]) => Math.min(Number(a[0]), Number(a[1])),
  Clamp: (_rt: Runtime, a: unknown[]) => Math.min(Math.max(Number(a[0]), Number(a[1])), Number(a[2])),
  Round: (_rt: Runtime, a: unknown[]) => round(a),
  DivRem: (_rt: Runtime, a: unknown[]) => {
    const q = Math.trunc(Number(a[0]) / Number(a[1]));
    if (a[2] instanceof OutRef) a[2].set(Number(a[0]) - q * Number(a[1]));
    return q;
  },
};

// ───── Random ─────
export class CsRandom extends CsObject {
  private state: number | undefined;
  constructor(seed?: number) {
    super();
    this.state = seed === undefined ? undefined : (seed >>> 0) || 0x9e3779b9;
  }
  get $type(): string {
    return 'System.Random';
  }
  private next01(): number {
    if (this.state === undefined) return randomBytes(4).readUInt32LE(0) / 0x100000000;
    // xorshift32: deterministic for a seed (not .NET's sequence)
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x100000000;
  }
  Next(a?: unknown, b?: unknown): number {
    if (a === undefined) return Math.floor(this.next01() * 2147483647);
    if (b === undefined) {
      if (Number(a) < 0) throw ex.argRange('maxValue', "'maxValue' must be greater than zero.");
      return Math.floor(this.next01() * Number(a));
    }
    if (Number(a) > Number(b)) throw ex.argRange('minValue', "'minValue' cannot be greater than maxValue.");
    return Number(a) + Math.floor(this.next01() * (Number(b) - Number(a)));
  }
  NextDouble(): number {
    return this.next01();
  }
  NextBytes(buf: unknown): void {
    if (!(buf instanceof Uint8Array)) throw ex.argNull('buffer');
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(this.next01() * 256);
  }
}

// ───── Convert ─────
const B64_ERR = 'The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.';

/**
 * Convert.FromBase64String: spaces, tabs, CR and LF are skipped; what is left must be a multiple of
 * four characters of [A-Za-z0-9+/] ending with at most two '='.
 */
export function fromBase64(s: unknown): Buffer {
  if (s === null || s === undefined) throw ex.argNull('s');
  let t = String(s);
  // the whitespace .NET skips, removed by native string search (a PEM body has a line break every 64 characters)
  if (t.includes('\n')) t = t.replaceAll('\n', '');
  if (t.includes('\r')) t = t.replaceAll('\r', '');
  if (t.includes(' ')) t = t.replaceAll(' ', '');
  if (t.includes('\t')) t = t.replaceAll('\t', '');
  if (t.length % 4 !== 0) throw ex.format(B64_ERR);
  const bytes = Buffer.from(t, 'base64');
  // Node's decoder is lenient, so check the text: when it is the canonical encoding of what was
  // decoded it is valid (the common case, two native calls); otherwise (invalid characters, or
  // non-zero bits in the last character, which .NET accepts) the pattern decides
  if (bytes.toString('base64') !== t && !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) throw ex.format(B64_ERR);
  return bytes;
}

function bytesArg(v: unknown, name = 'inArray'): Buffer {
  if (v === null || v === undefined) throw ex.argNull(name);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return Buffer.from(v.map((x) => Number(x) & 0xff));
  throw ex.invalidCast(v, 'System.Byte[]');
}

function toBase(v: unknown, base: number, range: { name: string; min: number; max: number }): number {
  const s = String(v).trim().replace(/^0x/i, '');
  const n = parseInt(s, base);
  if (!s || Number.isNaN(n) || !new RegExp(`^[${'0123456789abcdef'.slice(0, base)}]+$`, 'i').test(s)) throw ex.format('Could not find any recognizable digits.');
  if (n > range.max) {
    if (range.name === 'Byte') throw ex.overflow('Value was either too large or too small for an unsigned byte.');
    // two's complement for Int32/Int64 from hex
    if (range.name === 'Int32' && n <= 0xffffffff) return n | 0;
    throw ex.overflow(`Value was either too large or too small for an ${range.name}.`);
  }
  return n;
}

function toBool(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^true$/i.test(t)) return true;
    if (/^false$/i.test(t)) return false;
    throw ex.format(`String '${v}' was not recognized as a valid Boolean.`);
  }
  throw ex.invalidCast(v, 'System.Boolean');
}

const intConv = (full: string) => (_rt: Runtime, a: unknown[]) => {
  const range = INT_TYPES[full]!;
  if (a.length > 1 && typeof a[1] === 'number' && typeof a[0] === 'string') return toBase(a[0], a[1], range);
  return convertToInt(a[0], range);
};

export const CONVERT_STATICS = {
  ToBase64String: (rt: Runtime, a: unknown[]) => {
    let b = bytesArg(a[0]);
    if (typeof a[1] === 'number') b = b.subarray(a[1], a[1] + Number(a[2]));
    const insertBreaks = a[a.length - 1] instanceof EnumValue && (a[a.length - 1] as EnumValue).value === 1;
    let s = b.toString('base64');
    if (insertBreaks) s = s.replace(/(.{76})(?=.)/g, '$1\r\n');
    return rt.str(s);
  },
  FromBase64String: (_rt: Runtime, a: unknown[]) => fromBase64(a[0]),
  FromBase64CharArray: (_rt: Runtime, a: unknown[]) => fromBase64((a[0] as string[]).slice(Number(a[1] ?? 0), Number(a[1] ?? 0) + Number(a[2] ?? (a[0] as string[]).length)).join('')),
  ToHexString: (_rt: Runtime, a: unknown[]) => bytesArg(a[0]).toString('hex').toUpperCase(),
  FromHexString: (_rt: Runtime, a: unknown[]) => {
    const s = String(a[0]);
    if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw ex.format('The input is not a valid hex string as its length is not a multiple of 2.');
    return Buffer.from(s, 'hex');
  },
  ToInt32: intConv('System.Int32'),
  ToInt64: intConv('System.Int64'),
  ToInt16: intConv('System.Int16'),
  ToUInt16: intConv('System.UInt16'),
  ToUInt32: intConv('System.UInt32'),
  ToUInt64: intConv('System.UInt64'),
  ToByte: intConv('System.Byte'),
  ToSByte: intConv('System.SByte'),
  ToDouble: (_rt: Runtime, a: unknown[]) => (a[0] === null || a[0] === undefined ? 0 : typeof a[0] === 'string' ? parseFloatStrict(a[0]) : typeof a[0] === 'boolean' ? Number(a[0]) : Number(a[0])),
  ToSingle: (_rt: Runtime, a: unknown[]) => (a[0] === null || a[0] === undefined ? 0 : typeof a[0] === 'string' ? parseFloatStrict(a[0]) : Number(a[0])),
  ToDecimal: (_rt: Runtime, a: unknown[]) => (a[0] === null || a[0] === undefined ? 0 : typeof a[0] === 'string' ? parseFloatStrict(a[0]) : Number(a[0])),
  ToBoolean: (_rt: Runtime, a: unknown[]) => toBool(a[0]),
  ToString: (_rt: Runtime, a: unknown[]) => {
    if (typeof a[0] === 'number' && typeof a[1] === 'number') {
      const n = a[0] < 0 ? (a[1] === 16 ? a[0] >>> 0 : a[0]) : a[0];
      return n.toString(a[1]);
    }
    return a[0] === null || a[0] === undefined ? '' : csToString(a[0]);
  },
  ToChar: (_rt: Runtime, a: unknown[]) => (typeof a[0] === 'number' ? String.fromCharCode(a[0]) : String(a[0])[0]),
  ToDateTime: (rt: Runtime, a: unknown[]) => {
    if (a[0] instanceof DateTime) return a[0];
    if (a[0] === null || a[0] === undefined) return new DateTime(-62135596800000);
    return (DATETIME_PARSE as (rt: Runtime, a: unknown[]) => unknown)(rt, [a[0]]);
  },
  IsDBNull: () => false,
  ChangeType: (_rt: Runtime, a: unknown[]) => a[0],
};

let DATETIME_PARSE: unknown;
export function setDateTimeParse(f: unknown): void {
  DATETIME_PARSE = f;
}

// ───── BitConverter ─────
export const BITCONVERTER_STATICS = {
  GetBytes: (_rt: Runtime, a: unknown[]) => {
    const v = a[0];
    if (typeof v === 'boolean') return Buffer.from([v ? 1 : 0]);
    if (typeof v === 'string') return Buffer.from([v.charCodeAt(0) & 0xff, v.charCodeAt(0) >> 8]);
    const n = Number(v);
    if (!Number.isInteger(n)) {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(n);
      return b;
    }
    if (n >= -2147483648 && n <= 2147483647) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      return b;
    }
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return b;
  },
  ToString: (_rt: Runtime, a: unknown[]) => {
    let b = bytesArg(a[0], 'value');
    if (typeof a[1] === 'number') b = b.subarray(a[1], typeof a[2] === 'number' ? a[1] + a[2] : undefined);
    return [...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('-');
  },
  ToInt32: (_rt: Runtime, a: unknown[]) => bytesArg(a[0], 'value').readInt32LE(Number(a[1] ?? 0)),
  ToUInt32: (_rt: Runtime, a: unknown[]) => bytesArg(a[0], 'value').readUInt32LE(Number(a[1] ?? 0)),
  ToInt16: (_rt: Runtime, a: unknown[]) => bytesArg(a[0], 'value').readInt16LE(Number(a[1] ?? 0)),
  ToInt64: (_rt: Runtime, a: unknown[]) => Number(bytesArg(a[0], 'value').readBigInt64LE(Number(a[1] ?? 0))),
  ToDouble: (_rt: Runtime, a: unknown[]) => bytesArg(a[0], 'value').readDoubleLE(Number(a[1] ?? 0)),
  ToBoolean: (_rt: Runtime, a: unknown[]) => bytesArg(a[0], 'value')[Number(a[1] ?? 0)] !== 0,
};

// ───── Encoding ─────
export class CsEncoding extends CsObject {
  constructor(readonly name: 'utf-8' | 'us-ascii' | 'utf-16' | 'utf-16BE' | 'utf-32' | 'iso-8859-1') {
    super();
  }
  get $type(): string {
    return 'System.Text.Encoding';
  }
  get WebName(): string {
    return this.name;
  }
  get EncodingName(): string {
    return this.name;
  }
  GetBytes(s: unknown, index?: unknown, count?: unknown): Buffer {
    if (s === null || s === undefined) throw ex.argNull('s');
    let str = Array.isArray(s) ? (s as string[]).join('') : String(s);
    if (typeof index === 'number') str = str.substr(index, Number(count ?? str.length - index));
    switch (this.name) {
      case 'utf-8':
        return Buffer.from(str.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'), 'utf8');
      case 'us-ascii':
        return Buffer.from(str.replace(/[^\x00-\x7f]/g, '?'), 'latin1');
      case 'iso-8859-1':
        return Buffer.from(str.replace(/[^\x00-\xff]/g, '?'), 'latin1');
      case 'utf-16':
        return Buffer.from(str, 'utf16le');
      case 'utf-16BE':
        return Buffer.from(str, 'utf16le').swap16();
      case 'utf-32': {
        const cps = [...str].map((c) => c.codePointAt(0)!);
        const b = Buffer.alloc(cps.length * 4);
        cps.forEach((c, i) => b.writeUInt32LE(c, i * 4));
        return b;
      }
    }
  }
  GetString(b: unknown, index?: unknown, count?: unknown): string {
    let buf = bytesArg(b, 'bytes');
    if (typeof index === 'number') buf = buf.subarray(index, index + Number(count ?? buf.length - index));
    switch (this.name) {
      case 'utf-8':
        return buf.toString('utf8');
      case 'us-ascii':
        return [...buf].map((x) => (x < 128 ? String.fromCharCode(x) : '?')).join('');
      case 'iso-8859-1':
        return buf.toString('latin1');
      case 'utf-16':
        return buf.toString('utf16le');
      case 'utf-16BE':
        return Buffer.from(buf).swap16().toString('utf16le');
      case 'utf-32': {
        let out = '';
        for (let i = 0; i + 3 < buf.length; i += 4) out += String.fromCodePoint(buf.readUInt32LE(i));
        return out;
      }
    }
  }
  GetByteCount(s: unknown): number {
    return this.GetBytes(s).length;
  }
  GetPreamble(): Buffer {
    return this.name === 'utf-8' ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0);
  }
}

export const ENCODING_TYPE = {
  staticProps: {
    UTF8: () => new CsEncoding('utf-8'),
    ASCII: () => new CsEncoding('us-ascii'),
    Unicode: () => new CsEncoding('utf-16'),
    BigEndianUnicode: () => new CsEncoding('utf-16BE'),
    UTF32: () => new CsEncoding('utf-32'),
    Latin1: () => new CsEncoding('iso-8859-1'),
    Default: () => new CsEncoding('utf-8'),
  },
  staticMethods: {
    GetEncoding: (_rt: Runtime, a: unknown[]) => {
      const n = String(a[0]).toLowerCase();
      if (n === 'utf-8' || n === 'utf8') return new CsEncoding('utf-8');
      if (n === 'ascii' || n === 'us-ascii') return new CsEncoding('us-ascii');
      if (n === 'iso-8859-1' || n === 'latin1') return new CsEncoding('iso-8859-1');
      if (n === 'utf-16' || n === 'unicode') return new CsEncoding('utf-16');
      throw ex.arg(`'${String(a[0])}' is not a supported encoding name.`, 'name');
    },
  },
};

// ───── WebUtility and Uri ─────
/** Hex digit values of ASCII characters, -1 for the others. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[65 + i] = HEX_VALUE[97 + i] = 10 + i;

function hexAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? HEX_VALUE[c]! : -1;
}

/** Text outside %XX escapes: kept, except that '+' is a space for UrlDecode. */
function literalPart(s: string, from: number, to: number, plusIsSpace: boolean): string {
  const part = s.slice(from, to);
  return plusIsSpace && part.includes('+') ? part.replaceAll('+', ' ') : part;
}

/** One maximal run of %XX with a byte ≥ 0x80: decoded as UTF-8 when it is valid. */
function decodeUtf8Run(run: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(run);
  } catch {
    // WebUtility.UrlDecode replaces invalid UTF-8 with U+FFFD; Uri.UnescapeDataString leaves it escaped
    return plusIsSpace ? Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8') : run;
  }
}

/**
 * Decodes %XX runs as UTF-8 (invalid sequences become U+FFFD, as .NET does); '+' is a space for
 * UrlDecode only; a '%' not followed by two hex digits stays. One pass: a run of escapes of ASCII
 * bytes (%0A, %2B, %20 … all of a URL-escaped PEM) becomes characters directly; a run with a byte
 * ≥ 0x80 is decoded as UTF-8 by decodeURIComponent (a UTF-8 sequence never spans two runs).
 */
function percentDecode(s: string, plusIsSpace: boolean): string {
  let i = s.indexOf('%');
  if (i < 0) return plusIsSpace && s.includes('+') ? s.replaceAll('+', ' ') : s;
  const n = s.length;
  let out = '';
  let from = 0;
  while (i >= 0) {
    let j = i;
    let ascii = true;
    let chars = '';
    while (j + 2 < n && s.charCodeAt(j) === 37) {
      const hi = hexAt(s, j + 1);
      const lo = hexAt(s, j + 2);
      if (hi < 0 || lo < 0) break;
      if (hi >= 8) ascii = false;
      else if (ascii) chars += String.fromCharCode(hi * 16 + lo);
      j += 3;
    }
    if (j > i) {
      if (from < i) out += literalPart(s, from, i, plusIsSpace);
      out += ascii ? chars : decodeUtf8Run(s.slice(i, j), plusIsSpace);
      from = j;
      i = s.indexOf('%', j);
    } else {
      i = s.indexOf('%', i + 1);
    }
  }
  if (from < n) out += literalPart(s, from, n, plusIsSpace);
  return out;
}

function utf8Escape(s: string, keep: RegExp, spaceAsPlus: boolean): string {
  let out = '';
  for (const ch of s) {
    if (keep.test(ch)) out += ch;
    else if (spaceAsPlus && ch === ' ') out += '+';
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const HTML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export const WEBUTILITY_STATICS = {
  /** '+' becomes a space and %XX sequences are decoded as UTF-8, as System.Net.WebUtility.UrlDecode does. */
  UrlDecode: (_rt: Runtime, a: unknown[]) => (a[0] === null || a[0] === undefined ? null : percentDecode(String(a[0]), true)),
  UrlEncode: (_rt: Runtime, a: unknown[]) => (a[0] === null || a[0] === undefined ? null : utf8Escape(String(a[0]), /^[A-Za-z0-9\-_.!*()]$/, true)),
  HtmlEncode: (_rt: Runtime, a: unknown[]) =>
    a[0] === null || a[0] === undefined ? null : String(a[0]).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!),
  HtmlDecode: (_rt: Runtime, a: unknown[]) =>
    a[0] === null || a[0] === undefined
      ? null
      : String(a[0]).replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (m, e: string) => {
          if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
          if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
          return HTML_ENTITIES[e] ?? m;
        }),
};

export class CsUri extends CsObject {
  private readonly u: URL | undefined;
  constructor(readonly OriginalString: string, relative = false) {
    super();
    if (!relative) {
      try {
        this.u = new URL(OriginalString);
      } catch {
        throw ex.uriFormat();
      }
    }
  }
  get $type(): string {
    return 'System.Uri';
  }
  private get url(): URL {
    if (!this.u) throw ex.invalidOp('This operation is not supported for a relative URI.');
    return this.u;
  }
  get IsAbsoluteUri(): boolean {
    return this.u !== undefined;
  }
  get AbsoluteUri(): string {
    return this.url.href;
  }
  get Scheme(): string {
    return this.url.protocol.replace(/:$/, '');
  }
  get Host(): string {
    return this.url.hostname;
  }
  get DnsSafeHost(): string {
    return this.url.hostname;
  }
  get Port(): number {
    return this.url.port ? Number(this.url.port) : this.Scheme === 'https' ? 443 : this.Scheme === 'http' ? 80 : -1;
  }
  get IsDefaultPort(): boolean {
    return !this.url.port;
  }
  get Authority(): string {
    return this.url.host;
  }
  get AbsolutePath(): string {
    return this.url.pathname;
  }
  get LocalPath(): string {
    return decodeURIComponent(this.url.pathname);
  }
  get PathAndQuery(): string {
    return this.url.pathname + this.url.search;
  }
  get Query(): string {
    return this.url.search;
  }
  get Fragment(): string {
    return this.url.hash;
  }
  get UserInfo(): string {
    return this.url.username + (this.url.password ? ':' + this.url.password : '');
  }
  get Segments(): string[] {
    const parts = this.url.pathname.split('/');
    return stringArray(parts.map((p, i) => (i < parts.length - 1 ? p + '/' : p)).filter((p) => p !== ''));
  }
  GetLeftPart(part: unknown): string {
    const name = part instanceof EnumValue ? part.name : 'Path';
    const u = this.url;
    const origin = `${u.protocol}//${u.username ? u.username + (u.password ? ':' + u.password : '') + '@' : ''}${u.host}`;
    if (name === 'Scheme') return `${u.protocol}//`;
    if (name === 'Authority') return origin;
    if (name === 'Path') return origin + u.pathname;
    return origin + u.pathname + u.search;
  }
  override ToString(): string {
    if (!this.u) return this.OriginalString;
    return percentDecode(this.u.href, false);
  }
  $eq(o: unknown): boolean {
    return o instanceof CsUri && o.OriginalString === this.OriginalString;
  }
}

export const URI_TYPE = {
  construct: (_rt: Runtime, a: unknown[]) => {
    if (a[0] instanceof CsUri && a.length > 1) return new CsUri(new URL(String(a[1]), (a[0] as CsUri).AbsoluteUri).href);
    if (a[0] === null || a[0] === undefined) throw ex.argNull('uriString');
    const relative = a[1] instanceof EnumValue && a[1].name === 'Relative';
    return new CsUri(String(a[0]), relative);
  },
  staticProps: { UriSchemeHttp: () => 'http', UriSchemeHttps: () => 'https' },
  staticMethods: {
    EscapeDataString: (rt: Runtime, a: unknown[]) => {
      if (a[0] === null || a[0] === undefined) throw ex.argNull('stringToEscape');
      return rt.str(utf8Escape(String(a[0]), /^[A-Za-z0-9\-._~]$/, false));
    },
    EscapeUriString: (rt: Runtime, a: unknown[]) => {
      if (a[0] === null || a[0] === undefined) throw ex.argNull('stringToEscape');
      return rt.str(utf8Escape(String(a[0]), /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]$/, false));
    },
    /** '+' stays '+': only %XX sequences are decoded. */
    UnescapeDataString: (_rt: Runtime, a: unknown[]) => {
      if (a[0] === null || a[0] === undefined) throw ex.argNull('stringToUnescape');
      return percentDecode(String(a[0]), false);
    },
    IsWellFormedUriString: (_rt: Runtime, a: unknown[]) => {
      try {
        if (typeof a[0] !== 'string' || /\s/.test(a[0])) return false;
        const kind = a[1] instanceof EnumValue ? a[1].name : 'Absolute';
        if (kind === 'Relative') return !/^[a-z][a-z0-9+.-]*:/i.test(a[0]);
        new URL(a[0]);
        return true;
      } catch {
        return false;
      }
    },
    TryCreate: (_rt: Runtime, a: unknown[]) => {
      const out = a.find((x) => x instanceof OutRef) as OutRef | undefined;
      try {
        out?.set(new CsUri(String(a[0]), a[1] instanceof EnumValue && a[1].name === 'Relative'));
        return true;
      } catch {
        out?.set(null);
        return false;
      }
    },
    CheckHostName: (_rt: Runtime, a: unknown[]) => new EnumValue('System.UriHostNameType', /^[\w.-]+$/.test(String(a[0])) ? 'Dns' : 'Unknown', 1),
  },
};

// ───── Regex ─────
/**
 * JavaScript regexes cannot be interrupted, so a pattern like (a+)+$ on a long input would hang the
 * gateway. V8 can switch such a regex to its linear-time engine after too many backtracks; this
 * turns that on for the process (results are the same, only the engine changes). Patterns with
 * backreferences or lookarounds cannot use that engine and remain exposed (docs/expressions.md).
 */
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
function translatePattern(p: string, opts: number): string {
  let s = p;
  if (opts & 32) s = s.replace(/\\#/g, '\u0000').replace(/#.*$/gm, '').replace(/\s+/g, '').replace(/\u0000/g, '#');
  s = s.replace(/\(\?'([A-Za-z_]\w*)'/g, '(?<$1>').replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>');
  s = s.replace(/\\A/g, '^').replace(/\\[Zz]/g, '$');
  if (/\(\?>|\(\?[imnsx-]+\)|\(\?[imnsx-]+:/.test(s)) {
    // inline options and atomic groups: the common inline (?i) at the start becomes a flag
    s = s.replace(/^\(\?i\)/, '');
  }
  return s;
}

/**
 * Case-insensitivity by rewriting ASCII letters into classes ([aA]), so that the pattern stays
 * within what V8's linear-time engine accepts (it refuses the i flag). Escapes, group names and
 * \p{…} are left alone; inside a class the other case is added.
 */
function foldCase(p: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1] ?? '';
      if ((n === 'p' || n === 'P' || n === 'k') && (p[i + 2] === '{' || p[i + 2] === '<')) {
        const end = p.indexOf(p[i + 2] === '{' ? '}' : '>', i);
        out += p.slice(i, end + 1);
        i = end;
        continue;
      }
      out += c + n;
      i++;
      continue;
    }
    if (!inClass && c === '(' && p[i + 1] === '?' && p[i + 2] === '<' && /[A-Za-z_]/.test(p[i + 3] ?? '')) {
      const end = p.indexOf('>', i);
      out += p.slice(i, end + 1);
      i = end;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    const lower = c.toLowerCase();
    const upper = c.toUpperCase();
    if (/[A-Za-z]/.test(c) && lower !== upper) out += inClass ? lower + upper : `[${lower}${upper}]`;
    else out += c;
  }
  return out;
}

/**
 * .NET patterns on V8. Flags are kept to those V8's linear-time engine supports (g, m, s; u only
 * when the pattern needs \p{…}) so that a pattern that backtracks catastrophically falls back to
 * that engine instead of hanging the gateway (the V8 flag set above).
 */
function makeRegExp(pattern: unknown, options: unknown, global: boolean): RegExp {
  if (pattern === null || pattern === undefined) throw ex.argNull('pattern');
  const opts = options instanceof EnumValue ? options.value : 0;
  const p = String(pattern);
  let src = translatePattern(p, opts);
  let flags = global ? 'g' : '';
  if (/\\[pP]\{|\\u\{/.test(src)) flags += 'u';
  if (opts & 1 || /^\(\?i\)/.test(p)) {
    if (/[^\x00-\x7f]/.test(src)) flags += 'i';
    else src = foldCase(src);
  }
  if (opts & 2) flags += 'm';
  if (opts & 16) flags += 's';
  try {
    return new RegExp(src, flags);
  } catch {
    try {
      return new RegExp(src, flags.includes('u') ? flags.replace('u', '') : flags + 'u');
    } catch (e) {
      throw ex.arg(`Invalid pattern '${p}': ${(e as Error).message}`);
    }
  }
}

export class CsGroup extends CsObject {
  constructor(readonly Success: boolean, readonly Value: string, readonly Index: number, readonly Name: string) {
    super();
  }
  get $type(): string {
    return 'System.Text.RegularExpressions.Group';
  }
  get Length(): number {
    return this.Value.length;
  }
  get Captures(): CsGroup[] {
    return this.Success ? [this] : [];
  }
  override ToString(): string {
    return this.Value;
  }
}

export class GroupCollection extends CsObject {
  constructor(private readonly groups: CsGroup[]) {
    super();
  }
  get $type(): string {
    return 'System.Text.RegularExpressions.GroupCollection';
  }
  get Count(): number {
    return this.groups.length;
  }
  [Symbol.iterator](): Iterator<unknown> {
    return this.groups[Symbol.iterator]();
  }
  $index(_rt: Runtime, args: unknown[]): unknown {
    const k = args[0];
    if (typeof k === 'number') return this.groups[k] ?? new CsGroup(false, '', 0, String(k));
    return this.groups.find((g) => g.Name === String(k)) ?? new CsGroup(false, '', 0, String(k));
  }
}

export class CsMatch extends CsObject {
  constructor(private readonly m: RegExpExecArray | null, private readonly re: RegExp | undefined, private readonly input: string) {
    super();
  }
  get $type(): string {
    return 'System.Text.RegularExpressions.Match';
  }
  get Success(): boolean {
    return this.m !== null;
  }
  get Value(): string {
    return this.m ? this.m[0] : '';
  }
  get Index(): number {
    return this.m ? this.m.index : 0;
  }
  get Length(): number {
    return this.Value.length;
  }
  get Groups(): GroupCollection {
    const m = this.m;
    if (!m) return new GroupCollection([new CsGroup(false, '', 0, '0')]);
    const names = new Map<number, string>();
    if (m.groups) {
      // named groups are numbered after the unnamed ones in .NET; JS numbers them in order
      const src = this.re?.source ?? '';
      let idx = 0;
      const re = /\\.|\[(?:\\.|[^\]])*\]|\((\?<([A-Za-z_]\w*)>|\?)?/g;
      let mm: RegExpExecArray | null;
      while ((mm = re.exec(src))) {
        if (mm[0].startsWith('(') && (mm[1] === undefined || mm[2] !== undefined)) {
          idx++;
          if (mm[2]) names.set(idx, mm[2]);
        }
      }
    }
    const groups: CsGroup[] = [];
    for (let i = 0; i < m.length; i++) {
      const v = m[i];
      groups.push(new CsGroup(v !== undefined, v ?? '', v !== undefined ? (i === 0 ? m.index : this.input.indexOf(v, m.index)) : 0, names.get(i) ?? String(i)));
    }
    return new GroupCollection(groups);
  }
  get Captures(): CsGroup[] {
    return this.Success ? [new CsGroup(true, this.Value, this.Index, '0')] : [];
  }
  NextMatch(): CsMatch {
    if (!this.m || !this.re) return new CsMatch(null, undefined, this.input);
    const re = new RegExp(this.re.source, this.re.flags.includes('g') ? this.re.flags : this.re.flags + 'g');
    re.lastIndex = this.m.index + Math.max(1, this.m[0].length);
    return new CsMatch(re.exec(this.input), re, this.input);
  }
  Result(replacement: unknown): string {
    if (!this.m) throw ex.notSupported('Result cannot be called on a failed Match.');
    return this.m[0].replace(new RegExp(this.re!.source, this.re!.flags.replace('g', '')), dotnetReplacement(String(replacement)));
  }
  override ToString(): string {
    return this.Value;
  }
}

function dotnetReplacement(r: string): string {
  return r.replace(/\$\{([A-Za-z_]\w*)\}/g, '$<$1>').replace(/\$0/g, '$$&');
}

function regexInput(v: unknown): string {
  if (v === null || v === undefined) throw ex.argNull('input');
  return String(v);
}

function match(input: unknown, pattern: unknown, options: unknown): CsMatch {
  const s = regexInput(input);
  const re = makeRegExp(pattern, options, true);
  return new CsMatch(re.exec(s), re, s);
}

export class MatchCollection extends CsObject {
  constructor(readonly items: CsMatch[]) {
    super();
  }
  get $type(): string {
    return 'System.Text.RegularExpressions.MatchCollection';
  }
  get Count(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<unknown> {
    return this.items[Symbol.iterator]();
  }
  $index(_rt: Runtime, args: unknown[]): unknown {
    const i = args[0];
    if (typeof i !== 'number' || i < 0 || i >= this.items.length) throw ex.argRange('i', 'Specified argument was out of the range of valid values.');
    return this.items[i];
  }
}

function matches(input: unknown, pattern: unknown, options: unknown): MatchCollection {
  const s = regexInput(input);
  const re = makeRegExp(pattern, options, true);
  const out: CsMatch[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    out.push(new CsMatch(m, new RegExp(re.source, re.flags), s));
    if (m[0] === '') re.lastIndex++;
    if (out.length > 1_000_000) break;
  }
  return new MatchCollection(out);
}

function replace(rt: Runtime, input: unknown, pattern: unknown, repl: unknown, options: unknown): string {
  const s = regexInput(input);
  const re = makeRegExp(pattern, options, true);
  if (typeof repl === 'function') return rt.str(s.replace(re, (...m) => csToString((repl as (x: unknown) => unknown)(new CsMatch(Object.assign([...m.slice(0, -2)], { index: m[m.length - 2], input: s }) as unknown as RegExpExecArray, re, s)))));
  return rt.str(s.replace(re, dotnetReplacement(repl === null || repl === undefined ? '' : String(repl))));
}

export class CsRegex extends CsObject {
  constructor(readonly pattern: string, readonly options: unknown) {
    super();
    makeRegExp(pattern, options, false);
  }
  get $type(): string {
    return 'System.Text.RegularExpressions.Regex';
  }
  IsMatch(input: unknown): boolean {
    return makeRegExp(this.pattern, this.options, false).test(regexInput(input));
  }
  Match(input: unknown): CsMatch {
    return match(input, this.pattern, this.options);
  }
  Matches(input: unknown): MatchCollection {
    return matches(input, this.pattern, this.options);
  }
  Replace(input: unknown, repl: unknown): string {
    return replace({ str: (x: string) => x } as unknown as Runtime, input, this.pattern, repl, this.options);
  }
  Split(input: unknown): string[] {
    return stringArray(regexInput(input).split(makeRegExp(this.pattern, this.options, false)).map((x) => x ?? ''));
  }
  override ToString(): string {
    return this.pattern;
  }
}

export const REGEX_TYPE = {
  construct: (_rt: Runtime, a: unknown[]) => new CsRegex(String(a[0]), a[1]),
  staticMethods: {
    IsMatch: (_rt: Runtime, a: unknown[]) => makeRegExp(a[1], a[2], false).test(regexInput(a[0])),
    Match: (_rt: Runtime, a: unknown[]) => match(a[0], a[1], a[2]),
    Matches: (_rt: Runtime, a: unknown[]) => matches(a[0], a[1], a[2]),
    Replace: (rt: Runtime, a: unknown[]) => replace(rt, a[0], a[1], a[2], a[3]),
    Split: (_rt: Runtime, a: unknown[]) => stringArray(regexInput(a[0]).split(makeRegExp(a[1], a[2], false)).map((x) => x ?? '')),
    Escape: (_rt: Runtime, a: unknown[]) => String(a[0]).replace(/[\\*+?|{[()^$.# \t\n\r\f]/g, (c) => ({ '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f' })[c] ?? '\\' + c),
    Unescape: (_rt: Runtime, a: unknown[]) => String(a[0]).replace(/\\(.)/g, '$1'),
  },
};

// ───── hashes, HMACs, AES ─────
export class HashAlgorithm extends CsObject {
  private hash: Buffer | null = null;
  constructor(readonly alg: string, private key: Buffer | undefined, private readonly typeName: string) {
    super();
  }
  get $type(): string {
    return this.typeName;
  }
  get Key(): Buffer {
    if (!this.key) throw ex.notSupported('This hash algorithm has no key.');
    return Buffer.from(this.key);
  }
  set Key(v: unknown) {
    this.key = bytesArg(v, 'value');
  }
  get Hash(): Buffer | null {
    return this.hash;
  }
  get HashSize(): number {
    return createHash(this.alg).digest().length * 8;
  }
  ComputeHash(data: unknown, offset?: unknown, count?: unknown): Buffer {
    let b = bytesArg(data, 'buffer');
    if (typeof offset === 'number') b = b.subarray(offset, offset + Number(count));
    this.hash = this.key !== undefined ? createHmac(this.alg, this.key).update(b).digest() : createHash(this.alg).update(b).digest();
    return this.hash;
  }
  Dispose(): void {
    /* nothing to free */
  }
  Clear(): void {
    /* nothing to free */
  }
  Initialize(): void {
    this.hash = null;
  }
}

export function hashType(alg: string, keyed: boolean, typeName: string) {
  return {
    construct: (_rt: Runtime, a: unknown[]) => new HashAlgorithm(alg, keyed ? (a[0] === undefined ? randomBytes(64) : bytesArg(a[0], 'key')) : undefined, typeName),
    staticMethods: {
      Create: () => new HashAlgorithm(alg, keyed ? randomBytes(64) : undefined, typeName),
      HashData: (_rt: Runtime, a: unknown[]) =>
        keyed ? createHmac(alg, bytesArg(a[0], 'key')).update(bytesArg(a[1], 'source')).digest() : createHash(alg).update(typeof a[0] === 'string' ? Buffer.from(a[0]) : bytesArg(a[0], 'source')).digest(),
    },
  };
}

/** APIM's Encrypt/Decrypt extensions with an algorithm name ("Aes"): CBC with PKCS#7 padding, as .NET's defaults are. */
/** SymmetricAlgorithm.Create("Aes") (the parameterless Create() is not allowed): Key, IV, Mode, Padding. */
export class SymmetricAlgorithmObj extends CsObject {
  private key: Buffer = randomBytes(32);
  private iv: Buffer = randomBytes(16);
  private mode = new EnumValue('System.Security.Cryptography.CipherMode', 'CBC', 1);
  private padding = new EnumValue('System.Security.Cryptography.PaddingMode', 'PKCS7', 2);
  get $type(): string {
    return 'System.Security.Cryptography.Aes';
  }
  get Key(): Buffer {
    return this.key;
  }
  set Key(v: unknown) {
    const b = bytesArg(v, 'value');
    if (![16, 24, 32].includes(b.length)) throw ex.crypto('Specified key is not a valid size for this algorithm.');
    this.key = Buffer.from(b);
  }
  get IV(): Buffer {
    return this.iv;
  }
  set IV(v: unknown) {
    const b = bytesArg(v, 'value');
    if (b.length !== 16) throw ex.crypto('Specified initialization vector (IV) does not match the block size for this algorithm.');
    this.iv = Buffer.from(b);
  }
  get Mode(): EnumValue {
    return this.mode;
  }
  set Mode(v: unknown) {
    if (!(v instanceof EnumValue)) throw ex.invalidCast(v, 'System.Security.Cryptography.CipherMode');
    this.mode = v;
  }
  get Padding(): EnumValue {
    return this.padding;
  }
  set Padding(v: unknown) {
    if (!(v instanceof EnumValue)) throw ex.invalidCast(v, 'System.Security.Cryptography.PaddingMode');
    this.padding = v;
  }
  get KeySize(): number {
    return this.Key.length * 8;
  }
  set KeySize(bits: unknown) {
    const n = Number(bits);
    if (![128, 192, 256].includes(n)) throw ex.crypto('Specified key is not a valid size for this algorithm.');
    this.key = randomBytes(n / 8);
  }
  get BlockSize(): number {
    return 128;
  }
  GenerateKey(): void {
    this.key = randomBytes(this.key.length);
  }
  GenerateIV(): void {
    this.iv = randomBytes(16);
  }
  Dispose(): void {
    /* nothing to free */
  }
  Clear(): void {
    /* nothing to free */
  }
}

export const SYMMETRIC_TYPE = {
  staticMethods: {
    Create: (_rt: Runtime, a: unknown[]) => {
      if (a.length === 0) throw new DotNetException('System.NotSupportedException', 'SymmetricAlgorithm.Create() without a name is not allowed in policy expressions.');
      const n = csToString(a[0]).toLowerCase();
      if (!['aes', 'rijndael', 'system.security.cryptography.aes', 'aesmanaged'].includes(n)) throw ex.notSupported(`Symmetric algorithm '${csToString(a[0])}' is not supported by Gatehouse (use "Aes").`);
      return new SymmetricAlgorithmObj();
    },
  },
};

/**
 * APIM's Encrypt/Decrypt extensions: (byte[], "Aes", key, iv), (byte[], SymmetricAlgorithm) and
 * (byte[], SymmetricAlgorithm, key, iv). AES in CBC (default) or ECB, PKCS#7 (default), zeros or no padding.
 */
export function symmetric(decrypt: boolean, input: unknown, alg: unknown, key: unknown, iv: unknown): Buffer {
  const data = bytesArg(input, 'input');
  let mode = 'cbc';
  let padding = 'PKCS7';
  if (alg instanceof SymmetricAlgorithmObj) {
    if (key === undefined) key = alg.Key;
    if (iv === undefined) iv = alg.IV;
    mode = alg.Mode.name.toLowerCase();
    padding = alg.Padding.name;
  } else if (alg === null || alg === undefined) throw ex.argNull('alg');
  else {
    const name = String(alg).toLowerCase();
    if (name !== 'aes' && name !== 'rijndael' && name !== 'system.security.cryptography.aes') throw ex.notSupported(`Symmetric algorithm '${csToString(alg)}' is not supported by Gatehouse (use "Aes").`);
  }
  if (mode !== 'cbc' && mode !== 'ecb') throw ex.crypto(`The specified cipher mode is not valid for this algorithm.`);
  const k = bytesArg(key, 'key');
  const v = bytesArg(iv, 'iv');
  if (![16, 24, 32].includes(k.length)) throw ex.crypto('Specified key is not a valid size for this algorithm.');
  if (mode === 'cbc' && v.length !== 16) throw ex.crypto('Specified initialization vector (IV) does not match the block size for this algorithm.');
  const cipher = `aes-${k.length * 8}-${mode}`;
  try {
    const c = decrypt ? createDecipheriv(cipher, k, mode === 'ecb' ? null : v) : createCipheriv(cipher, k, mode === 'ecb' ? null : v);
    if (padding !== 'PKCS7') {
      c.setAutoPadding(false);
      if (!decrypt && padding === 'Zeros' && data.length % 16 !== 0) {
        const padded = Buffer.concat([data, Buffer.alloc(16 - (data.length % 16))]);
        return Buffer.concat([c.update(padded), c.final()]);
      }
    }
    return Buffer.concat([c.update(data), c.final()]);
  } catch {
    throw ex.crypto(decrypt ? 'Padding is invalid and cannot be removed.' : 'The input data is not a complete block.');
  }
}

export function parseIntStatic(full: string) {
  const range = INT_TYPES[full]!;
  return {
    Parse: (_rt: Runtime, a: unknown[]) => {
      const hex = a[1] instanceof EnumValue && (a[1].value & 0x200) !== 0;
      return parseInteger(a[0], range, hex);
    },
    TryParse: (_rt: Runtime, a: unknown[]) => {
      const out = a.find((x) => x instanceof OutRef) as OutRef | undefined;
      try {
        out?.set(parseInteger(a[0], range));
        return true;
      } catch {
        out?.set(0);
        return false;
      }
    },
  };
}

export { iterate, NO_MEMBER, DotNetException };
Object.setPrototypeOf(HTML_ENTITIES, null);

// ───── IPAddress (API Management allows AddressFamily, Equals, GetAddressBytes, IsLoopback, Parse, TryParse, ToString) ─────
export class IPAddressObj extends CsObject {
  constructor(readonly bytes: Buffer) {
    super();
  }
  get $type(): string {
    return 'System.Net.IPAddress';
  }
  get AddressFamily(): EnumValue {
    return this.bytes.length === 4 ? new EnumValue('System.Net.Sockets.AddressFamily', 'InterNetwork', 2) : new EnumValue('System.Net.Sockets.AddressFamily', 'InterNetworkV6', 23);
  }
  GetAddressBytes(): Buffer {
    return Buffer.from(this.bytes);
  }
  override ToString(): string {
    if (this.bytes.length === 4) return [...this.bytes].join('.');
    const words: string[] = [];
    for (let i = 0; i < 16; i += 2) words.push(this.bytes.readUInt16BE(i).toString(16));
    // compress the longest run of zeros (RFC 5952), as .NET prints
    const s = words.join(':');
    let best = '';
    for (const m of s.matchAll(/(?:^|:)0(?::0)+(?::|$)/g)) if (m[0].length > best.length) best = m[0];
    return best ? s.replace(best, '::') : s;
  }
  override Equals(o: unknown): boolean {
    return o instanceof IPAddressObj && o.bytes.equals(this.bytes);
  }
  $eq(o: unknown): boolean {
    return this.Equals(o);
  }
}

function parseIp(s: unknown): IPAddressObj {
  if (s === null || s === undefined) throw ex.argNull('ipString');
  const t = String(s).trim();
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.every((x) => x <= 255)) return new IPAddressObj(Buffer.from(b));
  }
  const v6 = t.replace(/^\[|\](?::\d+)?$/g, '').replace(/%.*$/, '');
  if (v6.includes(':') && /^[0-9a-fA-F:.]+$/.test(v6)) {
    const [head, tail] = v6.split('::') as [string, string | undefined];
    if (v6.split('::').length <= 2) {
      const parts = (x: string | undefined) => (x ? x.split(':') : []);
      let h = parts(head);
      let tl = parts(tail);
      const expand = (arr: string[]) => arr.flatMap((p) => (p.includes('.') ? (() => { const q = p.split('.').map(Number); return [((q[0]! << 8) | q[1]!).toString(16), ((q[2]! << 8) | q[3]!).toString(16)]; })() : [p]));
      h = expand(h);
      tl = expand(tl);
      const missing = 8 - h.length - tl.length;
      if ((tail === undefined && missing === 0) || (tail !== undefined && missing >= 1)) {
        const words = [...h, ...new Array(tail === undefined ? 0 : missing).fill('0'), ...tl];
        if (words.length === 8 && words.every((w) => /^[0-9a-fA-F]{1,4}$/.test(w))) {
          const b = Buffer.alloc(16);
          words.forEach((w, i) => b.writeUInt16BE(parseInt(w, 16), i * 2));
          return new IPAddressObj(b);
        }
      }
    }
  }
  throw ex.format('An invalid IP address was specified.');
}

export const IPADDRESS_TYPE = {
  construct: (_rt: Runtime, a: unknown[]) => new IPAddressObj(bytesArg(a[0], 'address')),
  staticMethods: {
    Parse: (_rt: Runtime, a: unknown[]) => parseIp(a[0]),
    TryParse: (_rt: Runtime, a: unknown[]) => {
      const out = a.find((x) => x instanceof OutRef) as OutRef | undefined;
      try {
        out?.set(parseIp(a[0]));
        return true;
      } catch {
        out?.set(null);
        return false;
      }
    },
    IsLoopback: (_rt: Runtime, a: unknown[]) => {
      const ip = a[0] as IPAddressObj;
      if (!(ip instanceof IPAddressObj)) throw ex.argNull('address');
      return ip.bytes.length === 4 ? ip.bytes[0] === 127 : ip.bytes.equals(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    },
  },
};
