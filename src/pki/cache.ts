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

export class CertificateCache {
  private readonly map = new Map<string, ParsedCertificate>();
  private hitCount = 0;
  /** The certificate returned last: a returning client usually asks again (one memcmp, no key string). */
  private last: ParsedCertificate | undefined;
  private missCount = 0;

  constructor(readonly max = 1024) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`CertificateCache max must be a positive integer, got ${max}`);
  }

  /**
   * The certificate for these DER bytes: the cached one when the same bytes were seen before,
   * otherwise certificateFromDer on a private copy (the caller may reuse its buffer). Throws as
   * certificateFromDer does; failures are not cached.
   */
  fromDer(der: Uint8Array, origin = 'certificate'): ParsedCertificate {
    const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const last = this.last;
    if (last && last.der.length === buf.length && last.der.equals(buf)) {
      this.hitCount++;
      return last;
    }
    // latin1 maps each byte to one char: a cheap exact key (measured in bench/micro.ts).
    const key = buf.toString('latin1');
    const hit = this.map.get(key);
    if (hit) {
      this.hitCount++;
      // Refresh recency (Map iterates in insertion order; the first key is the least recent).
      this.map.delete(key);
      this.map.set(key, hit);
      this.last = hit;
      return hit;
    }
    this.missCount++;
    const cert = certificateFromDer(Buffer.from(buf), origin);
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, cert);
    this.last = cert;
    return cert;
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
    this.last = undefined;
  }
}
