/**
 * Issuing certificates: key pairs with node:crypto, tbsCertificate encoded with the DER helpers
 * (every field is under our control, so the output is strict DER that .NET, OpenSSL and Node
 * all read), signed with node:crypto.
 */
import { createHash, createPrivateKey, generateKeyPair as generateKeyPairCb, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import { certificateFromDer, type ParsedCertificate } from './certificate.js';
import { children, content, integer, nullValue, octets, oid, readTlv, seq, tlv } from './der.js';
import type { Certificate, IssuedCertificate } from './index.js';

const generateKeyPair = promisify(generateKeyPairCb);

export type KeyAlgorithm = 'rsa-2048' | 'rsa-3072' | 'ec-p256' | 'ec-p384';

export async function generateKey(alg: KeyAlgorithm): Promise<KeyObject> {
  switch (alg) {
    case 'rsa-2048':
    case 'rsa-3072':
      return (await generateKeyPair('rsa', { modulusLength: alg === 'rsa-2048' ? 2048 : 3072 })).privateKey;
    case 'ec-p256':
    case 'ec-p384':
      return (await generateKeyPair('ec', { namedCurve: alg === 'ec-p256' ? 'P-256' : 'P-384' })).privateKey;
  }
}

/** Attribute types accepted in a subject given as an object or an `CN=x, O=y` string. */
const ATTRS: Readonly<Record<string, { oid: string; printable?: boolean; ia5?: boolean }>> = {
  CN: { oid: '2.5.4.3' },
  C: { oid: '2.5.4.6', printable: true },
  L: { oid: '2.5.4.7' },
  S: { oid: '2.5.4.8' },
  ST: { oid: '2.5.4.8' },
  O: { oid: '2.5.4.10' },
  OU: { oid: '2.5.4.11' },
  E: { oid: '1.2.840.113549.1.9.1', ia5: true },
  SERIALNUMBER: { oid: '2.5.4.5', printable: true },
  DC: { oid: '0.9.2342.19200300.100.1.25', ia5: true },
};

/** RDNs in DER order (most significant first), e.g. [['C','NL'],['O','Acme'],['CN','x']]. */
export type NameSpec = string | readonly (readonly [string, string])[];

export function encodeName(name: NameSpec): Buffer {
  const rdns: readonly (readonly [string, string])[] =
    typeof name === 'string'
      ? name
          .split(/,(?=\s*[A-Za-z]+=)/)
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => {
            const eq = p.indexOf('=');
            return [p.slice(0, eq).trim().toUpperCase(), p.slice(eq + 1).trim()] as const;
          })
          .reverse() // `CN=x, O=y` is .NET order (reversed); DER order is O first.
      : name;
  return seq(
    ...rdns.map(([type, value]) => {
      const a = ATTRS[type.toUpperCase()];
      if (!a) throw new Error(`unknown name attribute '${type}'`);
      const v = Buffer.from(value, 'utf8');
      return tlv(0x31, seq(oid(a.oid), tlv(a.printable ? 0x13 : a.ia5 ? 0x16 : 0x0c, v)));
    }),
  );
}

function encodeTime(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p = (n: number) => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'latin1'));
  return tlv(0x18, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'latin1'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), Buffer.from([0x01, 0x01, 0xff]), octets(value)) : seq(oid(id), octets(value));
}

const KU_BITS = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;
export type KeyUsageName = keyof typeof KU_BITS;

function keyUsage(names: readonly KeyUsageName[]): Buffer {
  let bits = 0;
  for (const n of names) bits |= 0x80 >> KU_BITS[n];
  // DER: drop trailing zero bits.
  let unused = 0;
  while (unused < 7 && bits !== 0 && (bits & (1 << unused)) === 0) unused++;
  return tlv(0x03, Buffer.from([unused, bits]));
}

const EKU = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

function keyIdentifier(spkiDer: Buffer): Buffer {
  const top = readTlv(spkiDer, 0);
  const bits = children(spkiDer, top)[1]!;
  return createHash('sha1').update(content(spkiDer, bits).subarray(1)).digest();
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand '::'.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

export interface CertificateSpec {
  readonly subject: NameSpec;
  /** The issuer's certificate and key; omitted for a self-signed certificate. */
  readonly issuer?: { readonly certificate: Certificate; readonly privateKey: KeyObject; readonly chain?: readonly Certificate[] };
  /** The subject's key (private); generated with keyAlgorithm when omitted. */
  readonly key?: KeyObject;
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly notBefore?: Date;
  readonly notAfter: Date;
  /** Makes a CA certificate: basicConstraints cA (critical), keyUsage keyCertSign + cRLSign. */
  readonly ca?: { readonly pathLen?: number };
  readonly keyUsage?: readonly KeyUsageName[];
  readonly extendedKeyUsage?: readonly ('serverAuth' | 'clientAuth')[];
  /** SAN entries: DNS names (any text, as Windows allows `Client 01`) and IP addresses. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly serialNumber?: Buffer;
  /** More extensions, DER-encoded values (tests use this for name constraints and the like). */
  readonly extraExtensions?: readonly { readonly oid: string; readonly critical: boolean; readonly value: Buffer }[];
  /** Leave out the default extensions (keyUsage, AKI, SKI); for tests of odd certificates. */
  readonly omit?: readonly ('keyUsage' | 'authorityKeyIdentifier' | 'subjectKeyIdentifier' | 'basicConstraints')[];
}

export interface GeneratedCertificate extends IssuedCertificate {
  readonly certificate: ParsedCertificate;
  readonly privateKey: KeyObject;
}

export async function generateCertificate(spec: CertificateSpec): Promise<GeneratedCertificate> {
  const key = spec.key ?? (await generateKey(spec.keyAlgorithm ?? 'rsa-2048'));
  const privateKey = key.type === 'private' ? key : createPrivateKey(key.export({ format: 'pem', type: 'pkcs8' }));
  const spki = privateKey.asymmetricKeyType ? Buffer.from(createPublicSpki(privateKey)) : Buffer.alloc(0);
  const subjectDer = encodeName(spec.subject);
  const issuerCert = spec.issuer?.certificate;
  const issuerDer = issuerCert ? certificateFromDer(issuerCert.der).subjectDer : subjectDer;
  const signer = spec.issuer?.privateKey ?? privateKey;
  const isRsa = signer.asymmetricKeyType === 'rsa';
  const sigAlg = isRsa ? seq(oid('1.2.840.113549.1.1.11'), nullValue()) : seq(oid(signer.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? '1.2.840.10045.4.3.3' : '1.2.840.10045.4.3.2'));
  const hash = !isRsa && signer.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  const serial = spec.serialNumber ?? (() => {
    const b = randomBytes(16);
    b[0] = (b[0]! & 0x7f) | 0x10;
    return b;
  })();
  const ski = keyIdentifier(spki);
  const exts: Buffer[] = [];
  const omit = new Set(spec.omit ?? []);
  if (spec.ca) {
    if (!omit.has('keyUsage')) exts.push(extension('2.5.29.15', true, keyUsage(spec.keyUsage ?? ['keyCertSign', 'cRLSign'])));
    if (!omit.has('basicConstraints')) exts.push(extension('2.5.29.19', true, seq(Buffer.from([0x01, 0x01, 0xff]), ...(spec.ca.pathLen !== undefined ? [integer(spec.ca.pathLen)] : []))));
  } else if (!omit.has('keyUsage')) {
    exts.push(extension('2.5.29.15', true, keyUsage(spec.keyUsage ?? (isRsaKey(privateKey) ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']))));
  }
  const san: Buffer[] = [];
  for (const d of spec.dnsNames ?? []) san.push(tlv(0x82, Buffer.from(d, 'latin1')));
  for (const ip of spec.ipAddresses ?? []) san.push(tlv(0x87, ipBytes(ip)));
  if (san.length) exts.push(extension('2.5.29.17', false, seq(...san)));
  if (spec.extendedKeyUsage?.length) exts.push(extension('2.5.29.37', false, seq(...spec.extendedKeyUsage.map((e) => oid(EKU[e])))));
  const issuerSpki = issuerCert ? certificateFromDer(issuerCert.der).spkiDer : spki;
  if (!omit.has('authorityKeyIdentifier')) exts.push(extension('2.5.29.35', false, seq(tlv(0x80, keyIdentifier(issuerSpki)))));
  if (!omit.has('subjectKeyIdentifier')) exts.push(extension('2.5.29.14', false, octets(ski)));
  for (const e of spec.extraExtensions ?? []) exts.push(extension(e.oid, e.critical, e.value));
  const tbs = seq(
    tlv(0xa0, integer(2)),
    integer(serial),
    sigAlg,
    issuerDer,
    seq(encodeTime(spec.notBefore ?? new Date(Date.now() - 60_000)), encodeTime(spec.notAfter)),
    subjectDer,
    spki,
    tlv(0xa3, seq(...exts)),
  );
  const signature = sign(hash, tbs, signer);
  const der = seq(tbs, sigAlg, tlv(0x03, Buffer.from([0]), signature));
  const certificate = certificateFromDer(der);
  const chain = issuerCert ? [issuerCert, ...(spec.issuer?.chain ?? [])] : [];
  return { certificate, privateKey, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, chain };
}

function isRsaKey(k: KeyObject): boolean {
  return k.asymmetricKeyType === 'rsa';
}

import { createPublicKey } from 'node:crypto';
function createPublicSpki(k: KeyObject): Buffer {
  return createPublicKey(k).export({ format: 'der', type: 'spki' });
}
