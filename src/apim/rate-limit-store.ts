/** In-memory sliding-window counters for rate-limit and rate-limit-by-key (one per gateway instance). */
import type { RateLimitStore } from '../policy/runtime.js';

interface Window {
  /** Call times in ms, oldest first. */
  readonly times: number[];
  periodMs: number;
}

export class MemoryRateLimitStore implements RateLimitStore {
  /** In least-recently-used order: a hit moves its key to the end. */
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys: number;

  constructor(maxKeys = 100_000) {
    this.maxKeys = maxKeys;
  }

  get size(): number {
    return this.windows.size;
  }

  hit(key: string, limit: number, periodSeconds: number, amount: number, now: number): { allowed: boolean; remaining: number; retryAfterSeconds: number } {
    const periodMs = periodSeconds * 1000;
    let w = this.windows.get(key);
    if (w) {
      this.windows.delete(key);
      this.windows.set(key, w);
    } else {
      if (this.windows.size >= this.maxKeys) this.evict(now);
      w = { times: [], periodMs };
      this.windows.set(key, w);
    }
    w.periodMs = periodMs;
    const times = w.times;
    let drop = 0;
    while (drop < times.length && times[drop]! <= now - periodMs) drop++;
    if (drop) times.splice(0, drop);
    if (times.length + amount > limit) {
      const oldest = times[Math.max(0, times.length + amount - limit - 1)] ?? now;
      return { allowed: false, remaining: Math.max(0, limit - times.length), retryAfterSeconds: Math.max(1, Math.ceil((oldest + periodMs - now) / 1000)) };
    }
    for (let i = 0; i < amount; i++) times.push(now);
    return { allowed: true, remaining: limit - times.length, retryAfterSeconds: 0 };
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
