/**
 * Certificates in every form users have: PEM (one or more blocks), base64 without markers, DER,
 * URL-escaped PEM (X-ARR-ClientCert / $ssl_client_escaped_cert), and PKCS#12/PFX.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { GatehouseError } from '../core/errors.js';
import { certificateFromDer, type ParsedCertificate } from './certificate.js';
import { readTlv } from './der.js';
import type { Certificate, CertificateFormat, LoadedMaterial, LoadOptions } from './index.js';
import { Pkcs12Failure, readPkcs12 } from './pkcs12.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);
const BASE64 = /^[A-Za-z0-9+/=\s]+$/;

interface Decoded {
  format: CertificateFormat;
  /** DER blobs of certificates, or the PKCS#12 bytes. */
  blobs: Buffer[];
  keyPems: string[];
}

function unrecognised(origin: string, why: string): GatehouseError {
  return new GatehouseError('GH_PKI_UNRECOGNISED_FORMAT', `${origin}: not a certificate in any supported form (PEM, base64, DER, URL-escaped PEM, PKCS#12): ${why}`);
}

function strictBase64(text: string, origin: string, what: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) throw unrecognised(origin, `${what} is not valid base64`);
  return Buffer.from(clean, 'base64');
}

/** A PFX is SEQUENCE { INTEGER 3, ... }; a certificate is SEQUENCE { SEQUENCE ... }. */
function looksLikePkcs12(der: Buffer): boolean {
  try {
    const top = readTlv(der, 0, der.length);
    if (top.tag !== 0x30) return false;
    const first = readTlv(der, top.contentStart, top.end);
    return first.tag === 0x02;
  } catch {
    // A truncated PFX still starts with 30 xx 02 01 03.
    return der.length > 4 && der[0] === 0x30 && /^\x02\x01\x03/.test(der.subarray(der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2, (der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2) + 3).toString('latin1'));
  }
}

function decodeText(text: string, origin: string): Decoded {
  let t = text.replace(/^\uFEFF/, '');
  if (/-----BEGIN%20|%0A|%2F|%2B|%3D/i.test(t) && !t.includes('-----BEGIN ')) {
    try {
      t = decodeURIComponent(t.trim());
    } catch {
      throw unrecognised(origin, 'the URL-escaped PEM has an invalid %-escape');
    }
    const d = decodePem(t, origin);
    return { ...d, format: 'escaped-pem' };
  }
  if (t.includes('-----BEGIN')) return decodePem(t, origin);
  const trimmed = t.trim();
  if (trimmed === '') throw unrecognised(origin, 'the input is empty');
  if (BASE64.test(trimmed)) {
    const der = strictBase64(trimmed, origin, 'the text');
    if (der.length === 0 || der[0] !== 0x30) throw unrecognised(origin, 'the base64 text does not decode to DER (an ASN.1 SEQUENCE)');
    return { format: looksLikePkcs12(der) ? 'pkcs12' : 'base64', blobs: [der], keyPems: [] };
  }
  throw unrecognised(origin, `it starts with '${trimmed.slice(0, 24).replace(/[^\x20-\x7e]/g, '?')}'`);
}

function decodePem(text: string, origin: string): Decoded {
  const blobs: Buffer[] = [];
  const keyPems: string[] = [];
  let sawPkcs12 = false;
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1]!;
    if (CERT_LABELS.has(label)) {
      const body = m[2]!.replace(/^[A-Za-z-]+:.*$/gm, '');
      blobs.push(strictBase64(body, origin, `the PEM block ${blobs.length + 1}`));
    } else if (KEY_LABELS.has(label)) keyPems.push(m[0]);
    else if (label === 'PKCS12') {
      sawPkcs12 = true;
      blobs.push(strictBase64(m[2]!, origin, 'the PKCS12 PEM block'));
    }
  }
  if (sawPkcs12) return { format: 'pkcs12', blobs: blobs.slice(-1), keyPems };
  if (blobs.length === 0) {
    const begins = (text.match(/-----BEGIN [^-]*-----/g) ?? []).length;
    const ends = (text.match(/-----END [^-]*-----/g) ?? []).length;
    if (begins > ends) throw new GatehouseError('GH_PKI_TRUNCATED', `${origin}: the PEM block has no END marker (truncated file?)`);
    throw unrecognised(origin, keyPems.length ? 'the PEM holds a private key but no CERTIFICATE block' : 'no CERTIFICATE block in the PEM');
  }
  return { format: 'pem', blobs, keyPems };
}

function decode(data: Uint8Array | string, origin: string): Decoded {
  if (typeof data === 'string') return decodeText(data, origin);
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length === 0) throw unrecognised(origin, 'the input is empty');
  if (buf[0] === 0x30) return { format: looksLikePkcs12(buf) ? 'pkcs12' : 'der', blobs: [buf], keyPems: [] };
  // Text: PEM, base64, escaped PEM: UTF-8 (maybe with a BOM), or UTF-16 with a BOM as Windows
  // PowerShell 5's Out-File writes it.
  let text: string;
  if (buf[0] === 0xff && buf[1] === 0xfe) text = buf.subarray(2).toString('utf16le');
  else if (buf[0] === 0xfe && buf[1] === 0xff) text = Buffer.from(buf.subarray(2)).swap16().toString('utf16le');
  else text = buf.toString('utf8');
  if (/[\0-\x08\x0e-\x1f]/.test(text.slice(0, 512))) throw unrecognised(origin, `binary data that is not DER (first byte 0x${buf[0]!.toString(16).padStart(2, '0')})`);
  return decodeText(text, origin);
}

function toCertificates(blobs: Buffer[], origin: string): ParsedCertificate[] {
  return blobs.map((der, i) => certificateFromDer(der, blobs.length > 1 ? `${origin} (certificate ${i + 1})` : origin));
}

/** Parses PEM (one or more blocks), base64 without markers, DER, or URL-escaped PEM. Synchronous; no PKCS#12. */
export function parseCertificates(data: Uint8Array | string, options: LoadOptions): Certificate[] {
  const d = decode(data, options.origin);
  if (d.format === 'pkcs12') {
    throw new GatehouseError('GH_PKI_UNRECOGNISED_FORMAT', `${options.origin}: this is a PKCS#12/PFX file; load it with a password (loadCertificates), not as a plain certificate`);
  }
  return toCertificates(d.blobs, options.origin);
}

function pfxError(origin: string, e: unknown): GatehouseError {
  if (e instanceof Pkcs12Failure) {
    const code = e.kind === 'password' ? 'GH_PKI_PFX_PASSWORD' : e.kind === 'unsupported' ? 'GH_PKI_PFX_UNSUPPORTED' : 'GH_PKI_PFX_MALFORMED';
    return new GatehouseError(code, `${origin}: PKCS#12/PFX: ${e.message}`, { cause: e });
  }
  if (e instanceof GatehouseError) return e;
  return new GatehouseError('GH_PKI_PFX_MALFORMED', `${origin}: PKCS#12/PFX is truncated or malformed: ${(e as Error).message}`, { cause: e });
}

function sameKey(cert: ParsedCertificate, key: KeyObject): boolean {
  const pub = cert.publicKey;
  if (!pub) return false;
  try {
    const a = pub.export({ format: 'der', type: 'spki' });
    const b = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return a.equals(b);
  } catch {
    return false;
  }
}

/** Orders certificates: the one with the key first, then its issuers leaf-side first, then the rest. */
function orderChain(certs: ParsedCertificate[], first: ParsedCertificate | undefined): ParsedCertificate[] {
  if (!first) return certs;
  const out = [first];
  const rest = certs.filter((c) => c !== first);
  let cur = first;
  for (let guard = 0; guard < certs.length && !cur.isSelfIssued; guard++) {
    const idx = rest.findIndex((c) => c.subjectDer.equals(cur.issuerDer));
    if (idx < 0) break;
    cur = rest.splice(idx, 1)[0]!;
    out.push(cur);
  }
  return [...out, ...rest];
}

/** Everything parseCertificates takes, plus PKCS#12/PFX (Windows 3DES/SHA-1 and OpenSSL 3 AES/PBKDF2). */
export async function loadCertificates(data: Uint8Array | string, options: LoadOptions): Promise<LoadedMaterial> {
  const { origin } = options;
  const d = decode(data, origin);
  if (d.format !== 'pkcs12') {
    const certificates = toCertificates(d.blobs, origin);
    const keyPem = d.keyPems[0];
    if (keyPem === undefined) return { format: d.format, certificates };
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(keyPem);
    } catch (e) {
      throw new GatehouseError('GH_PKI_MALFORMED_CERTIFICATE', `${origin}: the private key in the PEM does not decode: ${(e as Error).message}`, { cause: e });
    }
    if (!certificates.some((c) => sameKey(c, privateKey))) {
      throw new GatehouseError('GH_PKI_KEY_MISMATCH', `${origin}: the private key in the PEM belongs to none of its certificates`);
    }
    const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    return { format: d.format, certificates, privateKey, privateKeyPem };
  }
  let contents;
  try {
    contents = readPkcs12(d.blobs[0]!, options.password ?? '');
  } catch (e) {
    throw pfxError(origin, e);
  }
  const certificates = toCertificates(
    contents.certificates.map((c) => c.der),
    origin,
  );
  const key = contents.keys[0];
  if (!key) return { format: 'pkcs12', certificates };
  let owner: ParsedCertificate | undefined;
  if (key.localKeyId) {
    const i = contents.certificates.findIndex((c) => c.localKeyId?.equals(key.localKeyId!));
    if (i >= 0) owner = certificates[i];
  }
  owner ??= certificates.find((c) => sameKey(c, key.key));
  const privateKeyPem = key.key.export({ format: 'pem', type: 'pkcs8' }) as string;
  return { format: 'pkcs12', certificates: orderChain(certificates, owner), privateKey: key.key, privateKeyPem };
}

