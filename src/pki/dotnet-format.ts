/**
 * The strings .NET shows for a certificate: X500DistinguishedName.Name (Subject/Issuer),
 * X509Certificate2.ToString(), and NGINX's $ssl_client_escaped_cert (what Application Gateway
 * forwards as {var_client_certificate}).
 */
import { children, readTlv, type Tlv } from './der.js';

/** .NET's OID friendly names for the attribute types that appear in names (OidLookup table). */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'S',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'T',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.13': 'Description',
  '2.5.4.17': 'PostalCode',
  '2.5.4.18': 'POBox',
  '2.5.4.20': 'Phone',
  '2.5.4.24': 'X21Address',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '2.5.4.46': 'dnQualifier',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
};

const oidCache = new Map<string, string>();

/** Decodes an OBJECT IDENTIFIER's content octets to dotted form (memoised: certificates repeat the same few OIDs). */
export function decodeOid(buf: Uint8Array, start: number, end: number): string {
  if (end - start > 32) return decodeOidSlow(buf, start, end);
  let key = '';
  for (let i = start; i < end; i++) key += String.fromCharCode(buf[i]!);
  let v = oidCache.get(key);
  if (v === undefined) {
    v = decodeOidSlow(buf, start, end);
    if (oidCache.size < 4096) oidCache.set(key, v);
  }
  return v;
}

function decodeOidSlow(buf: Uint8Array, start: number, end: number): string {
  if (start >= end) throw new Error('empty OBJECT IDENTIFIER');
  const arcs: string[] = [];
  let value = 0n;
  let first = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (value === 0n && b === 0x80) throw new Error('non-minimal OBJECT IDENTIFIER arc');
    value = (value << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      if (first) {
        const a = value < 80n ? value / 40n : 2n;
        arcs.push(String(a), String(value - a * 40n));
        first = false;
      } else arcs.push(String(value));
      value = 0n;
    } else if (i === end - 1) throw new Error('OBJECT IDENTIFIER ends inside an arc');
  }
  return arcs.join('.');
}

const hexUpper = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function decodeT61(bytes: Buffer): string {
  // .NET's T61 reader: UTF-8 when it decodes, Latin-1 otherwise.
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function decodeBmp(bytes: Buffer): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return s;
}

/** One attribute value as .NET prints it; `binary` when it fell back to #HEX (never quoted). */
function attributeValue(buf: Uint8Array, v: Tlv): { text: string; binary: boolean } {
  const bytes = Buffer.from(buf.subarray(v.contentStart, v.end));
  switch (v.tag) {
    case 0x0c: // UTF8String
      return { text: bytes.toString('utf8').replace(/\0+$/, ''), binary: false };
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
      return { text: bytes.toString('latin1').replace(/\0+$/, ''), binary: false };
    case 0x14: // T61String
      return { text: decodeT61(bytes).replace(/\0+$/, ''), binary: false };
    case 0x1e: // BMPString
      return { text: decodeBmp(bytes).replace(/\0+$/, ''), binary: false };
    case 0x04: // OCTET STRING: Windows unwraps one level
      return { text: '#' + hexUpper(bytes), binary: true };
    default:
      return { text: '#' + hexUpper(buf.subarray(v.start, v.end)), binary: true };
  }
}

const QUOTE_CHARS = /[,+="\n<>#;]/;
const isQuotableWhitespace = (c: string): boolean => c === ' ' || (c >= '\t' && c <= '\r');

function needsQuoting(s: string): boolean {
  return s.length === 0 || isQuotableWhitespace(s[0]!) || isQuotableWhitespace(s[s.length - 1]!) || QUOTE_CHARS.test(s);
}

/**
 * X500DistinguishedName.Name: RDNs in reverse of the DER order, separated by ", ", multi-valued
 * RDNs joined by " + ", values quoted (with "" for ") when .NET's NeedsQuoting says so.
 */
export function formatDotNetName(nameDer: Uint8Array): string {
  const name = readTlv(nameDer, 0);
  const rdns = children(nameDer, name);
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    const values: string[] = [];
    for (const atv of children(nameDer, rdns[i]!)) {
      const [type, value] = children(nameDer, atv);
      if (!type || !value || type.tag !== 0x06) throw new Error('malformed AttributeTypeAndValue');
      const oid = decodeOid(nameDer, type.contentStart, type.end);
      const label = ATTRIBUTE_NAMES[oid] ?? `OID.${oid}`;
      const { text, binary } = attributeValue(nameDer, value);
      const quoted = !binary && needsQuoting(text) ? `"${text.replace(/"/g, '""')}"` : text;
      values.push(`${label}=${quoted}`);
    }
    parts.push(values.join(' + '));
  }
  return parts.join(', ');
}

/** NGINX's ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT): everything but A-Z a-z 0-9 - . _ ~ as %XX (uppercase). */
export function nginxEscape(s: string): string {
  let out = '';
  const bytes = Buffer.from(s, 'utf8');
  for (const b of bytes) {
    const keep =
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += keep ? String.fromCharCode(b) : '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}

export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  lines.push(`-----END ${label}-----`, '');
  return lines.join('\n');
}

/**
 * How .NET formats a DateTime with ToString() under en-US (API Management's gateway culture), in
 * UTC: `2/2/2024 8:39:43 AM`.
 */
export function formatDotNetDate(d: Date): string {
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}
