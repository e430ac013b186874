/**
 * The registry of .NET types policy expressions may use: API Management's allow-list (spec 3.2)
 * as far as Gatehouse implements it. A type that is allowed but not implemented is listed in
 * NOT_IMPLEMENTED so that the diagnostic says so instead of "not allowed".
 */
import { DotNetException } from '../errors.js';
import { CsObject, CsTypeValue, EnumValue, csToString, ex, iterate, typeNameOf, type Runtime } from './core.js';
import { TypeRegistry, type RType, type TypeInfo, type StaticFn } from './types.js';
import { CHAR_STATICS, newString, STRING_STATICS, compareStrings } from './strings.js';
import { explicitInt, INT_TYPES, parseFloatStrict, tryParseInto, parseInteger } from './numbers.js';
import { StringReader, StringWriter } from './collections.js';
import { TIMEZONE_TYPE, TimeZoneInfoObj } from './timezone.js';
import { AnonymousObject, CsDictionary, CsHashSet, CsList, CsQueue, CsStack, CsTuple, DictionaryBase, KeyValuePair, StringBuilder } from './collections.js';
import { DATETIME_TYPE, DATETIMEOFFSET_TYPE, DateTime, DateTimeOffset, TIMESPAN_TYPE, TimeSpan } from './datetime.js';
import {
  BITCONVERTER_STATICS, CONVERT_STATICS, CsEncoding, CsMatch, CsRandom, CsRegex, CsUri, ENCODING_TYPE, GUID_TYPE, Guid, HashAlgorithm, MATH_STATICS, REGEX_TYPE,
  URI_TYPE, WEBUTILITY_STATICS, hashType, parseIntStatic, setDateTimeParse, GroupCollection, CsGroup, MatchCollection, IPADDRESS_TYPE, IPAddressObj, SYMMETRIC_TYPE, SymmetricAlgorithmObj,
} from './misc.js';
import { JArray, JContainer, JObject, JProperty, JToken, JValue, convertToken, fromPlain, parseJson, serializeObject, tokenTypeEnum } from './json.js';
import { X509Certificate2, newX509Certificate2 } from './x509.js';
import { RSA_ENCRYPTION_PADDING, RSA_SIGNATURE_PADDING, RSA_TYPE, RsaEncryptionPadding, RsaKey } from './rsa.js';
import { LINQ } from './linq.js';
import { Jwt, BasicAuthCredentials, MessageBody, UrlObject, ResponseObject } from './apim.js';
import { XAttribute, XCData, XComment, XContainer, XDeclaration, XDocument, XElement, XName, XNamespace, XNode, XText, parseXml, toXName } from './xml.js';

export const REGISTRY = new TypeRegistry();

/** Allowed by API Management, not implemented by Gatehouse (yet). */
export const NOT_IMPLEMENTED = new Set([
  'XProcessingInstruction', 'XDocumentType', 'XNodeDocumentOrderComparer', 'XNodeEqualityComparer',
  'TimeZone', 'Oid', 'PublicKey', 'JConstructor', 'JRaw', 'XmlNodeType',
]);

function def(info: TypeInfo, ...aliases: string[]): TypeInfo {
  REGISTRY.add(info, ...aliases);
  return info;
}

function makeEnum(fullName: string, values: Record<string, number>, flags = false, allowed?: string[]): TypeInfo {
  const props: Record<string, (rt: Runtime) => unknown> = {};
  for (const [k, v] of Object.entries(values)) props[k] = () => new EnumValue(fullName, k, v);
  return def({
    fullName,
    staticProps: props,
    isInstance: (v) => v instanceof EnumValue && v.enumType === fullName,
    cast: (v) => {
      if (v instanceof EnumValue) return v;
      if (typeof v === 'number') {
        const name = Object.entries(values).find(([, x]) => x === v)?.[0] ?? String(v);
        return new EnumValue(fullName, name, v);
      }
      throw ex.invalidCast(v, fullName);
    },
    defaultValue: new EnumValue(fullName, Object.keys(values)[0]!, 0),
    staticMethods: flags ? {} : {},
    ...(allowed ? { allowed: new Set([...allowed, 'ToString', 'Equals', 'GetHashCode', 'GetType']) } : {}),
  });
}

const isNum = (v: unknown) => typeof v === 'number';

function numericCast(full: string) {
  return (v: unknown): unknown => {
    if (v instanceof JToken) {
      const r = convertToken(v, full);
      return INT_TYPES[full] && typeof r === 'number' ? explicitInt(r, full) : r;
    }
    if (v instanceof XElement || v instanceof XAttribute) return v.$explicit(full);
    if (INT_TYPES[full]) return explicitInt(v, full);
    if (typeof v === 'number') return full === 'System.Single' ? Math.fround(v) : v;
    if (typeof v === 'string' && v.length === 1) return v.charCodeAt(0);
    if (v instanceof EnumValue) return v.value;
    throw ex.invalidCast(v, full);
  };
}

function intType(full: string, kw: string) {
  const range = INT_TYPES[full]!;
  def(
    {
      fullName: full,
      prim: kw,
      defaultValue: 0,
      isInstance: (v) => typeof v === 'number' && Number.isInteger(v) && v >= range.min && v <= range.max,
      cast: (v) => numericCast(full)(v),
      staticProps: { MaxValue: () => range.max, MinValue: () => range.min },
      staticMethods: parseIntStatic(full),
      returns: { Parse: kw, MaxValue: kw, MinValue: kw },
    },
    kw,
  );
}

// ───── primitives ─────
def(
  {
    fullName: 'System.String',
    prim: 'string',
    isInstance: (v) => typeof v === 'string',
    cast: (v) => {
      if (typeof v === 'string') return v;
      if (v instanceof JToken) return convertToken(v, 'System.String');
      if (v instanceof XElement || v instanceof XAttribute) return v.$explicit('System.String');
      throw ex.invalidCast(v, 'System.String');
    },
    staticProps: { Empty: () => '' },
    staticMethods: STRING_STATICS as Record<string, StaticFn>,
    construct: (rt, a) => newString(rt, a),
    returns: { Format: 'string', Concat: 'string', Join: 'string', Empty: 'string', IsNullOrEmpty: 'bool', IsNullOrWhiteSpace: 'bool', Compare: 'int' },
  },
  'string',
);
intType('System.Int32', 'int');
intType('System.Int64', 'long');
intType('System.Int16', 'short');
intType('System.UInt16', 'ushort');
intType('System.UInt32', 'uint');
intType('System.UInt64', 'ulong');
intType('System.Byte', 'byte');
intType('System.SByte', 'sbyte');
for (const [full, kw] of [['System.Double', 'double'], ['System.Single', 'float'], ['System.Decimal', 'decimal']] as const) {
  def(
    {
      fullName: full,
      prim: kw,
      defaultValue: 0,
      isInstance: isNum,
      cast: numericCast(full),
      staticProps: {
        MaxValue: () => (full === 'System.Decimal' ? 79228162514264337593543950335 : full === 'System.Single' ? 3.4028234663852886e38 : Number.MAX_VALUE),
        MinValue: () => (full === 'System.Decimal' ? -79228162514264337593543950335 : full === 'System.Single' ? -3.4028234663852886e38 : -Number.MAX_VALUE),
        NaN: () => NaN,
        PositiveInfinity: () => Infinity,
        NegativeInfinity: () => -Infinity,
        Epsilon: () => Number.MIN_VALUE,
        Zero: () => 0,
        One: () => 1,
      },
      staticMethods: {
        Parse: (_rt, a) => parseFloatStrict(a[0]),
        TryParse: (_rt, a) => tryParseInto(a, () => parseFloatStrict(a[0]), 0),
        IsNaN: (_rt, a) => Number.isNaN(Number(a[0])),
        IsInfinity: (_rt, a) => Math.abs(Number(a[0])) === Infinity,
        IsFinite: (_rt, a) => Number.isFinite(Number(a[0])),
        Round: (rt, a) => MATH_STATICS.Round(rt, a),
        Floor: (_rt, a) => Math.floor(Number(a[0])),
        Ceiling: (_rt, a) => Math.ceil(Number(a[0])),
        Truncate: (_rt, a) => Math.trunc(Number(a[0])),
      },
      returns: { Parse: kw },
    },
    kw,
  );
}
def(
  {
    fullName: 'System.Boolean',
    prim: 'bool',
    defaultValue: false,
    isInstance: (v) => typeof v === 'boolean',
    cast: (v) => {
      if (typeof v === 'boolean') return v;
      if (v instanceof JToken) return convertToken(v, 'System.Boolean');
      if (v instanceof XElement || v instanceof XAttribute) return v.$explicit('System.Boolean');
      throw ex.invalidCast(v, 'System.Boolean');
    },
    staticProps: { TrueString: () => 'True', FalseString: () => 'False' },
    staticMethods: {
      Parse: (_rt, a) => {
        const s = String(a[0] ?? '').trim();
        if (/^true$/i.test(s)) return true;
        if (/^false$/i.test(s)) return false;
        if (a[0] === null || a[0] === undefined) throw ex.argNull('value');
        throw ex.format(`String '${String(a[0])}' was not recognized as a valid Boolean.`);
      },
      TryParse: (_rt, a) =>
        tryParseInto(a, () => {
          const s = String(a[0] ?? '').trim();
          if (/^true$/i.test(s)) return true;
          if (/^false$/i.test(s)) return false;
          throw ex.format();
        }, false),
    },
    returns: { Parse: 'bool' },
  },
  'bool',
);
def(
  {
    fullName: 'System.Char',
    prim: 'char',
    defaultValue: '\0',
    isInstance: (v) => typeof v === 'string' && v.length === 1,
    cast: (v) => {
      if (typeof v === 'number') return String.fromCharCode(v & 0xffff);
      if (typeof v === 'string' && v.length === 1) return v;
      throw ex.invalidCast(v, 'System.Char');
    },
    staticProps: { MinValue: () => '\0', MaxValue: () => '\uffff' },
    staticMethods: CHAR_STATICS as Record<string, StaticFn>,
    returns: { Parse: 'char', ToUpper: 'char', ToLower: 'char', ToUpperInvariant: 'char', ToLowerInvariant: 'char' },
  },
  'char',
);
def({ fullName: 'System.Object', isInstance: () => true, construct: () => new (class extends CsObject { get $type() { return 'System.Object'; } })() }, 'object');
def({ fullName: 'System.Type', construct: (_rt, a) => new CsTypeValue(String(a[0])), isInstance: (v) => v instanceof CsTypeValue });
def({ fullName: 'System.Nullable', staticMethods: { GetValueOrDefault: (_rt, a) => a[0] ?? null } });

// ───── enums ─────
makeEnum('System.StringComparison', { CurrentCulture: 0, CurrentCultureIgnoreCase: 1, InvariantCulture: 2, InvariantCultureIgnoreCase: 3, Ordinal: 4, OrdinalIgnoreCase: 5 });
makeEnum('System.StringSplitOptions', { None: 0, RemoveEmptyEntries: 1, TrimEntries: 2 }, true);
makeEnum('System.MidpointRounding', { ToEven: 0, AwayFromZero: 1, ToZero: 2, ToNegativeInfinity: 3, ToPositiveInfinity: 4 });
makeEnum('System.DateTimeKind', { Unspecified: 0, Utc: 1, Local: 2 }, false, ['Utc']);
makeEnum('System.DayOfWeek', { Sunday: 0, Monday: 1, Tuesday: 2, Wednesday: 3, Thursday: 4, Friday: 5, Saturday: 6 });
makeEnum('System.Text.RegularExpressions.RegexOptions', { None: 0, IgnoreCase: 1, Multiline: 2, ExplicitCapture: 4, Compiled: 8, Singleline: 16, IgnorePatternWhitespace: 32, RightToLeft: 64, ECMAScript: 256, CultureInvariant: 512 }, true);
makeEnum('Newtonsoft.Json.Formatting', { None: 0, Indented: 1 });
makeEnum('Newtonsoft.Json.Linq.JTokenType', { None: 0, Object: 1, Array: 2, Constructor: 3, Property: 4, Comment: 5, Integer: 6, Float: 7, String: 8, Boolean: 9, Null: 10, Undefined: 11, Date: 12, Raw: 13, Bytes: 14, Guid: 15, Uri: 16, TimeSpan: 17 });
makeEnum('System.UriKind', { RelativeOrAbsolute: 0, Absolute: 1, Relative: 2 });
makeEnum('System.UriPartial', { Scheme: 0, Authority: 1, Path: 2, Query: 3 });
makeEnum('System.Base64FormattingOptions', { None: 0, InsertLineBreaks: 1 });
makeEnum('System.Security.Cryptography.X509Certificates.X509NameType', { SimpleName: 0, EmailName: 1, UpnName: 2, DnsName: 3, DnsFromAlternativeName: 4, UrlName: 5 });
makeEnum('System.Security.Cryptography.X509Certificates.X509ContentType', { Unknown: 0, Cert: 1, SerializedCert: 2, Pfx: 3, Pkcs12: 3, SerializedStore: 4, Pkcs7: 5, Authenticode: 6 });
makeEnum('System.Security.Cryptography.CipherMode', { CBC: 1, ECB: 2, OFB: 3, CFB: 4, CTS: 5 });
makeEnum('System.Security.Cryptography.PaddingMode', { None: 1, PKCS7: 2, Zeros: 3, ANSIX923: 4, ISO10126: 5 });
def({
  fullName: 'System.Enum',
  allowed: new Set(['Parse', 'TryParse', 'ToString']),
  staticMethods: {
    Parse: (_rt, a, ta) => {
      const t = a[0] instanceof CsTypeValue ? a[0].fullName : ta?.[0]?.name;
      const info = t ? REGISTRY.get(t) : undefined;
      const name = String(a[a[0] instanceof CsTypeValue ? 1 : 0]);
      const ic = a[a.length - 1] === true;
      const key = Object.keys(info?.staticProps ?? {}).find((k) => (ic ? k.toLowerCase() === name.toLowerCase() : k === name));
      if (!info || !key) throw ex.arg(`Requested value '${name}' was not found.`);
      return info.staticProps![key]!(undefined as unknown as Runtime);
    },
  },
});

// ───── System ─────
def({ fullName: 'System.Math', staticMethods: MATH_STATICS as Record<string, StaticFn>, staticProps: { PI: () => Math.PI, E: () => Math.E }, returns: { Abs: undefined as unknown as string, Floor: 'double', Ceiling: 'double', Round: 'double', Pow: 'double', Sqrt: 'double' } });
def({ fullName: 'System.Convert', staticMethods: CONVERT_STATICS as Record<string, StaticFn>, memoizable: new Set(['FromBase64String']), returns: { ToInt32: 'int', ToInt64: 'long', ToDouble: 'double', ToDecimal: 'decimal', ToByte: 'byte', ToString: 'string', ToBase64String: 'string', ToInt16: 'short', ToChar: 'char', ToBoolean: 'bool' } });
def({ fullName: 'System.BitConverter', staticMethods: BITCONVERTER_STATICS as Record<string, StaticFn>, staticProps: { IsLittleEndian: () => true } });
def({ fullName: 'System.Guid', ...GUID_TYPE, isInstance: (v) => v instanceof Guid, defaultValue: undefined } as TypeInfo);
const DATETIME_ALLOWED = new Set(['Add', 'AddDays', 'AddHours', 'AddMilliseconds', 'AddMinutes', 'AddMonths', 'AddSeconds', 'AddTicks', 'AddYears', 'Date', 'Day', 'DayOfWeek', 'DayOfYear', 'DaysInMonth', 'Hour', 'IsDaylightSavingTime', 'IsLeapYear', 'MaxValue', 'Millisecond', 'Minute', 'MinValue', 'Month', 'Now', 'Parse', 'Second', 'Subtract', 'Ticks', 'TimeOfDay', 'Today', 'ToString', 'UtcNow', 'Year', 'Equals', 'GetHashCode', 'CompareTo', 'GetType']);
def({ fullName: 'System.DateTime', ...DATETIME_TYPE, allowed: DATETIME_ALLOWED, returns: { Now: 'System.DateTime', UtcNow: 'System.DateTime', Today: 'System.DateTime', MinValue: 'System.DateTime', MaxValue: 'System.DateTime', Parse: 'System.DateTime', DaysInMonth: 'int' }, isInstance: (v) => v instanceof DateTime, cast: (v) => (v instanceof JValue && v.value instanceof DateTime ? v.value : v instanceof JToken ? (DATETIME_TYPE.staticMethods.Parse(undefined as unknown as Runtime, [convertToken(v, 'System.String')])) : v instanceof DateTime ? v : (() => { throw ex.invalidCast(v, 'System.DateTime'); })()) } as TypeInfo);
setDateTimeParse(DATETIME_TYPE.staticMethods.Parse);
def({ fullName: 'System.DateTimeOffset', ...DATETIMEOFFSET_TYPE, isInstance: (v) => v instanceof DateTimeOffset, cast: (v) => (v instanceof JValue && v.value instanceof DateTime ? new DateTimeOffset(v.value.ms, 0) : v instanceof JToken ? DATETIMEOFFSET_TYPE.staticMethods.Parse(undefined as unknown as Runtime, [convertToken(v, 'System.String')]) : v instanceof DateTimeOffset ? v : v instanceof DateTime ? new DateTimeOffset(v.ms, 0) : (() => { throw ex.invalidCast(v, 'System.DateTimeOffset'); })()) } as TypeInfo);
def({ fullName: 'System.TimeSpan', ...TIMESPAN_TYPE, isInstance: (v) => v instanceof TimeSpan } as TypeInfo);
def({ fullName: 'System.Random', construct: (_rt, a) => new CsRandom(typeof a[0] === 'number' ? a[0] : undefined), isInstance: (v) => v instanceof CsRandom });
def({ fullName: 'System.Uri', ...URI_TYPE, memoizable: new Set(['EscapeDataString', 'EscapeUriString', 'UnescapeDataString']), isInstance: (v) => v instanceof CsUri } as TypeInfo);
def({ fullName: 'System.Net.IPAddress', ...IPADDRESS_TYPE, returns: { Parse: 'System.Net.IPAddress' }, allowed: new Set(['AddressFamily', 'Equals', 'GetAddressBytes', 'IsLoopback', 'Parse', 'TryParse', 'ToString', 'GetHashCode', 'GetType']), isInstance: (v) => v instanceof IPAddressObj } as TypeInfo);
def({ fullName: 'System.Net.WebUtility', staticMethods: WEBUTILITY_STATICS as Record<string, StaticFn>, memoizable: new Set(['UrlDecode', 'UrlEncode', 'HtmlEncode', 'HtmlDecode']), returns: { UrlDecode: 'string', UrlEncode: 'string', HtmlEncode: 'string', HtmlDecode: 'string' } });
def({ fullName: 'System.Text.Encoding', ...ENCODING_TYPE, isInstance: (v) => v instanceof CsEncoding } as TypeInfo);
def({ fullName: 'System.IO.StringReader', construct: (_rt, a) => new StringReader(csToString(a[0])), isInstance: (v) => v instanceof StringReader });
def({ fullName: 'System.IO.StringWriter', construct: (rt) => new StringWriter(rt), isInstance: (v) => v instanceof StringWriter });
def({ fullName: 'System.TimeZoneInfo', ...TIMEZONE_TYPE, isInstance: (v) => v instanceof TimeZoneInfoObj } as TypeInfo);
def({ fullName: 'System.Text.StringBuilder', construct: (rt, a) => new StringBuilder(rt, typeof a[0] === 'string' ? a[0] : ''), isInstance: (v) => v instanceof StringBuilder });
def({
  fullName: 'System.Tuple',
  construct: (_rt, a) => new CsTuple(a),
  staticMethods: { Create: (_rt, a) => new CsTuple(a) },
  isInstance: (v) => v instanceof CsTuple,
});
def({ fullName: 'System.Tuple`2', construct: (_rt, a) => new CsTuple(a), isInstance: (v) => v instanceof CsTuple });
def({ fullName: 'System.Tuple`3', construct: (_rt, a) => new CsTuple(a), isInstance: (v) => v instanceof CsTuple });

class StringComparerObj extends CsObject {
  constructor(readonly name: string, readonly ignoreCase: boolean) {
    super();
  }
  get $type(): string {
    return 'System.StringComparer';
  }
  Compare(a: unknown, b: unknown): number {
    return compareStrings(a as string | null, b as string | null, this.ignoreCase, !this.name.startsWith('Ordinal'));
  }
  override Equals(a: unknown, b?: unknown): boolean {
    if (b === undefined) return a === this;
    if (typeof a !== 'string' || typeof b !== 'string') return a === b;
    return this.ignoreCase ? a.toUpperCase() === b.toUpperCase() : a === b;
  }
}
def({
  fullName: 'System.StringComparer',
  staticProps: Object.fromEntries(
    ['Ordinal', 'OrdinalIgnoreCase', 'InvariantCulture', 'InvariantCultureIgnoreCase', 'CurrentCulture', 'CurrentCultureIgnoreCase'].map((n) => [n, () => new StringComparerObj(n, n.endsWith('IgnoreCase'))]),
  ),
});

// ───── exceptions ─────
class ExceptionObject extends CsObject {
  constructor(readonly typeName: string, readonly Message: string, readonly InnerException: ExceptionObject | null) {
    super();
  }
  get $type(): string {
    return this.typeName;
  }
  get StackTrace(): string | null {
    return null;
  }
  get Source(): string | null {
    return null;
  }
  $toError(): DotNetException {
    return new DotNetException(this.typeName, this.Message, this.InnerException?.$toError());
  }
  override ToString(): string {
    return `${this.typeName}: ${this.Message}`;
  }
}
function wrapException(e: DotNetException): ExceptionObject {
  return new ExceptionObject(e.typeName, e.message, e.inner ? wrapException(e.inner) : null);
}
for (const name of ['System.Exception', 'System.ArgumentException', 'System.ArgumentNullException', 'System.ArgumentOutOfRangeException', 'System.InvalidOperationException', 'System.FormatException', 'System.NullReferenceException', 'System.InvalidCastException', 'System.NotSupportedException', 'System.NotImplementedException', 'System.OverflowException', 'System.DivideByZeroException', 'System.IndexOutOfRangeException', 'System.Collections.Generic.KeyNotFoundException', 'System.UriFormatException', 'System.Security.Cryptography.CryptographicException', 'Newtonsoft.Json.JsonException', 'Newtonsoft.Json.JsonReaderException', 'System.SystemException', 'System.ApplicationException', 'System.TimeoutException']) {
  def({
    fullName: name,
    construct: (_rt, a) => {
      const msg = a[0] === undefined || a[0] === null ? `Exception of type '${name}' was thrown.` : csToString(a[0]);
      const inner = a[1] instanceof ExceptionObject ? a[1] : null;
      return new ExceptionObject(name, msg, inner);
    },
    isInstance: (v) => v instanceof ExceptionObject && (name === 'System.Exception' || v.typeName === name),
    ...(name === 'System.Exception' ? { wrap: wrapException } : {}),
  } as TypeInfo);
}

// ───── collections ─────
function elemName(ta: readonly RType[], i = 0): string {
  return ta[i]?.name ?? 'System.Object';
}
function comparerOf(a: unknown[]): boolean {
  return a.some((x) => x instanceof StringComparerObj && x.ignoreCase);
}
def({
  fullName: 'System.Collections.Generic.List`1',
  construct: (_rt, a, ta) => new CsList(a[0] !== undefined && typeof a[0] !== 'number' ? iterate(a[0]) : [], elemName(ta)),
  isInstance: (v) => v instanceof CsList,
}, 'List`1', 'IList`1', 'ICollection`1', 'System.Collections.Generic.IList`1', 'System.Collections.Generic.ICollection`1', 'IReadOnlyList`1', 'IReadOnlyCollection`1', 'System.Collections.Generic.IReadOnlyCollection`1');
def({
  fullName: 'System.Collections.Generic.Dictionary`2',
  construct: (_rt, a) => {
    const d = new CsDictionary(comparerOf(a));
    if (a[0] instanceof DictionaryBase) for (const [k, v] of a[0].entries()) d.Add(k, v);
    return d;
  },
  isInstance: (v) => v instanceof DictionaryBase,
}, 'Dictionary`2', 'IDictionary`2', 'System.Collections.Generic.IDictionary`2', 'IReadOnlyDictionary`2', 'System.Collections.Generic.IReadOnlyDictionary`2');
def({ fullName: 'System.Collections.Generic.HashSet`1', construct: (_rt, a) => new CsHashSet(a[0] !== undefined && !(a[0] instanceof StringComparerObj) ? iterate(a[0]) : [], comparerOf(a)), isInstance: (v) => v instanceof CsHashSet }, 'HashSet`1', 'ISet`1', 'System.Collections.Generic.ISet`1');
def({ fullName: 'System.Collections.Generic.Queue`1', construct: () => new CsQueue(), isInstance: (v) => v instanceof CsQueue }, 'Queue`1');
def({ fullName: 'System.Collections.Generic.Stack`1', construct: () => new CsStack(), isInstance: (v) => v instanceof CsStack }, 'Stack`1');
def({ fullName: 'System.Collections.Generic.KeyValuePair`2', construct: (_rt, a) => new KeyValuePair(a[0], a[1]), isInstance: (v) => v instanceof KeyValuePair }, 'KeyValuePair`2');
def({ fullName: 'System.Collections.Generic.IEnumerable`1', isInstance: (v) => typeof v === 'string' || (v !== null && typeof v === 'object' && Symbol.iterator in (v as object)) }, 'IEnumerable`1');
def({ fullName: 'System.Collections.Generic.IEnumerator`1', isInstance: () => false }, 'IEnumerator`1');
def({
  fullName: 'System.Array',
  staticMethods: {
    Copy: (_rt, a) => {
      const [src, si, dst, di, len] = a.length === 3 ? [a[0], 0, a[1], 0, a[2]] : a;
      if (src === null || dst === null) throw ex.argNull(src === null ? 'sourceArray' : 'destinationArray');
      const s = src as ArrayLike<unknown> & { [i: number]: unknown };
      const d = dst as { [i: number]: unknown; length: number };
      const n = Number(len);
      if (Number(si) + n > s.length || Number(di) + n > d.length) throw ex.arg('Destination array was not long enough. Check the destination index, length, and the array\'s lower bounds.', 'destinationArray');
      const tmp = Array.from({ length: n }, (_, i) => s[Number(si) + i]);
      for (let i = 0; i < n; i++) d[Number(di) + i] = tmp[i];
      return undefined;
    },
    Exists: (_rt, a) => [...iterate(a[0])].some((x) => (a[1] as (x: unknown) => unknown)(x) === true),
    Find: (_rt, a) => [...iterate(a[0])].find((x) => (a[1] as (x: unknown) => unknown)(x) === true) ?? null,
    FindAll: (_rt, a) => [...iterate(a[0])].filter((x) => (a[1] as (x: unknown) => unknown)(x) === true),
    TrueForAll: (_rt, a) => [...iterate(a[0])].every((x) => (a[1] as (x: unknown) => unknown)(x) === true),
    IndexOf: (_rt, a) => [...iterate(a[0])].findIndex((x) => x === a[1] || (typeof x === 'object' && x instanceof CsObject && x.Equals(a[1]))),
    Reverse: (_rt, a) => {
      (a[0] as unknown[]).reverse();
      return undefined;
    },
    Sort: (_rt, a) => {
      (a[0] as unknown[]).sort((x, y) => (typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0));
      return undefined;
    },
    Empty: (_rt, _a, ta) => (ta?.[0]?.name === 'System.Byte' ? Buffer.alloc(0) : []),
    ConvertAll: (_rt, a) => [...iterate(a[0])].map((x) => (a[1] as (x: unknown) => unknown)(x)),
    Clear: (_rt, a) => {
      const arr = a[0] as unknown[];
      for (let i = Number(a[1] ?? 0); i < Number(a[1] ?? 0) + Number(a[2] ?? arr.length); i++) arr[i] = arr instanceof Uint8Array ? 0 : null;
      return undefined;
    },
  },
  isInstance: (v) => Array.isArray(v) || v instanceof Uint8Array,
});
const enumerableStatics: Record<string, StaticFn> = {
  Range: (rt, a) => Array.from({ length: rt.size(Number(a[1])) }, (_, i) => Number(a[0]) + i),
  Repeat: (rt, a) => Array.from({ length: rt.size(Number(a[1])) }, () => a[0]),
  Empty: () => [],
};
for (const [n, f] of Object.entries(LINQ)) enumerableStatics[n] = (rt, a, ta) => f(rt, a[0], a.slice(1), ta);
def({ fullName: 'System.Linq.Enumerable', staticMethods: enumerableStatics });

// ───── regex ─────
def({ fullName: 'System.Text.RegularExpressions.Regex', ...REGEX_TYPE, allowed: new Set(['IsMatch', 'Match', 'Matches', 'Replace', 'Unescape', 'Split', 'ToString', 'Equals', 'GetHashCode', 'GetType']), isInstance: (v) => v instanceof CsRegex } as TypeInfo);
def({ fullName: 'System.Text.RegularExpressions.Match', isInstance: (v) => v instanceof CsMatch, staticProps: { Empty: () => new CsMatch(null, undefined, '') } });
def({ fullName: 'System.Text.RegularExpressions.Group', isInstance: (v) => v instanceof CsGroup });
def({ fullName: 'System.Text.RegularExpressions.GroupCollection', isInstance: (v) => v instanceof GroupCollection });
def({ fullName: 'System.Text.RegularExpressions.MatchCollection', isInstance: (v) => v instanceof MatchCollection });

// ───── Newtonsoft.Json ─────
function jcontent(target: JObject | JArray, a: unknown[]): void {
  for (const x of a) {
    if (target instanceof JObject) {
      if (x instanceof JProperty) target.Add(x);
      else if (x instanceof JObject) for (const p of x.Properties()) target.Add(p.clone() as JProperty);
      else if (x !== null && typeof x === 'object' && Symbol.iterator in (x as object)) for (const y of iterate(x)) jcontent(target, [y]);
      else throw ex.arg(`Can not add ${typeNameOf(x)} to Newtonsoft.Json.Linq.JObject.`);
    } else if (Array.isArray(x) || (x instanceof CsList)) for (const y of iterate(x)) target.Add(y);
    else target.Add(x);
  }
}
def({
  fullName: 'Newtonsoft.Json.Linq.JObject',
  construct: (_rt, a) => {
    const o = new JObject();
    jcontent(o, a);
    return o;
  },
  staticMethods: {
    Parse: (_rt, a) => {
      const v = parseJson(a[0]);
      if (!(v instanceof JObject)) throw new DotNetException('Newtonsoft.Json.JsonReaderException', `Error reading JObject from JsonReader. Current JsonReader item is not an object: ${v instanceof JArray ? 'StartArray' : v.kind}. Path '', line 1, position 1.`);
      return v;
    },
    FromObject: (_rt, a) => {
      const v = fromPlain(a[0]);
      if (!(v instanceof JObject)) throw ex.arg(`Object serialized to ${v.kind}. JObject instance expected.`);
      return v;
    },
  },
  isInstance: (v) => v instanceof JObject,
});
def({
  fullName: 'Newtonsoft.Json.Linq.JArray',
  construct: (_rt, a) => {
    const o = new JArray();
    jcontent(o, a);
    return o;
  },
  staticMethods: {
    Parse: (_rt, a) => {
      const v = parseJson(a[0]);
      if (!(v instanceof JArray)) throw new DotNetException('Newtonsoft.Json.JsonReaderException', `Error reading JArray from JsonReader. Current JsonReader item is not an array: ${v.kind === 'Object' ? 'StartObject' : v.kind}. Path '', line 1, position 1.`);
      return v;
    },
    FromObject: (_rt, a) => fromPlain(a[0]),
  },
  isInstance: (v) => v instanceof JArray,
});
def({
  fullName: 'Newtonsoft.Json.Linq.JToken',
  staticMethods: { Parse: (_rt, a) => parseJson(a[0]), FromObject: (_rt, a) => fromPlain(a[0]), DeepEquals: (_rt, a) => (a[0] as JToken)?.ToString() === (a[1] as JToken)?.ToString() },
  isInstance: (v) => v instanceof JToken,
  cast: (v) => (v instanceof JToken ? v : fromPlain(v)),
});
def({ fullName: 'Newtonsoft.Json.Linq.JContainer', isInstance: (v) => v instanceof JContainer });
def({ fullName: 'Newtonsoft.Json.Linq.JProperty', construct: (_rt, a) => new JProperty(csToString(a[0]), a.length > 2 ? (() => { const arr = new JArray(); jcontent(arr, a.slice(1)); return arr; })() : a[1]), isInstance: (v) => v instanceof JProperty });
def({
  fullName: 'Newtonsoft.Json.Linq.JValue',
  construct: (_rt, a) => fromPlain(a[0]),
  staticMethods: { CreateNull: () => new JValue(null, 'Null'), CreateString: (_rt, a) => new JValue(a[0] ?? null, a[0] === null ? 'Null' : 'String'), CreateUndefined: () => new JValue(null, 'Undefined') },
  isInstance: (v) => v instanceof JValue,
  cast: (v) => (v instanceof JValue ? v : v instanceof JToken ? (() => { throw ex.invalidCast(v, 'Newtonsoft.Json.Linq.JValue'); })() : fromPlain(v)),
});
def({
  fullName: 'Newtonsoft.Json.JsonConvert',
  staticMethods: {
    SerializeObject: (rt, a) => rt.str(serializeObject(a[0], a[1])),
    DeserializeObject: (_rt, a, ta) => {
      const v = parseJson(a[0]);
      const t = ta?.[0];
      if (!t) return v;
      return convertToken(v, t.ranks.length ? 'System.Object' : t.name);
    },
  },
  returns: { SerializeObject: 'string' },
});
void tokenTypeEnum;

// ───── System.Xml.Linq ─────
const XML_NS = 'System.Xml.Linq.';
def({
  fullName: XML_NS + 'XDocument',
  construct: (_rt, a) => {
    const d = new XDocument();
    for (const x of a) {
      if (x instanceof XDeclaration) d.Declaration = x;
      else d.Add(x);
    }
    return d;
  },
  staticMethods: { Parse: (rt, a) => parseXml(a[0], rt) },
  isInstance: (v) => v instanceof XDocument,
});
def({
  fullName: XML_NS + 'XElement',
  construct: (_rt, a) => new XElement(a[0], a.slice(1)),
  staticMethods: {
    Parse: (rt, a) => {
      const root = parseXml(a[0], rt).Root!;
      root.Remove();
      return root;
    },
  },
  isInstance: (v) => v instanceof XElement,
});
def({ fullName: XML_NS + 'XAttribute', construct: (_rt, a) => new XAttribute(a[0], a[1]), isInstance: (v) => v instanceof XAttribute });
def({ fullName: XML_NS + 'XText', construct: (_rt, a) => new XText(csToString(a[0])), isInstance: (v) => v instanceof XText });
def({ fullName: XML_NS + 'XCData', construct: (_rt, a) => new XCData(csToString(a[0])), isInstance: (v) => v instanceof XCData });
def({ fullName: XML_NS + 'XComment', construct: (_rt, a) => new XComment(csToString(a[0])), isInstance: (v) => v instanceof XComment });
def({ fullName: XML_NS + 'XDeclaration', construct: (_rt, a) => new XDeclaration((a[0] as string) ?? null, (a[1] as string) ?? null, (a[2] as string) ?? null), isInstance: (v) => v instanceof XDeclaration });
def({ fullName: XML_NS + 'XNode', isInstance: (v) => v instanceof XNode });
def({ fullName: XML_NS + 'XContainer', isInstance: (v) => v instanceof XContainer });
def({ fullName: XML_NS + 'XObject', isInstance: (v) => v instanceof XNode || v instanceof XAttribute });
def({
  fullName: XML_NS + 'XName',
  staticMethods: { Get: (_rt, a) => (a.length > 1 ? new XName(csToString(a[0]), csToString(a[1])) : toXName(a[0])) },
  isInstance: (v) => v instanceof XName,
  cast: (v) => toXName(v),
});
def({
  fullName: XML_NS + 'XNamespace',
  staticMethods: { Get: (_rt, a) => new XNamespace(csToString(a[0])) },
  staticProps: { None: () => new XNamespace(''), Xml: () => new XNamespace('http://www.w3.org/XML/1998/namespace'), Xmlns: () => new XNamespace('http://www.w3.org/2000/xmlns/') },
  isInstance: (v) => v instanceof XNamespace,
  cast: (v) => (v instanceof XNamespace ? v : new XNamespace(csToString(v))),
});
makeEnum('System.Xml.Linq.LoadOptions', { None: 0, PreserveWhitespace: 1, SetBaseUri: 2, SetLineInfo: 4 }, true);
makeEnum('System.Xml.Linq.SaveOptions', { None: 0, DisableFormatting: 1, OmitDuplicateNamespaces: 2 }, true);

// ───── security ─────
def({ fullName: 'System.Security.Cryptography.X509Certificates.X509Certificate2', construct: (rt, a) => newX509Certificate2(rt, a), isInstance: (v) => v instanceof X509Certificate2 });
def({ fullName: 'System.Security.Cryptography.X509Certificates.X509Certificate', isInstance: (v) => v instanceof X509Certificate2 });
def({ fullName: 'System.Security.Cryptography.X509Certificates.X500DistinguishedName', allowed: new Set(['Name', 'ToString', 'Equals', 'GetHashCode', 'GetType']), isInstance: (v) => v instanceof CsObject && v.$type.endsWith('X500DistinguishedName') });
for (const [name, alg, keyed] of [
  ['HMACSHA256', 'sha256', true], ['HMACSHA1', 'sha1', true], ['HMACSHA384', 'sha384', true], ['HMACSHA512', 'sha512', true], ['HMACMD5', 'md5', true],
  ['SHA256', 'sha256', false], ['SHA1', 'sha1', false], ['SHA384', 'sha384', false], ['SHA512', 'sha512', false], ['MD5', 'md5', false],
  ['SHA256Managed', 'sha256', false], ['SHA1Managed', 'sha1', false], ['SHA384Managed', 'sha384', false], ['SHA512Managed', 'sha512', false],
] as const) {
  const full = `System.Security.Cryptography.${name}`;
  def({ fullName: full, ...hashType(alg, keyed, full), isInstance: (v) => v instanceof HashAlgorithm && v.$type === full } as TypeInfo);
}
for (const name of ['HashAlgorithm', 'KeyedHashAlgorithm', 'HMAC']) def({ fullName: `System.Security.Cryptography.${name}`, isInstance: (v) => v instanceof HashAlgorithm });
class Rng extends CsObject {
  get $type(): string {
    return 'System.Security.Cryptography.RNGCryptoServiceProvider';
  }
  GetBytes(b: unknown): void {
    if (!(b instanceof Uint8Array)) throw ex.argNull('data');
    b.set(Buffer.from(Array.from({ length: b.length }, () => Math.floor(Math.random() * 256))));
  }
}
def({ fullName: 'System.Security.Cryptography.RNGCryptoServiceProvider', construct: () => new Rng() });
def({ fullName: 'System.Security.Cryptography.SymmetricAlgorithm', ...SYMMETRIC_TYPE, isInstance: (v) => v instanceof SymmetricAlgorithmObj } as TypeInfo);
def({ fullName: 'System.Security.Cryptography.RSA', ...RSA_TYPE, isInstance: (v) => v instanceof RsaKey } as TypeInfo);
def({ fullName: 'System.Security.Cryptography.AsymmetricAlgorithm', isInstance: (v) => v instanceof RsaKey });
def({ fullName: 'System.Security.Cryptography.RSASignaturePadding', ...RSA_SIGNATURE_PADDING } as TypeInfo);
def({ fullName: 'System.Security.Cryptography.RSAEncryptionPadding', ...RSA_ENCRYPTION_PADDING, isInstance: (v) => v instanceof RsaEncryptionPadding } as TypeInfo);
def({ fullName: 'System.Security.Cryptography.X509Certificates.RSACertificateExtensions', staticMethods: { GetRSAPublicKey: (_rt, a) => (a[0] as X509Certificate2).GetRSAPublicKey(), GetRSAPrivateKey: () => null } });
def({ fullName: 'System.Security.Cryptography.HashAlgorithmName', staticProps: { SHA256: () => 'SHA256', SHA1: () => 'SHA1', SHA384: () => 'SHA384', SHA512: () => 'SHA512', MD5: () => 'MD5' } });

// ───── API Management types (casts and declarations) ─────
const apimType = (n: string, test: (v: unknown) => boolean) => def({ fullName: `Microsoft.WindowsAzure.ApiManagement.Proxy.Gateway.${n}`, isInstance: test });
apimType('IResponse', (v) => v instanceof ResponseObject || (v instanceof CsObject && v.$type.endsWith('.IResponse')));
apimType('Jwt', (v) => v instanceof Jwt);
apimType('BasicAuthCredentials', (v) => v instanceof BasicAuthCredentials);
apimType('IMessageBody', (v) => v instanceof MessageBody);
apimType('IUrl', (v) => v instanceof UrlObject);
apimType('IRequest', (v) => v instanceof CsObject && v.$type.endsWith('.IRequest'));
apimType('IProxyRequestContext', (v) => v instanceof CsObject && v.$type.endsWith('.IProxyRequestContext'));

void parseInteger;
void AnonymousObject;
export type { RType };
