/**
 * PKCS#12 / PFX read and write. Reading maps the structure with @peculiar/asn1-pfx (and
 * asn1-cms / asn1-pkcs8); writing encodes the few structures with the DER helpers (strict DER,
 * attribute sets under our control). The crypto is node:crypto: RFC 7292 appendix B key derivation for the legacy
 * pbeWithSHAAnd3-KeyTripleDES-CBC and the HMAC key, PBES2 (PBKDF2 + AES-CBC / 3DES) for what
 * OpenSSL 3 writes.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { EncryptedContentInfo, id_data, id_encryptedData } from '@peculiar/asn1-cms';
import { AuthenticatedSafe, CertBag, PFX, PKCS12Attribute, SafeContents } from '@peculiar/asn1-pfx';
import { EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { children, content, integer, nullValue, octets, oid, readSmallInteger, readTlv, seq, slice, tlv, type Tlv } from './der.js';
import { decodeOid } from './dotnet-format.js';
import { rc2CbcDecrypt } from './rc2.js';

const OID = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  pbeSha3Des: '1.2.840.113549.1.12.1.3',
  pbeSha2Des: '1.2.840.113549.1.12.1.4',
  pbeShaRc2_128: '1.2.840.113549.1.12.1.5',
  pbeShaRc2_40: '1.2.840.113549.1.12.1.6',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacSha1: '1.2.840.113549.2.7',
  hmacSha256: '1.2.840.113549.2.9',
  hmacSha384: '1.2.840.113549.2.10',
  hmacSha512: '1.2.840.113549.2.11',
  aes128cbc: '2.16.840.1.101.3.4.1.2',
  aes192cbc: '2.16.840.1.101.3.4.1.22',
  aes256cbc: '2.16.840.1.101.3.4.1.42',
  desEde3cbc: '1.2.840.113549.3.7',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  friendlyName: '1.2.840.113549.1.9.20',
} as const;

const HASHES: Readonly<Record<string, { name: string; u: number; v: number }>> = {
  [OID.sha1]: { name: 'sha1', u: 20, v: 64 },
  [OID.sha256]: { name: 'sha256', u: 32, v: 64 },
  [OID.sha384]: { name: 'sha384', u: 48, v: 128 },
  [OID.sha512]: { name: 'sha512', u: 64, v: 128 },
};
const HMAC_PRF: Readonly<Record<string, string>> = {
  [OID.hmacSha1]: 'sha1',
  [OID.hmacSha256]: 'sha256',
  [OID.hmacSha384]: 'sha384',
  [OID.hmacSha512]: 'sha512',
};
const CIPHERS: Readonly<Record<string, { name: string; keyLen: number }>> = {
  [OID.aes128cbc]: { name: 'aes-128-cbc', keyLen: 16 },
  [OID.aes192cbc]: { name: 'aes-192-cbc', keyLen: 24 },
  [OID.aes256cbc]: { name: 'aes-256-cbc', keyLen: 32 },
  [OID.desEde3cbc]: { name: 'des-ede3-cbc', keyLen: 24 },
};

/** The password as PKCS#12 wants it for its own KDF: BMPString with a trailing 00 00 ('' → two zero bytes). */
function bmpPassword(password: string | null): Buffer {
  if (password === null) return Buffer.alloc(0);
  const out = Buffer.alloc((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** RFC 7292 appendix B.2. */
export function pkcs12Kdf(hashOid: string, password: Buffer, salt: Buffer, id: 1 | 2 | 3, iterations: number, n: number): Buffer {
  const h = HASHES[hashOid];
  if (!h) throw new Pkcs12Failure('unsupported', `unsupported PKCS#12 KDF hash ${hashOid}`);
  const { u, v } = h;
  const D = Buffer.alloc(v, id);
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = Buffer.concat([fill(salt), fill(password)]);
  const out: Buffer[] = [];
  let got = 0;
  while (got < n) {
    let A = createHash(h.name).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(h.name).update(A).digest();
    out.push(A);
    got += u;
    if (got >= n) break;
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % u]!;
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

export class Pkcs12Failure extends Error {
  constructor(
    readonly kind: 'password' | 'malformed' | 'unsupported',
    message: string,
  ) {
    super(message);
  }
}

const MAX_ITERATIONS = 10_000_000;

function checkIterations(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ITERATIONS) throw new Pkcs12Failure('malformed', `iteration count ${n} is out of range`);
  return n;
}

interface PbeParams {
  salt: Buffer;
  iterations: number;
}

function parseDer(params: ArrayBuffer | null | undefined, what: string): { buf: Buffer; top: Tlv } {
  if (!params) throw new Pkcs12Failure('malformed', `${what} parameters are missing`);
  const buf = Buffer.from(params);
  try {
    return { buf, top: readTlv(buf, 0) };
  } catch (e) {
    throw new Pkcs12Failure('malformed', `${what} parameters: ${(e as Error).message}`);
  }
}

function parsePbeParams(params: ArrayBuffer | null | undefined): PbeParams {
  // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
  const { buf, top } = parseDer(params, 'PBE');
  const [salt, iter] = children(buf, top);
  if (!salt || salt.tag !== 0x04 || !iter) throw new Pkcs12Failure('malformed', 'PBE parameters are malformed');
  return { salt: content(buf, salt), iterations: checkIterations(readSmallInteger(buf, iter)) };
}

interface AlgId {
  oid: string;
  params: Buffer | undefined;
}

function readAlgId(buf: Buffer, t: Tlv): AlgId {
  const [o, p] = children(buf, t);
  if (!o || o.tag !== 0x06) throw new Pkcs12Failure('malformed', 'AlgorithmIdentifier without an OID');
  return { oid: decodeOid(buf, o.contentStart, o.end), params: p ? slice(buf, p) : undefined };
}

/** PBES2-params ::= SEQUENCE { keyDerivationFunc, encryptionScheme }; PBKDF2-params. */
function parsePbes2(params: ArrayBuffer | null | undefined): { salt: Buffer; iterations: number; keyLength: number | undefined; prf: string; cipher: string; iv: Buffer } {
  const { buf, top } = parseDer(params, 'PBES2');
  const [kdfT, encT] = children(buf, top);
  if (!kdfT || !encT) throw new Pkcs12Failure('malformed', 'PBES2 parameters are malformed');
  const kdf = readAlgId(buf, kdfT);
  if (kdf.oid !== OID.pbkdf2) throw new Pkcs12Failure('unsupported', `unsupported PBES2 key derivation ${kdf.oid}`);
  if (!kdf.params) throw new Pkcs12Failure('malformed', 'PBKDF2 parameters are missing');
  const kp = children(kdf.params, readTlv(kdf.params, 0));
  const salt = kp[0];
  const iter = kp[1];
  if (!salt || salt.tag !== 0x04 || !iter) throw new Pkcs12Failure('malformed', 'PBKDF2 parameters are malformed');
  let k = 2;
  let keyLength: number | undefined;
  if (kp[k]?.tag === 0x02) keyLength = readSmallInteger(kdf.params, kp[k++]!);
  const prf = kp[k] ? readAlgId(kdf.params, kp[k]!).oid : OID.hmacSha1;
  const enc = readAlgId(buf, encT);
  if (!enc.params) throw new Pkcs12Failure('malformed', 'PBES2 cipher IV is missing');
  const ivT = readTlv(enc.params, 0);
  if (ivT.tag !== 0x04) throw new Pkcs12Failure('unsupported', `unsupported cipher parameters for ${enc.oid}`);
  return {
    salt: content(kdf.params, salt),
    iterations: checkIterations(readSmallInteger(kdf.params, iter)),
    keyLength,
    prf,
    cipher: enc.oid,
    iv: content(enc.params, ivT),
  };
}

function decipher(name: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  try {
    const d = createDecipheriv(name, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new Pkcs12Failure('password', 'decryption failed (wrong password?)');
  }
}

/** Decrypts PKCS#12 PBE or PBES2 data. */
function decrypt(alg: AlgorithmIdentifier, data: Buffer, password: string): Buffer {
  switch (alg.algorithm) {
    case OID.pbeSha3Des:
    case OID.pbeSha2Des: {
      const { salt, iterations } = parsePbeParams(alg.parameters ?? undefined);
      const pw = bmpPassword(password);
      const key = pkcs12Kdf(OID.sha1, pw, salt, 1, iterations, 24);
      if (alg.algorithm === OID.pbeSha2Des) key.copy(key, 16, 0, 8);
      const iv = pkcs12Kdf(OID.sha1, pw, salt, 2, iterations, 8);
      return decipher('des-ede3-cbc', key, iv, data);
    }
    case OID.pbes2: {
      const p = parsePbes2(alg.parameters);
      const prf = HMAC_PRF[p.prf];
      if (!prf) throw new Pkcs12Failure('unsupported', `unsupported PBKDF2 PRF ${p.prf}`);
      const cipher = CIPHERS[p.cipher];
      if (!cipher) throw new Pkcs12Failure('unsupported', `unsupported PBES2 cipher ${p.cipher}`);
      const key = pbkdf2Sync(Buffer.from(password, 'utf8'), p.salt, p.iterations, p.keyLength ?? cipher.keyLen, prf);
      return decipher(cipher.name, key, p.iv, data);
    }
    case OID.pbeShaRc2_40:
    case OID.pbeShaRc2_128: {
      // OpenSSL 1.x's default for the certificates; Node's OpenSSL 3 has no RC2, see rc2.ts.
      const { salt, iterations } = parsePbeParams(alg.parameters ?? undefined);
      const pw = bmpPassword(password);
      const bits = alg.algorithm === OID.pbeShaRc2_40 ? 40 : 128;
      const key = pkcs12Kdf(OID.sha1, pw, salt, 1, iterations, bits / 8);
      const iv = pkcs12Kdf(OID.sha1, pw, salt, 2, iterations, 8);
      try {
        return rc2CbcDecrypt(key, bits, iv, data);
      } catch {
        throw new Pkcs12Failure('password', 'decryption failed (wrong password?)');
      }
    }
    default:
      throw new Pkcs12Failure('unsupported', `unsupported encryption algorithm ${alg.algorithm}`);
  }
}

export interface Pkcs12Contents {
  /** DER certificates in file order, with their localKeyId when present. */
  readonly certificates: { der: Buffer; localKeyId?: Buffer }[];
  readonly keys: { key: KeyObject; localKeyId?: Buffer }[];
}

function localKeyId(attrs: PKCS12Attribute[] | undefined): Buffer | undefined {
  const a = attrs?.find((x) => x.attrId === OID.localKeyId);
  const v = a?.attrValues[0];
  if (!v) return undefined;
  try {
    return Buffer.from(AsnConvert.parse(v, OctetString).buffer);
  } catch {
    return undefined;
  }
}

function verifyMac(pfx: PFX, authSafeData: Buffer, password: string): void {
  const mac = pfx.macData;
  const h = HASHES[mac.mac.digestAlgorithm.algorithm];
  if (!h) throw new Pkcs12Failure('unsupported', `unsupported MAC digest ${mac.mac.digestAlgorithm.algorithm}`);
  const salt = Buffer.from(mac.macSalt.buffer);
  const iterations = checkIterations(mac.iterations ?? 1);
  const expected = Buffer.from(mac.mac.digest.buffer);
  const candidates: (string | null)[] = password === '' ? ['', null] : [password];
  for (const pw of candidates) {
    const key = pkcs12Kdf(mac.mac.digestAlgorithm.algorithm, bmpPassword(pw), salt, 3, iterations, h.u);
    const got = createHmac(h.name, key).update(authSafeData).digest();
    if (got.length === expected.length && timingSafeEqual(got, expected)) return;
  }
  throw new Pkcs12Failure('password', password === '' ? 'the file is password-protected and no password was given' : 'the password is wrong (the MAC does not verify)');
}

function parseBags(bags: SafeContents, password: string, out: Pkcs12Contents): void {
  for (const bag of bags) {
    const id = localKeyId(bag.bagAttributes);
    if (bag.bagId === OID.certBag) {
      const cb = AsnConvert.parse(bag.bagValue, CertBag);
      if (cb.certId !== OID.x509Certificate) continue;
      const der = Buffer.from(AsnConvert.parse(cb.certValue, OctetString).buffer);
      out.certificates.push(id ? { der, localKeyId: id } : { der });
    } else if (bag.bagId === OID.shroudedKeyBag) {
      const epki = AsnConvert.parse(bag.bagValue, EncryptedPrivateKeyInfo);
      const plain = decrypt(epki.encryptionAlgorithm, Buffer.from(epki.encryptedData.buffer), password);
      let key: KeyObject;
      try {
        key = createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
      } catch {
        throw new Pkcs12Failure('password', 'the private key does not decrypt to a PKCS#8 key (wrong password?)');
      }
      out.keys.push(id ? { key, localKeyId: id } : { key });
    } else if (bag.bagId === OID.keyBag) {
      const key = createPrivateKey({ key: Buffer.from(bag.bagValue), format: 'der', type: 'pkcs8' });
      out.keys.push(id ? { key, localKeyId: id } : { key });
    }
  }
}

/** Reads a PFX; throws Pkcs12Failure with kind password | malformed | unsupported. */
export function readPkcs12(data: Buffer, password: string): Pkcs12Contents {
  let pfx: PFX;
  try {
    pfx = AsnConvert.parse(data, PFX);
  } catch (e) {
    throw new Pkcs12Failure('malformed', `truncated or not a PKCS#12 structure (${(e as Error).message})`);
  }
  if (pfx.version !== 3) throw new Pkcs12Failure('unsupported', `PKCS#12 version ${pfx.version} (only 3 exists)`);
  if (pfx.authSafe.contentType !== id_data) throw new Pkcs12Failure('unsupported', 'public-key integrity mode (signed PFX) is not supported');
  const authSafeData = Buffer.from(AsnConvert.parse(pfx.authSafe.content, OctetString).buffer);
  if (pfx.macData) verifyMac(pfx, authSafeData, password);
  const out: Pkcs12Contents = { certificates: [], keys: [] };
  const safe = AsnConvert.parse(authSafeData, AuthenticatedSafe);
  for (const ci of safe) {
    if (ci.contentType === id_data) {
      const bytes = Buffer.from(AsnConvert.parse(ci.content, OctetString).buffer);
      parseBags(AsnConvert.parse(bytes, SafeContents), password, out);
    } else if (ci.contentType === id_encryptedData) {
      // EncryptedData ::= SEQUENCE { version, encryptedContentInfo, [1] unprotectedAttrs OPTIONAL }
      const edBuf = Buffer.from(ci.content);
      const eciT = children(edBuf, readTlv(edBuf, 0))[1];
      if (!eciT) throw new Pkcs12Failure('malformed', 'EncryptedData without content');
      const eci = AsnConvert.parse(slice(edBuf, eciT), EncryptedContentInfo);
      const enc = eci.encryptedContent;
      const bytes = enc?.value ? Buffer.from(enc.value.buffer) : enc?.constructedValue ? Buffer.concat(enc.constructedValue.map((o) => Buffer.from(o.buffer))) : undefined;
      if (!bytes) throw new Pkcs12Failure('malformed', 'encrypted content is missing');
      const plain = decrypt(eci.contentEncryptionAlgorithm, bytes, password);
      let contents: SafeContents;
      try {
        contents = AsnConvert.parse(plain, SafeContents);
      } catch {
        throw new Pkcs12Failure('password', 'the certificates do not decrypt (wrong password?)');
      }
      parseBags(contents, password, out);
    } else {
      throw new Pkcs12Failure('unsupported', `content type ${ci.contentType} (public-key privacy mode) is not supported`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing: what `openssl pkcs12 -export` (OpenSSL 3) writes: PBES2 with PBKDF2-HMAC-SHA256 and
// AES-256-CBC for the key and the certificates, HMAC-SHA256 MAC, 2048 iterations.

const ITERATIONS = 2048;

function pbes2Encrypt(plain: Buffer, password: string): { alg: Buffer; data: Buffer } {
  const salt = randomBytes(8);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const data = Buffer.concat([c.update(plain), c.final()]);
  const params = seq(
    seq(oid(OID.pbkdf2), seq(octets(salt), integer(ITERATIONS), seq(oid(OID.hmacSha256), nullValue()))),
    seq(oid(OID.aes256cbc), octets(iv)),
  );
  return { alg: seq(oid(OID.pbes2), params), data };
}

function bagAttributes(keyId: Buffer | undefined, friendlyName: string | undefined): Buffer[] {
  const out: Buffer[] = [];
  if (friendlyName !== undefined) {
    const bmp = Buffer.alloc(friendlyName.length * 2);
    for (let i = 0; i < friendlyName.length; i++) bmp.writeUInt16BE(friendlyName.charCodeAt(i), i * 2);
    out.push(seq(oid(OID.friendlyName), tlv(0x31, tlv(0x1e, bmp))));
  }
  if (keyId) out.push(seq(oid(OID.localKeyId), tlv(0x31, octets(keyId))));
  return out.length ? [tlv(0x31, ...out)] : [];
}

/** SafeBag ::= SEQUENCE { bagId, [0] EXPLICIT bagValue, bagAttributes SET OF OPTIONAL } */
function safeBag(bagId: string, value: Buffer, attributes: Buffer[]): Buffer {
  return seq(oid(bagId), tlv(0xa0, value), ...attributes);
}

/** ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content } */
function contentInfo(type: string, value: Buffer): Buffer {
  return seq(oid(type), tlv(0xa0, value));
}

/** A PFX with the key (when given) and the certificates, the first certificate being the key's. */
export function writePkcs12(certificates: readonly Buffer[], privateKey: KeyObject | undefined, password: string, friendlyName?: string): Buffer {
  const keyId = privateKey ? createHash('sha1').update(certificates[0]!).digest() : undefined;
  const certBags = seq(
    ...certificates.map((der, i) =>
      safeBag(OID.certBag, seq(oid(OID.x509Certificate), tlv(0xa0, octets(der))), i === 0 ? bagAttributes(keyId, friendlyName) : []),
    ),
  );
  const encCerts = pbes2Encrypt(certBags, password);
  // EncryptedData ::= SEQUENCE { version 0, EncryptedContentInfo { data, alg, [0] IMPLICIT OCTET STRING } }
  const encryptedData = seq(integer(0), seq(oid(id_data), encCerts.alg, tlv(0x80, encCerts.data)));
  const contents: Buffer[] = [contentInfo(id_encryptedData, encryptedData)];
  if (privateKey) {
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const enc = pbes2Encrypt(pkcs8, password);
    const epki = seq(enc.alg, octets(enc.data));
    contents.push(contentInfo(id_data, octets(seq(safeBag(OID.shroudedKeyBag, epki, bagAttributes(keyId, friendlyName))))));
  }
  const authSafe = seq(...contents);
  const macSalt = randomBytes(8);
  const macKey = pkcs12Kdf(OID.sha256, bmpPassword(password), macSalt, 3, ITERATIONS, 32);
  const digest = createHmac('sha256', macKey).update(authSafe).digest();
  const macData = seq(seq(seq(oid(OID.sha256), nullValue()), octets(digest)), octets(macSalt), integer(ITERATIONS));
  return seq(integer(3), contentInfo(id_data, octets(authSafe)), macData);
}
