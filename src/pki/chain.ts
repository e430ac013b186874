/**
 * RFC 5280 path building and validation with backtracking across candidate issuers.
 *
 * Path building is a depth-first search from the leaf towards the trust anchors. Every step
 * (adding an issuer above the path built so far) is checked in full before the search goes on:
 * the issuer's own validity (time, critical extensions, CA-ness, key usage, EKU, profile rules),
 * its constraints over the certificates below it (pathLen, name constraints), and the signature
 * of the certificate it issued. A failing step is abandoned and the next candidate tried, so a
 * valid path is found whenever one exists within the search budget. When none exists, the
 * validator rebuilds the most plausible chain (names and signatures only) and reports every
 * problem on it, with .NET's X509ChainStatusFlags names.
 */
import { createHash, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import type { Certificate, ChainOptions, ChainResult, ChainStatusFlag } from './index.js';
import { ParsedCertificate, certificateFromDer } from './certificate.js';
import { children, content, readTlv, slice, type Tlv } from './der.js';
import { decodeOid } from './dotnet-format.js';
import { parseCrl, type ParsedCrl } from './crl.js';

// ---------------------------------------------------------------------------------------------
// Extension views, computed once per certificate.

const OID_BC = '2.5.29.19';
const OID_KU = '2.5.29.15';
const OID_EKU = '2.5.29.37';
const OID_SAN = '2.5.29.17';
const OID_NC = '2.5.29.30';
const OID_SKI = '2.5.29.14';
const OID_AKI = '2.5.29.35';
const OID_AIA = '1.3.6.1.5.5.7.1.1';
const OID_PC = '2.5.29.36';
const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';
const OID_EMAIL_ATTR = '1.2.840.113549.1.9.1';

const OID_CP = '2.5.29.32';
const OID_PM = '2.5.29.33';
const OID_IAP = '2.5.29.54';

/** The policy extensions (RFC 5280 4.2.1.4/5/11/14), by OID. */
const POLICY_EXTENSIONS: Readonly<Record<string, string>> = {
  [OID_CP]: 'certificatePolicies',
  [OID_PM]: 'policyMappings',
  [OID_PC]: 'policyConstraints',
  [OID_IAP]: 'inhibitAnyPolicy',
};

/**
 * Critical extensions accepted without a view of their own (the others are decoded in certInfo):
 * cRLDistributionPoints, which OpenSSL (under .NET on Linux) and rustls-webpki count as supported.
 * issuerAltName is not among OpenSSL's supported extensions, so a critical one is refused
 * (HasNotSupportedCriticalExtension), as X509Chain on Linux refuses it.
 */
const KNOWN_CRITICAL = new Set([
  '2.5.29.31', // cRLDistributionPoints
]);

export interface GeneralName {
  /** 0 otherName, 1 rfc822Name, 2 dNSName, 3 x400, 4 directoryName, 5 ediParty, 6 URI, 7 iPAddress, 8 registeredID */
  readonly type: number;
  /** Text for 1, 2, 6; DER of the Name for 4; raw octets for 7 and the rest. */
  readonly text?: string;
  readonly bytes: Buffer;
}

interface Subtree {
  readonly name: GeneralName;
  readonly valid: boolean;
}

export interface CertInfo {
  readonly cert: ParsedCertificate;
  readonly id: string;
  /** subject + SPKI: the same logical CA with the same key. */
  readonly logicalId: string;
  /** Problems with the certificate's own encoding or extensions (InvalidExtension etc.). */
  readonly malformed: string[];
  readonly bc?: { ca: boolean; pathLen?: number; critical: boolean };
  readonly ku?: { bits: Buffer; critical: boolean };
  readonly eku?: { oids: string[]; critical: boolean };
  readonly san?: GeneralName[];
  readonly ski?: Buffer;
  readonly aki?: { keyId?: Buffer; hasIssuer: boolean; hasSerial: boolean; critical: boolean };
  readonly nc?: { permitted: Subtree[]; excluded: Subtree[] };
  readonly unknownCritical: string[];
  /**
   * Critical policy extensions (certificatePolicies, policyMappings, policyConstraints,
   * inhibitAnyPolicy): decoded and checked for structure, not processed (see intrinsic()).
   */
  readonly criticalPolicyExtensions: string[];
  /** Name DER split into RDN DER slices. */
  readonly subjectRdns: Buffer[];
  readonly subjectEmails: string[];
  readonly spkiAlg: string;
  readonly spkiParams?: Buffer;
  /** Signature results of this certificate by issuer id (pure, so kept across calls). */
  readonly signatures: Map<string, string | undefined>;
}

const infoCache = new WeakMap<ParsedCertificate, CertInfo>();

function hasBit(bits: Buffer, n: number): boolean {
  const byte = bits[1 + (n >> 3)];
  return byte !== undefined && (byte & (0x80 >> (n & 7))) !== 0;
}

function ia5(buf: Buffer, t: Tlv): string {
  return buf.toString('latin1', t.contentStart, t.end);
}

function parseGeneralName(buf: Buffer, t: Tlv): GeneralName {
  const type = t.tag & 0x1f;
  switch (t.tag) {
    case 0x81:
    case 0x82:
    case 0x86:
      return { type, text: ia5(buf, t), bytes: content(buf, t) };
    case 0xa4: {
      const inner = children(buf, t)[0];
      if (!inner || inner.tag !== 0x30) throw new Error('directoryName is not a Name');
      return { type, bytes: slice(buf, inner) };
    }
    case 0x87:
      return { type, bytes: content(buf, t) };
    default:
      if ((t.tag & 0xc0) !== 0x80) throw new Error('GeneralName is not context-tagged');
      return { type, bytes: slice(buf, t) };
  }
}

function parseGeneralNames(value: Buffer): GeneralName[] {
  const top = readTlv(value, 0);
  if (top.tag !== 0x30 || top.end !== value.length) throw new Error('not a SEQUENCE');
  const names = children(value, top).map((t) => parseGeneralName(value, t));
  if (names.length === 0) throw new Error('empty GeneralNames');
  return names;
}

function parseSubtrees(buf: Buffer, t: Tlv): Subtree[] {
  return children(buf, t).map((st) => {
    const parts = children(buf, st);
    const name = parseGeneralName(buf, parts[0]!);
    // minimum must be 0 (absent) and maximum absent (RFC 5280 4.2.1.10).
    const valid = parts.length === 1 && validConstraintName(name);
    return { name, valid };
  });
}

function validConstraintName(n: GeneralName): boolean {
  if (n.type === 1) {
    const s = n.text ?? '';
    const at = s.split('@').length - 1;
    if (at > 1) return false;
    if (at === 1) return validMailbox(s);
    return s === '' || validDomainish(s.startsWith('.') ? s.slice(1) : s);
  }
  if (n.type === 2) {
    const s = n.text ?? '';
    return s === '' || validDomainish(s.startsWith('.') ? s.slice(1) : s);
  }
  if (n.type === 7) {
    if (n.bytes.length !== 8 && n.bytes.length !== 32) return false;
    const mask = n.bytes.subarray(n.bytes.length / 2);
    let seenZero = false;
    for (const b of mask) {
      for (let i = 7; i >= 0; i--) {
        const bit = (b >> i) & 1;
        if (bit === 0) seenZero = true;
        else if (seenZero) return false;
      }
    }
    return true;
  }
  return true;
}

function validDomainish(s: string): boolean {
  return /^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*\.?$/.test(s);
}

function validMailbox(s: string): boolean {
  const at = s.lastIndexOf('@');
  if (at <= 0) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (local.startsWith('"')) {
    if (!/^"([^"\\]|\\.)*"$/.test(local)) return false;
  } else if (local.includes('@') || !/^[!#$%&'*+/=?^_`{|}~0-9A-Za-z.-]+$/.test(local)) return false;
  return validDomainish(domain);
}

/** A non-negative INTEGER (or an IMPLICIT-tagged one) in minimal DER. */
function checkSkipCerts(buf: Buffer, t: Tlv, what: string): void {
  const n = t.end - t.contentStart;
  const first = buf[t.contentStart];
  if (n === 0 || first === undefined) throw new Error(`${what} is an empty INTEGER`);
  if (n > 1 && first === 0 && buf[t.contentStart + 1]! < 0x80) throw new Error(`${what} is not minimally encoded`);
  if (first & 0x80) throw new Error(`${what} is negative`);
}

/**
 * The structure of a policy extension (RFC 5280 4.2.1.4, 4.2.1.5, 4.2.1.11, 4.2.1.14), as .NET
 * reads it (CertificatePolicyChain: a malformed one is InvalidExtension) and OpenSSL decodes it.
 * The policies themselves are not processed: see intrinsic().
 */
function checkPolicyExtension(oid: string, v: Buffer): void {
  const top = readTlv(v, 0);
  if (top.end !== v.length) throw new Error('trailing data');
  if (oid === OID_IAP) {
    if (top.tag !== 0x02) throw new Error('inhibitAnyPolicy is not an INTEGER');
    checkSkipCerts(v, top, 'inhibitAnyPolicy');
    return;
  }
  if (top.tag !== 0x30) throw new Error('not a SEQUENCE');
  const items = children(v, top);
  if (oid === OID_PC) {
    let last = 0x7f;
    for (const f of items) {
      if ((f.tag !== 0x80 && f.tag !== 0x81) || f.tag <= last) throw new Error('policyConstraints holds a field other than requireExplicitPolicy [0] and inhibitPolicyMapping [1], in that order');
      checkSkipCerts(v, f, f.tag === 0x80 ? 'requireExplicitPolicy' : 'inhibitPolicyMapping');
      last = f.tag;
    }
    return;
  }
  if (oid === OID_PM) {
    for (const m of items) {
      const [a, b, more] = m.tag === 0x30 ? children(v, m) : [];
      if (!a || a.tag !== 0x06 || !b || b.tag !== 0x06 || more) throw new Error('a policy mapping is not a pair of OIDs');
      decodeOid(v, a.contentStart, a.end);
      decodeOid(v, b.contentStart, b.end);
    }
    return;
  }
  if (items.length === 0) throw new Error('certificatePolicies lists no policies');
  for (const pi of items) {
    const [id, qualifiers, more] = pi.tag === 0x30 ? children(v, pi) : [];
    if (!id || id.tag !== 0x06 || more) throw new Error('a PolicyInformation is not a policy OID with optional qualifiers');
    decodeOid(v, id.contentStart, id.end);
    if (!qualifiers) continue;
    if (qualifiers.tag !== 0x30) throw new Error('policyQualifiers is not a SEQUENCE');
    for (const q of children(v, qualifiers)) {
      const [qid] = q.tag === 0x30 ? children(v, q) : [];
      if (!qid || qid.tag !== 0x06) throw new Error('a PolicyQualifierInfo does not start with its OID');
    }
  }
}

export function certInfo(cert: ParsedCertificate): CertInfo {
  const cached = infoCache.get(cert);
  if (cached) return cached;
  const malformed: string[] = [];
  const unknownCritical: string[] = [];
  const info: {
    -readonly [K in keyof CertInfo]: CertInfo[K];
  } = {
    cert,
    id: cert.sha256,
    logicalId: createHash('sha256').update(cert.subjectDer).update(cert.spkiDer).digest('hex'),
    malformed,
    unknownCritical,
    criticalPolicyExtensions: [],
    subjectRdns: [],
    subjectEmails: [],
    spkiAlg: '',
    signatures: new Map(),
  };
  if (cert.hasDuplicateExtensions) malformed.push('the certificate has two extensions with the same OID');
  for (const ext of cert.extensions) {
    try {
      const v = ext.value;
      switch (ext.oid) {
        case OID_BC: {
          const top = readTlv(v, 0);
          if (top.tag !== 0x30 || top.end !== v.length) throw new Error('not a SEQUENCE');
          const f = children(v, top);
          let ca = false;
          let k = 0;
          if (f[k]?.tag === 0x01) {
            ca = v[f[k]!.contentStart] === 0xff;
            if (!ca) throw new Error('cA FALSE must not be encoded');
            k++;
          }
          let pathLen: number | undefined;
          if (f[k]?.tag === 0x02) {
            const c = content(v, f[k]!);
            if (c.length > 4 || (c[0]! & 0x80) !== 0) throw new Error('pathLenConstraint out of range');
            pathLen = c.reduce((a, b) => a * 256 + b, 0);
            k++;
          }
          if (k !== f.length) throw new Error('unexpected fields');
          info.bc = pathLen === undefined ? { ca, critical: ext.critical } : { ca, pathLen, critical: ext.critical };
          break;
        }
        case OID_KU: {
          const t = readTlv(v, 0);
          if (t.tag !== 0x03 || t.end !== v.length || t.end - t.contentStart < 1) throw new Error('not a BIT STRING');
          info.ku = { bits: content(v, t), critical: ext.critical };
          break;
        }
        case OID_EKU: {
          const top = readTlv(v, 0);
          if (top.tag !== 0x30 || top.end !== v.length) throw new Error('not a SEQUENCE');
          const oids = children(v, top).map((o) => {
            if (o.tag !== 0x06) throw new Error('not an OID');
            return decodeOid(v, o.contentStart, o.end);
          });
          if (oids.length === 0) throw new Error('extKeyUsage lists no purposes');
          info.eku = { oids, critical: ext.critical };
          break;
        }
        case OID_SAN:
          info.san = parseGeneralNames(v);
          break;
        case OID_SKI: {
          const t = readTlv(v, 0);
          if (t.tag !== 0x04 || t.end !== v.length) throw new Error('not an OCTET STRING');
          info.ski = content(v, t);
          break;
        }
        case OID_AKI: {
          const top = readTlv(v, 0);
          if (top.tag !== 0x30 || top.end !== v.length) throw new Error('not a SEQUENCE');
          const f = children(v, top);
          const keyIdT = f.find((x) => x.tag === 0x80);
          info.aki = {
            ...(keyIdT ? { keyId: content(v, keyIdT) } : {}),
            hasIssuer: f.some((x) => x.tag === 0xa1),
            hasSerial: f.some((x) => x.tag === 0x82),
            critical: ext.critical,
          };
          break;
        }
        case OID_NC: {
          const top = readTlv(v, 0);
          if (top.tag !== 0x30 || top.end !== v.length) throw new Error('not a SEQUENCE');
          const f = children(v, top);
          const permittedT = f.find((x) => x.tag === 0xa0);
          const excludedT = f.find((x) => x.tag === 0xa1);
          if (!permittedT && !excludedT) throw new Error('nameConstraints without subtrees');
          info.nc = {
            permitted: permittedT ? parseSubtrees(v, permittedT) : [],
            excluded: excludedT ? parseSubtrees(v, excludedT) : [],
          };
          break;
        }
        case OID_AIA: {
          const top = readTlv(v, 0);
          if (top.tag !== 0x30 || top.end !== v.length) throw new Error('not a SEQUENCE');
          const list = children(v, top);
          if (list.length === 0) throw new Error('authorityInfoAccess lists no access descriptions');
          for (const ad of list) {
            const [m, loc, more] = children(v, ad);
            if (!m || m.tag !== 0x06 || !loc || more) throw new Error('malformed AccessDescription');
            parseGeneralName(v, loc);
          }
          break;
        }
        case OID_CP:
        case OID_PM:
        case OID_PC:
        case OID_IAP:
          checkPolicyExtension(ext.oid, v);
          if (ext.critical) info.criticalPolicyExtensions.push(ext.oid);
          break;
        default:
          if (ext.critical && !KNOWN_CRITICAL.has(ext.oid)) unknownCritical.push(ext.oid);
      }
    } catch (e) {
      malformed.push(`extension ${ext.oid} does not decode: ${(e as Error).message}`);
    }
  }
  try {
    const name = readTlv(cert.subjectDer, 0);
    for (const rdn of children(cert.subjectDer, name)) {
      info.subjectRdns.push(slice(cert.subjectDer, rdn));
      for (const atv of children(cert.subjectDer, rdn)) {
        const [t, val] = children(cert.subjectDer, atv);
        if (t && val && decodeOid(cert.subjectDer, t.contentStart, t.end) === OID_EMAIL_ATTR) info.subjectEmails.push(ia5(cert.subjectDer, val));
      }
    }
    const spki = readTlv(cert.spkiDer, 0);
    const algT = children(cert.spkiDer, spki)[0]!;
    const [algOid, params] = children(cert.spkiDer, algT);
    info.spkiAlg = decodeOid(cert.spkiDer, algOid!.contentStart, algOid!.end);
    if (params) info.spkiParams = slice(cert.spkiDer, params);
  } catch (e) {
    malformed.push(`subject or public key does not decode: ${(e as Error).message}`);
  }
  infoCache.set(cert, info);
  return info;
}

// ---------------------------------------------------------------------------------------------
// Signatures.

const RSA_HASH: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const ECDSA_HASH: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const HASH_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const OID_PSS = '1.2.840.113549.1.1.10';
const OID_ED25519 = '1.3.101.112';
const OID_ED448 = '1.3.101.113';
const OID_RSA_KEY = '1.2.840.113549.1.1.1';
const OID_EC_KEY = '1.2.840.10045.2.1';
const OID_RSA_PSS_KEY = OID_PSS;
const NAMED_CURVES: Readonly<Record<string, string>> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

function pssParams(algDer: Buffer): { hash: string; saltLength: number } {
  const top = readTlv(algDer, 0);
  const params = children(algDer, top)[1];
  let hash = 'sha1';
  let mgfHash = 'sha1';
  let saltLength = 20;
  if (params) {
    for (const f of children(algDer, params)) {
      const inner = children(algDer, f)[0];
      if (!inner) continue;
      if (f.tag === 0xa0) {
        const o = children(algDer, inner)[0]!;
        hash = HASH_OIDS[decodeOid(algDer, o.contentStart, o.end)] ?? 'unknown';
      } else if (f.tag === 0xa1) {
        const [m, p] = children(algDer, inner);
        if (!m || decodeOid(algDer, m.contentStart, m.end) !== '1.2.840.113549.1.1.8' || !p) throw new Error('PSS mask generation is not MGF1');
        const o = children(algDer, p)[0]!;
        mgfHash = HASH_OIDS[decodeOid(algDer, o.contentStart, o.end)] ?? 'unknown';
      } else if (f.tag === 0xa2) {
        saltLength = content(algDer, inner).reduce((a, b) => a * 256 + b, 0);
      }
    }
  }
  if (hash === 'unknown' || mgfHash !== hash) throw new Error('RSASSA-PSS with an unsupported hash or MGF1 hash');
  return { hash, saltLength };
}

/** Verifies `cert`'s signature with `key`; returns the reason when it does not verify. */
export interface Signed {
  readonly tbsDer: Buffer;
  readonly signatureAlgorithmDer: Buffer;
  readonly tbsSignatureAlgorithmDer: Buffer;
  readonly signatureAlgorithmOid: string;
  readonly signatureValue: Buffer;
}

export function checkSignature(cert: Signed, key: KeyObject | null): string | undefined {
  if (!key) return 'the issuer public key cannot be read';
  if (!cert.signatureAlgorithmDer.equals(cert.tbsSignatureAlgorithmDer)) return 'signatureAlgorithm differs from the signature field in tbsCertificate';
  const oid = cert.signatureAlgorithmOid;
  try {
    let ok: boolean;
    if (RSA_HASH[oid]) {
      if (key.asymmetricKeyType !== 'rsa') return 'an RSA signature but the issuer key is not RSA';
      ok = cryptoVerify(RSA_HASH[oid], cert.tbsDer, { key, padding: constants.RSA_PKCS1_PADDING }, cert.signatureValue);
    } else if (oid === OID_PSS) {
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return 'an RSA-PSS signature but the issuer key is not RSA';
      const p = pssParams(cert.signatureAlgorithmDer);
      ok = cryptoVerify(p.hash, cert.tbsDer, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength }, cert.signatureValue);
    } else if (ECDSA_HASH[oid]) {
      if (key.asymmetricKeyType !== 'ec') return 'an ECDSA signature but the issuer key is not EC';
      ok = cryptoVerify(ECDSA_HASH[oid], cert.tbsDer, key, cert.signatureValue);
    } else if (oid === OID_ED25519 || oid === OID_ED448) {
      // crypto.verify(null, …) picks the digest from the key type: an RSA or EC key would accept an
      // RSA/ECDSA-SHA256 signature under an Ed25519 label, so the key type must match the OID.
      const want = oid === OID_ED25519 ? 'ed25519' : 'ed448';
      if (key.asymmetricKeyType !== want) return `an ${want === 'ed25519' ? 'Ed25519' : 'Ed448'} signature but the issuer key is not ${want === 'ed25519' ? 'Ed25519' : 'Ed448'}`;
      ok = cryptoVerify(null, cert.tbsDer, key, cert.signatureValue);
    } else return `signature algorithm ${oid} is not supported`;
    return ok ? undefined : 'the signature does not verify with the issuer key';
  } catch (e) {
    return `the signature cannot be verified: ${(e as Error).message}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Name constraints.

function dnsMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const c = constraint.toLowerCase().replace(/\.$/, '');
  if (c === '') return true;
  if (c.startsWith('.')) return n.endsWith(c);
  return n === c || n.endsWith('.' + c);
}

function emailMatches(name: string, constraint: string): boolean {
  const at = name.lastIndexOf('@');
  const local = name.slice(0, at);
  const host = name.slice(at + 1).toLowerCase();
  if (constraint.includes('@')) {
    const cat = constraint.lastIndexOf('@');
    return local === constraint.slice(0, cat) && host === constraint.slice(cat + 1).toLowerCase();
  }
  const c = constraint.toLowerCase();
  if (c === '') return true;
  if (c.startsWith('.')) return host.endsWith(c);
  return host === c;
}

function ipMatches(addr: Buffer, constraint: Buffer): boolean {
  if (constraint.length !== addr.length * 2) return false;
  for (let i = 0; i < addr.length; i++) {
    const mask = constraint[addr.length + i]!;
    if ((addr[i]! & mask) !== (constraint[i]! & mask)) return false;
  }
  return true;
}

/**
 * An RDN in comparable form (RFC 5280 7.1, simplified RFC 4518): attribute values of the string
 * types case-folded with inner whitespace collapsed; other values compared as encoded.
 */
function rdnKey(rdn: Buffer): string {
  const parts: string[] = [];
  for (const atv of children(rdn, readTlv(rdn, 0))) {
    const [t, v] = children(rdn, atv);
    if (!t || !v) return rdn.toString('hex');
    const type = decodeOid(rdn, t.contentStart, t.end);
    let value: string;
    if (v.tag === 0x0c || v.tag === 0x13 || v.tag === 0x16 || v.tag === 0x14) {
      value = rdn.toString(v.tag === 0x0c ? 'utf8' : 'latin1', v.contentStart, v.end).trim().replace(/\s+/g, ' ').toLowerCase();
    } else value = '#' + rdn.toString('hex', v.start, v.end);
    parts.push(`${type}=${value}`);
  }
  return parts.sort().join('+');
}

function dirMatches(rdns: Buffer[], constraintDer: Buffer): boolean {
  const top = readTlv(constraintDer, 0);
  const crdns = children(constraintDer, top).map((t) => slice(constraintDer, t));
  if (crdns.length > rdns.length) return false;
  return crdns.every((r, i) => r.equals(rdns[i]!) || rdnKey(r) === rdnKey(rdns[i]!));
}

interface NameToCheck {
  type: number;
  text?: string;
  bytes: Buffer;
  rdns?: Buffer[];
}

function namesOf(info: CertInfo): NameToCheck[] {
  const out: NameToCheck[] = [];
  if (info.subjectRdns.length > 0) out.push({ type: 4, bytes: info.cert.subjectDer, rdns: info.subjectRdns });
  for (const e of info.subjectEmails) out.push({ type: 1, text: e, bytes: Buffer.from(e) });
  for (const n of info.san ?? []) {
    if (n.type === 4) {
      const top = readTlv(n.bytes, 0);
      out.push({ type: 4, bytes: n.bytes, rdns: children(n.bytes, top).map((t) => slice(n.bytes, t)) });
    } else out.push(n.text === undefined ? { type: n.type, bytes: n.bytes } : { type: n.type, text: n.text, bytes: n.bytes });
  }
  return out;
}

function nameMatches(n: NameToCheck, c: GeneralName): boolean {
  switch (n.type) {
    case 1:
      return emailMatches(n.text!, c.text ?? '');
    case 2:
      return dnsMatches(n.text!, c.text ?? '');
    case 4:
      return dirMatches(n.rdns!, c.bytes);
    case 7:
      return ipMatches(n.bytes, c.bytes);
    default:
      return false;
  }
}

const SUPPORTED_NC = new Set([1, 2, 4, 7]);

/** Checks `ca`'s name constraints over `subject`; returns [flag, reason] pairs. */
function checkNameConstraints(ca: CertInfo, subject: CertInfo, isLeaf: boolean): [ChainStatusFlag, string][] {
  const nc = ca.nc!;
  const out: [ChainStatusFlag, string][] = [];
  for (const st of [...nc.permitted, ...nc.excluded]) {
    if (!st.valid) {
      out.push(['InvalidNameConstraints', `${ca.cert.subject}: a name constraint is malformed`]);
      return out;
    }
  }
  // Self-issued intermediates are exempt (RFC 5280 6.1.4 (b)) except as the leaf.
  if (!isLeaf && subject.cert.isSelfIssued) return out;
  for (const n of namesOf(subject)) {
    if (n.type === 1 && !validMailbox(n.text!)) {
      if (nc.permitted.some((c) => c.name.type === 1) || nc.excluded.some((c) => c.name.type === 1)) {
        out.push(['HasNotPermittedNameConstraint', `${subject.cert.subject}: the email name '${n.text}' is malformed`]);
      }
      continue;
    }
    if (n.type === 2 && !validDomainish(n.text!)) {
      if (nc.permitted.some((c) => c.name.type === 2) || nc.excluded.some((c) => c.name.type === 2)) {
        out.push(['HasNotPermittedNameConstraint', `${subject.cert.subject}: the DNS name '${n.text}' is malformed`]);
      }
      continue;
    }
    if (!SUPPORTED_NC.has(n.type)) {
      if ([...nc.permitted, ...nc.excluded].some((c) => c.name.type === n.type)) {
        out.push(['HasNotSupportedNameConstraint', `${ca.cert.subject}: name constraints of type ${n.type} are not supported`]);
      }
      continue;
    }
    const excl = nc.excluded.find((c) => c.name.type === n.type && nameMatches(n, c.name));
    if (excl) out.push(['HasExcludedNameConstraint', `${subject.cert.subject}: name ${n.text ?? '(type ' + n.type + ')'} is excluded by ${ca.cert.subject}`]);
    const perm = nc.permitted.filter((c) => c.name.type === n.type);
    if (perm.length > 0 && !perm.some((c) => nameMatches(n, c.name))) {
      out.push(['HasNotPermittedNameConstraint', `${subject.cert.subject}: name ${n.text ?? '(type ' + n.type + ')'} is not permitted by ${ca.cert.subject}`]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-certificate and per-step checks.

type Problem = [ChainStatusFlag, string];

export type ChainProfile = 'dotnet' | 'webpki';

interface Ctx {
  readonly atSeconds: number;
  readonly purpose: string | undefined;
  readonly profile: ChainProfile;
  readonly anchorIds: Set<string>;
  readonly crls: readonly ParsedCrl[];
  readonly maxIntermediates: number | undefined;
  budget: number;
}

const secs = (d: Date) => Math.floor(d.getTime() / 1000);

function keyProblems(info: CertInfo): string | undefined {
  const key = info.cert.publicKey;
  if (info.spkiAlg === OID_RSA_KEY || info.spkiAlg === OID_RSA_PSS_KEY) {
    const bits = key?.asymmetricKeyDetails?.modulusLength;
    if (!bits) return 'the RSA public key does not decode';
    if (bits < 2048) return `RSA-${bits} keys are below the 2048-bit minimum`;
    if (bits % 8 !== 0) return `RSA-${bits}: the modulus size is not a multiple of 8`;
    return undefined;
  }
  if (info.spkiAlg === OID_EC_KEY) {
    if (!info.spkiParams || info.spkiParams[0] !== 0x06) return 'EC keys must name their curve (explicit curve parameters are not allowed)';
    const curve = decodeOid(info.spkiParams, 2, info.spkiParams.length);
    if (!NAMED_CURVES[curve]) return `EC curve ${curve} is not allowed (P-256, P-384, P-521)`;
    if (!key) return 'the EC public key does not decode';
    return undefined;
  }
  if (info.spkiAlg === OID_ED25519) return key ? undefined : 'the Ed25519 public key does not decode';
  return `public key algorithm ${info.spkiAlg} is not allowed`;
}

const WEBPKI_SIGNATURES = new Set([
  '1.2.840.113549.1.1.11',
  '1.2.840.113549.1.1.12',
  '1.2.840.113549.1.1.13',
  OID_PSS,
  '1.2.840.10045.4.3.2',
  '1.2.840.10045.4.3.3',
  '1.2.840.10045.4.3.4',
  OID_ED25519,
]);

/** Checks that depend only on the certificate and its role (position 0 = leaf). */
function intrinsic(info: CertInfo, position: number, isAnchor: boolean, ctx: Ctx): Problem[] {
  const c = info.cert;
  const out: Problem[] = [];
  const who = c.subject || '(empty subject)';
  if (ctx.atSeconds < secs(c.notBefore) || ctx.atSeconds > secs(c.notAfter)) {
    out.push(['NotTimeValid', `${who}: valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}, checked at ${new Date(ctx.atSeconds * 1000).toISOString()}`]);
  }
  for (const m of info.malformed) out.push(['InvalidExtension', `${who}: ${m}`]);
  for (const oid of info.unknownCritical) out.push(['HasNotSupportedCriticalExtension', `${who}: unsupported critical extension ${oid}`]);
  // Policy extensions. dotnet: .NET's X509Chain on Linux hands the chain to OpenSSL, which counts
  // them as supported critical extensions and evaluates policies only when asked to
  // (X509_V_FLAG_POLICY_CHECK, which .NET does not set); .NET itself matches policies only against
  // ChainPolicy.CertificatePolicy / ApplicationPolicy OIDs, which API Management (Verify(),
  // validate-client-certificate) leaves empty. So a well-formed critical one is accepted, whatever
  // it requires (requireExplicitPolicy, inhibitAnyPolicy, mappings), and a malformed one is
  // InvalidExtension (above). webpki: rustls-webpki and pyca/cryptography (x509-limbo's reference)
  // process no policies, so they refuse these, like any critical extension they do not process.
  if (ctx.profile === 'webpki') {
    for (const oid of info.criticalPolicyExtensions) out.push(['HasNotSupportedCriticalExtension', `${who}: critical ${POLICY_EXTENSIONS[oid]} is not processed (certificate policies are not evaluated)`]);
  }
  const isCaRole = position > 0;
  if (isCaRole) {
    const v1Anchor = isAnchor && c.version === 0 && ctx.profile === 'dotnet';
    if (!v1Anchor) {
      if (!info.bc) out.push(['InvalidBasicConstraints', `${who}: issues certificates but has no basicConstraints extension`]);
      else if (!info.bc.ca) out.push(['InvalidBasicConstraints', `${who}: issues certificates but basicConstraints cA is FALSE`]);
      else if (ctx.profile === 'webpki' && !info.bc.critical) out.push(['InvalidBasicConstraints', `${who}: basicConstraints must be critical in a CA certificate`]);
    }
    if (info.ku && !hasBit(info.ku.bits, 5)) out.push(['NotValidForUsage', `${who}: keyUsage lacks keyCertSign`]);
    if (ctx.purpose && info.eku && !info.eku.oids.includes(ctx.purpose) && !info.eku.oids.includes(EKU_ANY)) {
      out.push(['NotValidForUsage', `${who}: extendedKeyUsage of the issuer does not allow ${ctx.purpose === EKU_CLIENT ? 'clientAuth' : 'serverAuth'}`]);
    }
  } else {
    if (ctx.purpose && info.eku) {
      const ok = info.eku.oids.includes(ctx.purpose) || (ctx.profile === 'dotnet' && info.eku.oids.includes(EKU_ANY));
      if (!ok) out.push(['NotValidForUsage', `${who}: extendedKeyUsage does not include ${ctx.purpose === EKU_CLIENT ? 'clientAuth' : 'serverAuth'}`]);
    }
  }
  if (ctx.profile === 'webpki') {
    const p = (m: string): void => void out.push(['InvalidExtension', `${who}: ${m}`]);
    if (c.version !== 2) p('not an X.509 v3 certificate');
    if (!isAnchor) {
      // Trust anchors are exempt: old roots (Starfield G2) have serial number 0.
      const serial = Buffer.from(c.serialNumber, 'hex');
      if (serial[0]! & 0x80) p('negative serial number');
      else if (serial.every((b) => b === 0)) p('serial number zero');
      if (serial.length > 21 || (serial.length === 21 && serial[0] !== 0)) p('serial number longer than 20 octets');
    }
    if (c.issuerDer.length <= 2) p('empty issuer name');
    if (isCaRole && c.subjectDer.length <= 2) p('empty subject name in a CA certificate');
    const selfSigned = c.isSelfIssued;
    // Trust anchors are exempt (a trusted cross-signed root without AKI is still trusted as itself).
    if (!info.aki && !isAnchor) p('no authorityKeyIdentifier');
    if (info.aki?.critical) p('authorityKeyIdentifier must not be critical');
    if (info.ski === undefined && isCaRole) p('no subjectKeyIdentifier in a CA certificate');
    if (c.extension(OID_SKI)?.critical) p('subjectKeyIdentifier must not be critical');
    if (c.extension(OID_AIA)?.critical) p('authorityInfoAccess must not be critical');
    if (c.extension(OID_PC) && !c.extension(OID_PC)!.critical) p('policyConstraints must be critical');
    if (isAnchor && selfSigned && info.aki) {
      if (!info.aki.keyId) p('the root authorityKeyIdentifier has no keyIdentifier');
      if (info.aki.hasIssuer || info.aki.hasSerial) p('the root authorityKeyIdentifier has authorityCertIssuer/SerialNumber');
      if (info.aki.keyId && info.ski && !info.aki.keyId.equals(info.ski)) p('the root authorityKeyIdentifier differs from its subjectKeyIdentifier');
    }
    if (isAnchor && isCaRole && info.eku) out.push(['NotValidForUsage', `${who}: a root must not carry extendedKeyUsage`]);
    if (!isCaRole) {
      // A CA certificate may be validated as the leaf (RFC 5280), but cA and keyCertSign must agree.
      if (info.bc?.ca && info.ku && !hasBit(info.ku.bits, 5)) out.push(['InvalidBasicConstraints', `${who}: basicConstraints cA is TRUE but keyUsage lacks keyCertSign`]);
      if (!info.bc?.ca && info.ku && hasBit(info.ku.bits, 5)) out.push(['NotValidForUsage', `${who}: keyCertSign is set but the certificate is not a CA`]);
      if (info.eku?.critical) p('extendedKeyUsage must not be critical in an end-entity certificate');
      if (info.eku?.oids.includes(EKU_ANY)) out.push(['NotValidForUsage', `${who}: anyExtendedKeyUsage is not allowed in an end-entity certificate`]);
    } else if (info.ku && info.bc?.pathLen !== undefined && !hasBit(info.ku.bits, 5)) {
      out.push(['InvalidBasicConstraints', `${who}: pathLenConstraint without keyCertSign`]);
    }
    const kp = keyProblems(info);
    if (kp) out.push(['NotSignatureValid', `${who}: ${kp}`]);
    if (!isAnchor || !selfSigned) {
      if (!WEBPKI_SIGNATURES.has(c.signatureAlgorithmOid)) out.push(['NotSignatureValid', `${who}: signature algorithm ${c.signatureAlgorithmOid} is not allowed`]);
    }
  }
  return out;
}

function signatureCheck(child: CertInfo, issuer: CertInfo, ctx: Ctx): string | undefined {
  if (child.signatures.has(issuer.id)) return child.signatures.get(issuer.id);
  ctx.budget--;
  const r = checkSignature(child.cert, issuer.cert.publicKey);
  if (child.signatures.size < 64) child.signatures.set(issuer.id, r);
  return r;
}

/** Checks that hold when `issuer` is put above `path` (path[0] = leaf). */
function stepProblems(path: CertInfo[], issuer: CertInfo, isAnchor: boolean, ctx: Ctx): Problem[] {
  const position = path.length;
  const out = intrinsic(issuer, position, isAnchor, ctx);
  const child = path[path.length - 1]!;
  const sig = signatureCheck(child, issuer, ctx);
  if (sig) out.push(['NotSignatureValid', `${child.cert.subject}: ${sig}`]);
  // pathLen: non-self-issued intermediates below the issuer (excluding the leaf).
  if (issuer.bc?.pathLen !== undefined) {
    let n = 0;
    for (let i = 1; i < path.length; i++) if (!path[i]!.cert.isSelfIssued) n++;
    if (n > issuer.bc.pathLen) out.push(['InvalidBasicConstraints', `${issuer.cert.subject}: pathLenConstraint ${issuer.bc.pathLen} allows ${issuer.bc.pathLen} intermediate(s) below it, found ${n}`]);
  }
  if (issuer.nc) {
    for (let i = 0; i < path.length; i++) out.push(...checkNameConstraints(issuer, path[i]!, i === 0));
  }
  if (ctx.maxIntermediates !== undefined) {
    let n = 0;
    for (let i = 1; i < path.length; i++) if (!path[i]!.cert.isSelfIssued) n++;
    if (n > ctx.maxIntermediates) out.push(['PartialChain', `the chain needs ${n} intermediates, more than the maximum of ${ctx.maxIntermediates}`]);
  }
  const revocation = checkRevocation(child, issuer, ctx);
  if (revocation) out.push(revocation);
  return out;
}

function checkRevocation(child: CertInfo, issuer: CertInfo, ctx: Ctx): Problem | undefined {
  for (const crl of ctx.crls) {
    if (!crl.issuerDer.equals(child.cert.issuerDer)) continue;
    if (checkSignatureOfCrl(crl, issuer)) continue;
    if (issuer.ku && !hasBit(issuer.ku.bits, 6)) return ['RevocationStatusUnknown', `${issuer.cert.subject}: signs CRLs but keyUsage lacks cRLSign`];
    if (crl.problem) return ['RevocationStatusUnknown', `CRL of ${issuer.cert.subject}: ${crl.problem}`];
    if (crl.revokedSerials.has(child.cert.serialNumber)) return ['Revoked', `${child.cert.subject}: serial ${child.cert.serialNumber} is revoked by ${issuer.cert.subject}`];
  }
  return undefined;
}

function checkSignatureOfCrl(crl: ParsedCrl, issuer: CertInfo): string | undefined {
  return checkSignature(crl, issuer.cert.publicKey);
}

// ---------------------------------------------------------------------------------------------
// The search.

interface Pool {
  bySubject: Map<string, { info: CertInfo; anchor: boolean }[]>;
}

function buildPool(anchors: readonly ParsedCertificate[], intermediates: readonly ParsedCertificate[]): Pool {
  const bySubject = new Map<string, { info: CertInfo; anchor: boolean }[]>();
  const seen = new Set<string>();
  const add = (c: ParsedCertificate, anchor: boolean) => {
    const info = certInfo(c);
    if (seen.has(info.id)) return;
    seen.add(info.id);
    const k = c.subjectDer.toString('hex');
    const list = bySubject.get(k) ?? [];
    list.push({ info, anchor });
    bySubject.set(k, list);
  };
  for (const a of anchors) add(a, true);
  for (const i of intermediates) add(i, false);
  return { bySubject };
}

function candidates(pool: Pool, child: CertInfo): { info: CertInfo; anchor: boolean }[] {
  const list = pool.bySubject.get(child.cert.issuerDer.toString('hex')) ?? [];
  const aki = child.aki?.keyId;
  const score = (c: { info: CertInfo; anchor: boolean }) => (c.anchor ? 0 : 2) + (aki && c.info.ski && c.info.ski.equals(aki) ? 0 : 1);
  return [...list].sort((a, b) => score(a) - score(b));
}

const MAX_DEPTH = 12;

function search(path: CertInfo[], pool: Pool, ctx: Ctx, onStepFailure: (path: CertInfo[], problems: Problem[]) => void): CertInfo[] | undefined {
  if (path.length > MAX_DEPTH || ctx.budget <= 0) return undefined;
  const top = path[path.length - 1]!;
  for (const cand of candidates(pool, top)) {
    if (ctx.budget <= 0) return undefined;
    if (path.some((p) => p.id === cand.info.id || p.logicalId === cand.info.logicalId)) continue;
    const problems = stepProblems(path, cand.info, cand.anchor, ctx);
    const next = [...path, cand.info];
    if (problems.length > 0) {
      onStepFailure(next, problems);
      continue;
    }
    if (cand.anchor) return next;
    const found = search(next, pool, ctx, onStepFailure);
    if (found) return found;
  }
  return undefined;
}

function toParsed(c: Certificate): ParsedCertificate {
  return c instanceof ParsedCertificate ? c : certificateFromDer(c.der);
}

/** RFC 5280 path building and validation with backtracking across candidate issuers. */
export function verifyChain(leafIn: Certificate, options: ChainOptions & ExtraChainOptions): ChainResult {
  const leaf = certInfo(toParsed(leafIn));
  const anchors = options.anchors.map(toParsed);
  const intermediates = (options.intermediates ?? []).map(toParsed);
  const at = options.at ?? new Date();
  const ctx: Ctx = {
    atSeconds: Math.floor(at.getTime() / 1000),
    purpose: options.requireClientAuth ? EKU_CLIENT : options.requireServerAuth ? EKU_SERVER : undefined,
    profile: options.profile ?? 'dotnet',
    anchorIds: new Set(anchors.map((a) => a.sha256)),
    crls: (options.crls ?? []).map((c) => parseCrl(c)),
    maxIntermediates: options.maxIntermediates,
    budget: options.signatureBudget ?? 256,
  };
  const leafProblems = intrinsic(leaf, 0, ctx.anchorIds.has(leaf.id), ctx);
  // A leaf that is itself a trust anchor is trusted as it stands.
  if (ctx.anchorIds.has(leaf.id)) return result([leaf], leafProblems);
  const pool = buildPool(anchors, intermediates);
  const attempts: CertInfo[][] = [];
  const onStepFailure = (path: CertInfo[]) => {
    if (attempts.length < 32) attempts.push(path);
  };
  if (leafProblems.length === 0) {
    const found = search([leaf], pool, ctx, onStepFailure);
    if (found) return result(found, []);
  }
  // No valid path: report every problem on the most plausible chain, as X509Chain does. Each
  // failed attempt is completed upwards by names and signatures; the one that reaches an anchor
  // with the fewest problems wins.
  let best: { path: CertInfo[]; problems: Problem[] } | undefined;
  const consider = (path: CertInfo[]) => {
    const report = fullReport(extend(path, pool, ctx), ctx);
    if (!best || rank(report.path, report.problems, ctx) > rank(best.path, best.problems, ctx)) best = report;
  };
  for (const a of attempts) consider(a);
  consider([leaf]);
  return result(best!.path, best!.problems);
}

function rank(path: CertInfo[], problems: Problem[], ctx: Ctx): number {
  const top = path[path.length - 1]!;
  return (ctx.anchorIds.has(top.id) ? 1000 : 0) - problems.length * 10 - path.length;
}

/** All problems on a chain, step by step (used for reporting only). */
function fullReport(path: CertInfo[], ctx: Ctx): { path: CertInfo[]; problems: Problem[] } {
  const problems: Problem[] = [...intrinsic(path[0]!, 0, false, ctx)];
  for (let i = 1; i < path.length; i++) problems.push(...stepProblems(path.slice(0, i), path[i]!, ctx.anchorIds.has(path[i]!.id), ctx));
  problems.push(...chainEndProblems(path, ctx));
  return { path, problems };
}

function chainEndProblems(path: CertInfo[], ctx: Ctx): Problem[] {
  const top = path[path.length - 1]!;
  if (ctx.anchorIds.has(top.id)) return [];
  if (top.cert.isSelfIssued && !checkSignature(top.cert, top.cert.publicKey)) {
    return [['UntrustedRoot', `${top.cert.subject}: a self-signed certificate that is not a trusted root`]];
  }
  return [['PartialChain', `no issuer of ${top.cert.issuer || '(empty issuer)'} was found among the trusted roots and intermediates`]];
}

/** Completes a path upwards by issuer names and signatures only, for the report when no valid path exists. */
function extend(start: CertInfo[], pool: Pool, ctx: Ctx): CertInfo[] {
  const path = [...start];
  for (let guard = 0; guard < MAX_DEPTH; guard++) {
    const top = path[path.length - 1]!;
    if (ctx.anchorIds.has(top.id) || (top.cert.isSelfIssued && path.length > 1)) break;
    const options = candidates(pool, top).filter((c) => !path.some((p) => p.id === c.info.id || p.logicalId === c.info.logicalId));
    const next = options.find((c) => ctx.budget > 0 && !signatureCheck(top, c.info, ctx)) ?? options[0];
    if (!next) break;
    path.push(next.info);
  }
  return path;
}

function result(path: CertInfo[], problems: Problem[]): ChainResult {
  const status: ChainStatusFlag[] = [];
  for (const [flag] of problems) if (!status.includes(flag)) status.push(flag);
  return { valid: problems.length === 0, chain: path.map((p) => p.cert), status, reasons: problems.map(([, r]) => r) };
}

/** Options beyond the contract's ChainOptions (all optional). */
export interface ExtraChainOptions {
  /** 'dotnet' (default): what X509Chain checks. 'webpki': also the CA/Browser Forum profile rules (conformance runs). */
  readonly profile?: ChainProfile;
  /** CRLs (PEM or DER) to check revocation against; without them revocation is not checked (X509RevocationMode.NoCheck). */
  readonly crls?: readonly (Uint8Array | string)[];
  /** The most intermediates (self-issued ones above the first not counted) a path may have. */
  readonly maxIntermediates?: number;
  /** Signature verifications the search may spend before giving up (default 256). */
  readonly signatureBudget?: number;
}
