/**
 * In-memory counters (one store per gateway instance): sliding windows for rate-limit and
 * rate-limit-by-key, fixed-period counters for quota and quota-by-key.
 */
import type { RateLimitStore } from '../policy/runtime.js';

interface Window {
  /** Times in ms at which calls were counted, oldest first (one entry per hit, not per call). */
  readonly times: number[];
  /** Calls counted at each of `times` (increment-count). */
  readonly counts: number[];
  /** The sum of `counts`. */
  total: number;
  periodMs: number;
}

/** A quota counter: the calls counted in the fixed period that ends at `periodEnd`. */
interface Counter {
  periodEnd: number;
  calls: number;
}

export class MemoryRateLimitStore implements RateLimitStore {
  /** In least-recently-used order: a hit moves its key to the end. */
  private readonly windows = new Map<string, Window>();
  /** Quota counters, in least-recently-used order like `windows`. */
  private readonly counters = new Map<string, Counter>();
  private readonly maxKeys: number;

  constructor(maxKeys = 100_000) {
    this.maxKeys = maxKeys;
  }

  /** Keys held: sliding windows and quota counters. */
  get size(): number {
    return this.windows.size + this.counters.size;
  }

  count(key: string, limit: number, periodEnd: number, amount: number, now: number): { allowed: boolean; remaining: number } {
    let c = this.counters.get(key);
    if (c) {
      this.counters.delete(key);
      this.counters.set(key, c);
      // A call for another period (the next one, or a changed renewal-period) starts from zero.
      if (c.periodEnd !== periodEnd) {
        c.periodEnd = periodEnd;
        c.calls = 0;
      }
    } else {
      if (this.counters.size >= this.maxKeys) this.evictCounters(now);
      c = { periodEnd, calls: 0 };
      this.counters.set(key, c);
    }
    if (c.calls + amount > limit) return { allowed: false, remaining: Math.max(0, limit - c.calls) };
    c.calls += amount;
    return { allowed: true, remaining: limit - c.calls };
  }

  /** As `evict`, for quota counters: ended periods first, then the least recently used tenth. */
  private evictCounters(now: number): void {
    for (const [k, c] of this.counters) if (c.periodEnd <= now) this.counters.delete(k);
    if (this.counters.size < this.maxKeys) return;
    let n = Math.max(1, Math.ceil(this.maxKeys / 10));
    for (const k of this.counters.keys()) {
      if (n-- <= 0) break;
      this.counters.delete(k);
    }
  }

  hit(key: string, limit: number, periodSeconds: number, amount: number, now: number): { allowed: boolean; remaining: number; retryAfterSeconds: number } {
    const periodMs = periodSeconds * 1000;
    let w = this.windows.get(key);
    if (w) {
      this.windows.delete(key);
      this.windows.set(key, w);
    } else {
      if (this.windows.size >= this.maxKeys) this.evict(now);
      w = { times: [], counts: [], total: 0, periodMs };
      this.windows.set(key, w);
    }
    w.periodMs = periodMs;
    const { times, counts } = w;
    let drop = 0;
    while (drop < times.length && times[drop]! <= now - periodMs) w.total -= counts[drop++]!;
    if (drop) {
      times.splice(0, drop);
      counts.splice(0, drop);
    }
    if (w.total + amount > limit) {
      // A slot frees up when the call that brings the count back within the limit leaves the window.
      const need = w.total + amount - limit;
      let freed = 0;
      let i = 0;
      while (i < counts.length && freed + counts[i]! < need) freed += counts[i++]!;
      const oldest = times[i] ?? now;
      return { allowed: false, remaining: Math.max(0, limit - w.total), retryAfterSeconds: Math.max(1, Math.ceil((oldest + periodMs - now) / 1000)) };
    }
    if (amount > 0) {
      const last = times.length - 1;
      if (last >= 0 && times[last] === now) counts[last]! += amount;
      else {
        times.push(now);
        counts.push(amount);
      }
      w.total += amount;
    }
    return { allowed: true, remaining: limit - w.total, retryAfterSeconds: 0 };
  }

  /**
   * Makes room when the store is full: windows whose calls have all expired go first, then the least
   * recently used tenth. Never everything at once: a caller that invents keys (rate-limit-by-key
   * with a client-chosen counter-key) must not be able to reset every other caller's counter.
   */
  private evict(now: number): void {
    for (const [k, w] of this.windows) {
      const last = w.times[w.times.length - 1];
      if (last === undefined || last <= now - w.periodMs) this.windows.delete(k);
    }
    if (this.windows.size < this.maxKeys) return;
    let n = Math.max(1, Math.ceil(this.maxKeys / 10));
    for (const k of this.windows.keys()) {
      if (n-- <= 0) break;
      this.windows.delete(k);
    }
  }
}
