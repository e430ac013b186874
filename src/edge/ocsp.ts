/**
 * verifyClientRevocation: OCSP (spec 1.5). The responder comes from the client certificate's
 * Authority Information Access extension; the answer is cached until its nextUpdate. A certificate
 * that is revoked, unknown to the responder, has no responder, or whose responder cannot be
 * reached fails (Azure answers 400 in all these cases).
 *
 * OCSP encoding and signature checks use pkijs (installed, made for this) with an explicit crypto
 * engine per checker: no global engine is set.
 */
import http from 'node:http';
import https from 'node:https';
import { createHash, verify as cryptoVerify, webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import * as asn1js from 'asn1js';
import type { Certificate } from '../pki/index.js';

export type OcspStatus = 'good' | 'revoked' | 'unknown' | 'no-responder' | 'error';

export interface OcspResult {
  readonly status: OcspStatus;
  /** OpenSSL-style text for sslClientVerify. */
  readonly detail: string;
}

const ID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
const ID_PE_AIA = '1.3.6.1.5.5.7.1.1';

export class OcspChecker {
  private readonly engine: pkijs.ICryptoEngine;
  private readonly cache = new Map<string, { result: OcspResult; until: number }>();
  private readonly inflight = new Map<string, Promise<OcspResult>>();
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: { timeoutMs?: number; now?: () => number } = {}) {
    this.engine = new pkijs.CryptoEngine({ name: 'gatehouse-node', crypto: webcrypto as never });
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** A cached answer that is still fresh, or undefined. */
  cached(leaf: Certificate): OcspResult | undefined {
    const e = this.cache.get(leaf.sha256);
    return e && e.until > this.now() ? e.result : undefined;
  }

  /** Asks the responder (once per certificate at a time) and caches the answer. */
  check(leaf: Certificate, issuer: Certificate): Promise<OcspResult> {
    const hit = this.cached(leaf);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(leaf.sha256);
    if (!p) {
      p = this.query(leaf, issuer).finally(() => this.inflight.delete(leaf.sha256));
      this.inflight.set(leaf.sha256, p);
    }
    return p;
  }

  private async query(leaf: Certificate, issuer: Certificate): Promise<OcspResult> {
    let leafP: pkijs.Certificate;
    let issuerP: pkijs.Certificate;
    try {
      leafP = pkijs.Certificate.fromBER(leaf.der);
      issuerP = pkijs.Certificate.fromBER(issuer.der);
    } catch (e) {
      return { status: 'error', detail: `certificate not readable for OCSP: ${(e as Error).message}` };
    }
    const url = responderUrl(leafP);
    if (!url) return { status: 'no-responder', detail: 'OCSP responder URL not found in the certificate' };
    try {
      const req = new pkijs.OCSPRequest();
      await req.createForCertificate(leafP, { hashAlgorithm: 'SHA-1', issuerCertificate: issuerP }, this.engine);
      const body = Buffer.from(req.toSchema(true).toBER(false));
      const answer = await post(url, body, this.timeoutMs);
      const resp = pkijs.OCSPResponse.fromBER(answer);
      if (resp.responseStatus.valueBlock.valueDec !== 0 || !resp.responseBytes) {
        return { status: 'error', detail: `OCSP responder answered status ${resp.responseStatus.valueBlock.valueDec}` };
      }
      const basic = pkijs.BasicOCSPResponse.fromBER(resp.responseBytes.response.valueBlock.valueHexView);
      // RFC 6960 4.2.2.2: signed by the issuing CA itself, or by a delegated responder whose
      // certificate is attached and issued by that CA.
      const signed = basic.certs && basic.certs.length > 0 && !signedByIssuer(basic, issuer) ? await basic.verify({ trustedCerts: [issuerP] }, this.engine) : verifyWithIssuerKey(basic, issuer);
      if (!signed) return { status: 'error', detail: 'OCSP response signature is not valid' };
      const st = await basic.getCertificateStatus(leafP, issuerP, this.engine);
      if (!st.isForCertificate) return { status: 'error', detail: 'OCSP response is not for this certificate' };
      const single = basic.tbsResponseData.responses.find((r) => Buffer.from(r.certID.serialNumber.valueBlock.valueHexView).equals(Buffer.from(leafP.serialNumber.valueBlock.valueHexView)));
      const now = this.now();
      const thisUpdate = single?.thisUpdate?.getTime() ?? now;
      const nextUpdate = single?.nextUpdate?.getTime();
      if (thisUpdate > now + 300_000) return { status: 'error', detail: 'OCSP response is not yet valid' };
      if (nextUpdate !== undefined && nextUpdate < now - 300_000) return { status: 'error', detail: 'OCSP response has expired' };
      const result: OcspResult = st.status === 0 ? { status: 'good', detail: 'good' } : st.status === 1 ? { status: 'revoked', detail: 'certificate revoked' } : { status: 'unknown', detail: 'certificate status unknown' };
      // Cache until nextUpdate (at most a day; without nextUpdate, five minutes).
      this.cache.set(leaf.sha256, { result, until: Math.min(nextUpdate ?? now + 300_000, now + 86_400_000) });
      return result;
    } catch (e) {
      return { status: 'error', detail: `OCSP responder ${url} failed: ${(e as Error).message}` };
    }
  }
}

const SIG_HASH: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

function signedByIssuer(basic: pkijs.BasicOCSPResponse, issuer: Certificate): boolean {
  const id = basic.tbsResponseData.responderID;
  if (id instanceof asn1js.OctetString) {
    const spki = issuer.x509.publicKey.export({ type: 'spki', format: 'der' });
    const keyBits = (asn1js.fromBER(spki).result as asn1js.Sequence).valueBlock.value[1] as asn1js.BitString;
    return Buffer.from(id.valueBlock.valueHexView).equals(createHash('sha1').update(keyBits.valueBlock.valueHexView).digest());
  }
  return Buffer.from((id as pkijs.RelativeDistinguishedNames).toSchema().toBER(false)).equals(Buffer.from(pkijs.Certificate.fromBER(issuer.der).subject.toSchema().toBER(false)));
}

/** The response signature checked with the issuing CA's own key. */
function verifyWithIssuerKey(basic: pkijs.BasicOCSPResponse, issuer: Certificate): boolean {
  if (!signedByIssuer(basic, issuer)) return false;
  const hash = SIG_HASH[basic.signatureAlgorithm.algorithmId];
  if (!hash) return false;
  const tbs = basic.tbsResponseData.tbsView;
  return cryptoVerify(hash, tbs, issuer.x509.publicKey, Buffer.from(basic.signature.valueBlock.valueHexView));
}

/** The first http(s) OCSP URL of the Authority Information Access extension. */
function responderUrl(cert: pkijs.Certificate): string | undefined {
  const ext = cert.extensions?.find((e) => e.extnID === ID_PE_AIA);
  if (!ext) return undefined;
  const aia = (ext.parsedValue as pkijs.InfoAccess | undefined) ?? new pkijs.InfoAccess({ schema: asn1js.fromBER(ext.extnValue.valueBlock.valueHexView).result });
  for (const d of aia.accessDescriptions) {
    if (d.accessMethod === ID_AD_OCSP && d.accessLocation.type === 6 && typeof d.accessLocation.value === 'string' && /^https?:\/\//i.test(d.accessLocation.value)) return d.accessLocation.value;
  }
  return undefined;
}

function post(url: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? https : http).request(
      u,
      { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request', 'Content-Length': body.length, Accept: 'application/ocsp-response' }, timeout: timeoutMs, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1_000_000) req.destroy(new Error('response too large'));
          else chunks.push(c);
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

