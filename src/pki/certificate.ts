/**
 * Certificate values computed once per certificate: thumbprints, .NET names, dates, the raw
 * pieces chain validation needs (tbsCertificate, names, extensions), and lazy Node objects.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { GatehouseError } from '../core/errors.js';
import { children, content, DerError, readTlv, slice, type Tlv } from './der.js';
import { decodeOid, formatDotNetDate, formatDotNetName, nginxEscape, toPem } from './dotnet-format.js';
import type { Certificate } from './index.js';

export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING's content (the DER of the extension). */
  readonly value: Buffer;
}

/** Parses UTCTime / GeneralizedTime as RFC 5280 requires them (Z, seconds, no fractions). */
function parseTime(buf: Uint8Array, t: Tlv): Date {
  const len = t.end - t.contentStart;
  const utc = t.tag === 0x17;
  if (!utc && t.tag !== 0x18) throw new DerError('validity time is neither UTCTime nor GeneralizedTime', false);
  const digits = utc ? 12 : 14;
  const bad = () => new DerError(`${utc ? 'UTCTime' : 'GeneralizedTime'} '${Buffer.from(buf.subarray(t.contentStart, t.end)).toString('latin1')}' is not ${utc ? 'YYMMDDHHMMSSZ' : 'YYYYMMDDHHMMSSZ'}`, false);
  if (len !== digits + 1 || buf[t.end - 1] !== 0x5a) throw bad();
  const n = (i: number, w: number): number => {
    let v = 0;
    for (let k = 0; k < w; k++) {
      const c = buf[t.contentStart + i + k]! - 0x30;
      if (c < 0 || c > 9) throw bad();
      v = v * 10 + c;
    }
    return v;
  };
  let year: number;
  let p: number;
  if (utc) {
    const yy = n(0, 2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p = 2;
  } else {
    year = n(0, 4);
    p = 4;
  }
  const mo = n(p, 2), d = n(p + 2, 2), h = n(p + 4, 2), mi = n(p + 6, 2), se = n(p + 8, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) throw bad();
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  if (year < 100) date.setUTCFullYear(year);
  if (date.getUTCDate() !== d) throw bad();
  return date;
}

export class ParsedCertificate implements Certificate {
  readonly der: Buffer;
  readonly thumbprint: string;
  readonly sha256: string;
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCA: boolean;
  readonly isSelfIssued: boolean;
  /** X.509 version as encoded (0 = v1, 2 = v3). */
  readonly version: number;
  readonly tbsDer: Buffer;
  readonly subjectDer: Buffer;
  readonly issuerDer: Buffer;
  readonly spkiDer: Buffer;
  /** signatureAlgorithm of the outer Certificate (DER of the AlgorithmIdentifier). */
  readonly signatureAlgorithmDer: Buffer;
  /** The signature in tbsCertificate, which must equal the outer one. */
  readonly tbsSignatureAlgorithmDer: Buffer;
  readonly signatureAlgorithmOid: string;
  readonly signatureValue: Buffer;
  readonly extensions: readonly RawExtension[];
  readonly hasDuplicateExtensions: boolean;
  readonly hasUniqueIds: boolean;
  private _x509: X509Certificate | undefined;
  private _publicKey: KeyObject | null | undefined;
  private _escaped: string | undefined;
  private _pem: string | undefined;

  constructor(der: Buffer) {
    this.der = der;
    const outer = readTlv(der, 0);
    if (outer.tag !== 0x30) throw new DerError('not a SEQUENCE', false);
    if (outer.end !== der.length) throw new DerError(`${der.length - outer.end} bytes after the certificate`, false);
    const [tbs, sigAlg, sigVal, extra] = children(der, outer);
    if (!tbs || !sigAlg || !sigVal || extra) throw new DerError('a Certificate has exactly three parts', false);
    if (tbs.tag !== 0x30 || sigAlg.tag !== 0x30 || sigVal.tag !== 0x03) throw new DerError('Certificate parts have the wrong types', false);
    this.tbsDer = slice(der, tbs);
    this.signatureAlgorithmDer = slice(der, sigAlg);
    const algOid = children(der, sigAlg)[0];
    if (!algOid || algOid.tag !== 0x06) throw new DerError('signatureAlgorithm has no OID', false);
    this.signatureAlgorithmOid = decodeOid(der, algOid.contentStart, algOid.end);
    const sig = content(der, sigVal);
    if (sig.length < 1 || sig[0] !== 0) throw new DerError('signature BIT STRING has unused bits', false);
    this.signatureValue = sig.subarray(1);

    const parts = children(der, tbs);
    let i = 0;
    let version = 0;
    if (parts[0]?.tag === 0xa0) {
      const v = children(der, parts[0])[0];
      if (!v || v.tag !== 0x02 || v.end - v.contentStart !== 1) throw new DerError('malformed version', false);
      version = der[v.contentStart]!;
      if (version === 0) throw new DerError('version v1 must not be encoded explicitly (DER DEFAULT)', false);
      if (version > 2) throw new DerError(`unknown certificate version ${version + 1}`, false);
      i++;
    }
    this.version = version;
    const serial = parts[i++];
    const tbsAlg = parts[i++];
    const issuer = parts[i++];
    const validity = parts[i++];
    const subject = parts[i++];
    const spki = parts[i++];
    if (!serial || !tbsAlg || !issuer || !validity || !subject || !spki) throw new DerError('tbsCertificate is incomplete', false);
    if (serial.tag !== 0x02 || serial.end === serial.contentStart) throw new DerError('serialNumber is not an INTEGER', false);
    if (issuer.tag !== 0x30 || subject.tag !== 0x30 || validity.tag !== 0x30 || spki.tag !== 0x30 || tbsAlg.tag !== 0x30) {
      throw new DerError('tbsCertificate fields have the wrong types', false);
    }
    this.tbsSignatureAlgorithmDer = slice(der, tbsAlg);
    this.serialNumber = content(der, serial).toString('hex').toUpperCase();
    this.issuerDer = slice(der, issuer);
    this.subjectDer = slice(der, subject);
    this.spkiDer = slice(der, spki);
    const [nb, na, more] = children(der, validity);
    if (!nb || !na || more) throw new DerError('validity needs notBefore and notAfter', false);
    this.notBefore = parseTime(der, nb);
    this.notAfter = parseTime(der, na);

    const exts: RawExtension[] = [];
    let hasUniqueIds = false;
    let dup = false;
    for (; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.tag === 0x81 || p.tag === 0xa1 || p.tag === 0x82 || p.tag === 0xa2) {
        hasUniqueIds = true;
        continue;
      }
      if (p.tag !== 0xa3) throw new DerError(`unexpected field [${p.tag & 0x1f}] in tbsCertificate`, false);
      if (version !== 2) throw new DerError('extensions in a certificate that is not v3', false);
      const seq = children(der, p)[0];
      if (!seq || seq.tag !== 0x30) throw new DerError('extensions are not a SEQUENCE', false);
      const list = children(der, seq);
      if (list.length === 0) throw new DerError('empty extensions SEQUENCE', false);
      const seen = new Set<string>();
      for (const e of list) {
        const f = children(der, e);
        const oidT = f[0];
        if (!oidT || oidT.tag !== 0x06) throw new DerError('extension without an OID', false);
        let critical = false;
        let k = 1;
        if (f[1]?.tag === 0x01) {
          const b = content(der, f[1]);
          if (b.length !== 1) throw new DerError('malformed BOOLEAN', false);
          if (b[0] === 0) throw new DerError('critical FALSE must not be encoded (DER DEFAULT)', false);
          critical = true;
          k = 2;
        }
        const val = f[k];
        if (!val || val.tag !== 0x04 || f.length !== k + 1) throw new DerError('malformed extension', false);
        const oid = decodeOid(der, oidT.contentStart, oidT.end);
        if (seen.has(oid)) dup = true;
        seen.add(oid);
        exts.push({ oid, critical, value: content(der, val) });
      }
    }
    this.extensions = exts;
    this.hasDuplicateExtensions = dup;
    this.hasUniqueIds = hasUniqueIds;

    this.thumbprint = createHash('sha1').update(der).digest('hex').toUpperCase();
    this.sha256 = createHash('sha256').update(der).digest('hex').toUpperCase();
    this.subject = formatDotNetName(this.subjectDer);
    this.issuer = formatDotNetName(this.issuerDer);
    this.isSelfIssued = this.subjectDer.equals(this.issuerDer);
    this.isCA = basicConstraintsCA(this.extension('2.5.29.19')?.value);
  }

  extension(oid: string): RawExtension | undefined {
    for (const e of this.extensions) if (e.oid === oid) return e;
    return undefined;
  }

  get x509(): X509Certificate {
    return (this._x509 ??= new X509Certificate(this.der));
  }

  /** The subject public key, or null when Node cannot import it. */
  get publicKey(): KeyObject | null {
    if (this._publicKey === undefined) {
      try {
        this._publicKey = createPublicKey({ key: this.spkiDer, format: 'der', type: 'spki' });
      } catch {
        this._publicKey = null;
      }
    }
    return this._publicKey;
  }

  toPem(): string {
    return (this._pem ??= toPem(this.der));
  }

  toEscapedPem(): string {
    return (this._escaped ??= nginxEscape(this.toPem()));
  }

  toDotNetString(verbose = false): string {
    const lines = [
      '[Subject]',
      `  ${this.subject}`,
      '',
      '[Issuer]',
      `  ${this.issuer}`,
      '',
      '[Serial Number]',
      `  ${this.serialNumber}`,
      '',
      '[Not Before]',
      `  ${formatDotNetDate(this.notBefore)}`,
      '',
      '[Not After]',
      `  ${formatDotNetDate(this.notAfter)}`,
      '',
      '[Thumbprint]',
      `  ${this.thumbprint}`,
      '',
    ];
    if (verbose) {
      lines.splice(0, 0, '[Version]', `  V${this.version + 1}`, '');
      lines.push('[Signature Algorithm]', `  ${SIGNATURE_NAMES[this.signatureAlgorithmOid] ?? ''}(${this.signatureAlgorithmOid})`, '');
    }
    return lines.join('\r\n');
  }

  toString(): string {
    return this.toDotNetString(false);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Certificate { ${this.subject} (issuer ${this.issuer}, thumbprint ${this.thumbprint}) }`;
  }
}

const SIGNATURE_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.5': 'sha1RSA',
  '1.2.840.113549.1.1.11': 'sha256RSA',
  '1.2.840.113549.1.1.12': 'sha384RSA',
  '1.2.840.113549.1.1.13': 'sha512RSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.3.2': 'sha256ECDSA',
  '1.2.840.10045.4.3.3': 'sha384ECDSA',
  '1.2.840.10045.4.3.4': 'sha512ECDSA',
};

function basicConstraintsCA(value: Buffer | undefined): boolean {
  if (!value) return false;
  try {
    const seq = readTlv(value, 0);
    const first = children(value, seq)[0];
    return first?.tag === 0x01 && value[first.contentStart] === 0xff;
  } catch {
    return false;
  }
}

/** One certificate from DER bytes; GatehouseError GH_PKI_MALFORMED_CERTIFICATE (or GH_PKI_TRUNCATED) when it does not decode. */
export function certificateFromDer(der: Uint8Array, origin = 'certificate'): ParsedCertificate {
  const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    return new ParsedCertificate(buf);
  } catch (e) {
    if (e instanceof DerError) {
      throw new GatehouseError(e.truncated ? 'GH_PKI_TRUNCATED' : 'GH_PKI_MALFORMED_CERTIFICATE', `${origin}: not a valid X.509 certificate: ${e.message}${e.truncated ? ' (truncated?)' : ''}`, { cause: e });
    }
    throw new GatehouseError('GH_PKI_MALFORMED_CERTIFICATE', `${origin}: not a valid X.509 certificate: ${(e as Error).message}`, { cause: e });
  }
}
