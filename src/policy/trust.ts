/**
 * Chain building for validate-client-certificate and the deployment's certificate store, on
 * src/pki's verifyChain. Results are cached by the leaf's DER hash.
 */
import { verifyChain, type Certificate } from '../pki/index.js';
import type { TrustCache, TrustResult } from './runtime.js';

/** A distinguished name as .NET-style strings compare, ignoring case, spacing and RDN order: equal names give equal strings. */
export function normalizeName(dn: string): string {
  return dn
    .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((p) => p.trim().replace(/\s*=\s*/, '=').toLowerCase())
    .filter(Boolean)
    .sort()
    .join(',');
}

/**
 * Whether `issuer` issued `child`, remembered per child object and issuer (a pure answer: names
 * and a signature check). A running service passes the certificate its CertificateCache holds for
 * the DER, so a returning client certificate is checked once, not on every request.
 */
const issuedMemo = new WeakMap<Certificate, Map<string, boolean>>();

function issued(issuer: Certificate, child: Certificate): boolean {
  let memo = issuedMemo.get(child);
  const hit = memo?.get(issuer.sha256);
  if (hit !== undefined) return hit;
  let r: boolean;
  try {
    r = child.x509.checkIssued(issuer.x509) && child.x509.verify(issuer.x509.publicKey);
  } catch {
    r = false;
  }
  if (!memo) issuedMemo.set(child, (memo = new Map()));
  if (memo.size < 64) memo.set(issuer.sha256, r);
  return r;
}

/** Builds the chain of `leaf` to one of `anchors` (using `intermediates`), checking validity at `at`. */
export function buildTrust(leaf: Certificate, anchors: readonly Certificate[], intermediates: readonly Certificate[], at: Date): TrustResult {
  const r = verifyChain(leaf, { anchors, intermediates, at });
  return { trusted: r.valid, chain: r.chain, reasons: r.reasons };
}

/** A bounded cache keyed by the DER's SHA-256: cleared when full. */
export function createTrustCache(max = 1024): TrustCache {
  const map = new Map<string, TrustResult>();
  return {
    get: (k) => map.get(k),
    set(k, v) {
      if (map.size >= max) map.clear();
      map.set(k, v);
    },
  };
}

/**
 * The leaf's trust, from the cache or built now. Inside the leaf's validity the chain is checked
 * at `now` and cached by the DER hash for as long as the answer cannot change: until `now` crosses
 * a validity boundary (a notBefore, or the second after a notAfter) of the leaf or a certificate of
 * the store, the only way the time enters the check. Outside it (only reached when the policy does
 * not check the leaf's dates) it is checked in the middle of the leaf's validity, so that the
 * leaf's own dates do not make it untrusted; that answer does not depend on `now` and is cached too.
 */
export function trustOf(leaf: Certificate, anchors: readonly Certificate[], intermediates: readonly Certificate[], cache: TrustCache | undefined, now: Date): TrustResult {
  const t = now.getTime();
  const inside = t >= leaf.notBefore.getTime() && t <= leaf.notAfter.getTime();
  const key = inside ? leaf.sha256 : `${leaf.sha256}:outside`;
  const hit = cache?.get(key);
  if (hit && (hit.validFrom === undefined || t >= hit.validFrom) && (hit.validUntil === undefined || t <= hit.validUntil)) return hit;
  const at = inside ? now : new Date((leaf.notBefore.getTime() + leaf.notAfter.getTime()) / 2);
  const r = buildTrust(leaf, anchors, intermediates, at);
  if (!inside) {
    cache?.set(key, r);
    return r;
  }
  // verifyChain compares validity in whole seconds.
  const s = Math.floor(t / 1000);
  let from = Number.NEGATIVE_INFINITY;
  let until = Number.POSITIVE_INFINITY;
  for (const c of [leaf, ...anchors, ...intermediates]) {
    for (const b of [Math.floor(c.notBefore.getTime() / 1000), Math.floor(c.notAfter.getTime() / 1000) + 1]) {
      if (b <= s) from = Math.max(from, b);
      else until = Math.min(until, b);
    }
  }
  const cached: TrustResult = { ...r, validFrom: from * 1000, validUntil: until * 1000 - 1 };
  cache?.set(key, cached);
  return cached;
}

/** The certificate that issued `leaf`, among the candidates (for issuer-thumbprint and issuer-certificate-id). */
export function findIssuer(leaf: Certificate, candidates: readonly Certificate[]): Certificate | undefined {
  return candidates.find((c) => c.sha256 !== leaf.sha256 && issued(c, leaf));
}

export function isIssuedBy(leaf: Certificate, issuer: Certificate): boolean {
  return issued(issuer, leaf);
}
