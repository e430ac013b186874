/**
 * A bounded cache of parsed certificates keyed by their DER bytes, so that the same certificate
 * seen again (the client certificate a gateway forwards in a header on every request) is the
 * same Certificate object: its lazily computed values (PEM, public key) and chain.ts's per-object
 * signature results are reused, which makes verifyChain of a returning certificate cheap.
 *
 * It is a value its owner creates (one per API Management service, see src/apim/gateway.ts), not
 * module state. Bounded: least recently used entries are dropped beyond `max`.
 */
import { certificateFromDer, type ParsedCertificate } from './certificate.js';
import { verifyChain } from './chain.js';
import type { Certificate, ChainOptions, ChainResult } from './index.js';

/** A remembered chain result and what it was computed for. */
interface ChainEntry {
  readonly anchors: readonly Certificate[];
  readonly intermediates: readonly Certificate[] | undefined;
  readonly purpose: number;
  /** Validation times (whole seconds) for which the result holds: from ≤ t < until. */
  readonly from: number;
  readonly until: number;
  readonly result: ChainResult;
}

const secs = (d: Date): number => Math.floor(d.getTime() / 1000);

export class CertificateCache {
  private readonly map = new Map<string, ParsedCertificate>();
  private hitCount = 0;
  /** The certificate returned last: a returning client usually asks again (one memcmp, no key string). */
  private last: ParsedCertificate | undefined;
  private missCount = 0;
  /** Chain results by the leaf's SHA-256, least recently used first (see verifyChain). */
  private readonly chains = new Map<string, ChainEntry>();
  private chainHitCount = 0;
  private chainMissCount = 0;

  constructor(readonly max = 1024) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`CertificateCache max must be a positive integer, got ${max}`);
  }

  /**
   * The certificate for these DER bytes: the cached one when the same bytes were seen before,
   * otherwise certificateFromDer on a private copy (the caller may reuse its buffer). Throws as
   * certificateFromDer does; failures are not cached.
   */
  fromDer(der: Uint8Array, origin = 'certificate'): ParsedCertificate {
    return this.lookup(der, origin, true);
  }

  /** fromDer; `count` false for the cache's own lookups, which are not the caller's hits and misses. */
  private lookup(der: Uint8Array, origin: string, count: boolean): ParsedCertificate {
    const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const last = this.last;
    if (last && last.der.length === buf.length && last.der.equals(buf)) {
      if (count) this.hitCount++;
      return last;
    }
    // latin1 maps each byte to one char: a cheap exact key (measured in bench/micro.ts).
    const key = buf.toString('latin1');
    const hit = this.map.get(key);
    if (hit) {
      if (count) this.hitCount++;
      // Refresh recency (Map iterates in insertion order; the first key is the least recent).
      this.map.delete(key);
      this.map.set(key, hit);
      this.last = hit;
      return hit;
    }
    if (count) this.missCount++;
    const cert = certificateFromDer(Buffer.from(buf), origin);
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, cert);
    this.last = cert;
    return cert;
  }

  /**
   * verifyChain(leaf, options), remembered. verifyChain reads the time only to ask which
   * certificates are inside their validity (in whole seconds), so its answer for a leaf stays the
   * same for the same trust store (the same anchors and intermediates arrays, as one deployment
   * passes on every call), the same purpose, and any time between the same two validity
   * boundaries (a notBefore, or the second after a notAfter) of the leaf and the store's
   * certificates. Such a repeated call costs a map lookup instead of a path search. The leaf is
   * first replaced by the cached Certificate for its DER, so a miss for a returning certificate
   * (on a new connection, say) reuses its signature results. Only ChainOptions are honoured.
   * A remembered failure's reasons name the time of the call that computed it.
   */
  verifyChain(leaf: Certificate, options: ChainOptions): ChainResult {
    const at = options.at ?? new Date();
    const t = secs(at);
    const purpose = (options.requireClientAuth ? 1 : 0) | (options.requireServerAuth ? 2 : 0);
    const key = leaf.sha256;
    const hit = this.chains.get(key);
    if (hit && hit.anchors === options.anchors && hit.intermediates === options.intermediates && hit.purpose === purpose && hit.from <= t && t < hit.until) {
      this.chainHitCount++;
      this.chains.delete(key);
      this.chains.set(key, hit);
      return hit.result;
    }
    this.chainMissCount++;
    const canonical = this.lookup(leaf.der, 'certificate', false);
    const result = verifyChain(canonical, {
      anchors: options.anchors,
      ...(options.intermediates ? { intermediates: options.intermediates } : {}),
      at,
      ...(options.requireClientAuth ? { requireClientAuth: true } : {}),
      ...(options.requireServerAuth ? { requireServerAuth: true } : {}),
    });
    let from = Number.NEGATIVE_INFINITY;
    let until = Number.POSITIVE_INFINITY;
    const bound = (c: Certificate): void => {
      for (const b of [secs(c.notBefore), secs(c.notAfter) + 1]) {
        if (b <= t) from = Math.max(from, b);
        else until = Math.min(until, b);
      }
    };
    bound(leaf);
    for (const c of options.anchors) bound(c);
    for (const c of options.intermediates ?? []) bound(c);
    this.chains.delete(key);
    if (this.chains.size >= this.max) {
      const oldest = this.chains.keys().next();
      if (!oldest.done) this.chains.delete(oldest.value);
    }
    this.chains.set(key, { anchors: options.anchors, intermediates: options.intermediates, purpose, from, until, result });
    return result;
  }

  /** verifyChain calls answered from remembered results, and calls that searched a path. */
  chainStats(): { hits: number; misses: number; size: number } {
    return { hits: this.chainHitCount, misses: this.chainMissCount, size: this.chains.size };
  }

  get size(): number {
    return this.map.size;
  }

  /** Lookups answered from the cache and lookups that parsed, since creation. */
  stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hitCount, misses: this.missCount, size: this.map.size };
  }

  clear(): void {
    this.map.clear();
    this.chains.clear();
    this.last = undefined;
  }
}
