/** In-memory sliding-window counters for rate-limit and rate-limit-by-key (one per gateway instance). */
import type { RateLimitStore } from '../policy/runtime.js';

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, number[]>();
  private readonly maxKeys: number;

  constructor(maxKeys = 100_000) {
    this.maxKeys = maxKeys;
  }

  hit(key: string, limit: number, periodSeconds: number, amount: number, now: number): { allowed: boolean; remaining: number; retryAfterSeconds: number } {
    const periodMs = periodSeconds * 1000;
    let w = this.windows.get(key);
    if (!w) {
      if (this.windows.size >= this.maxKeys) this.windows.clear();
      w = [];
      this.windows.set(key, w);
    }
    let drop = 0;
    while (drop < w.length && w[drop]! <= now - periodMs) drop++;
    if (drop) w.splice(0, drop);
    if (w.length + amount > limit) {
      const oldest = w[Math.max(0, w.length + amount - limit - 1)] ?? now;
      return { allowed: false, remaining: Math.max(0, limit - w.length), retryAfterSeconds: Math.max(1, Math.ceil((oldest + periodMs - now) / 1000)) };
    }
    for (let i = 0; i < amount; i++) w.push(now);
    return { allowed: true, remaining: limit - w.length, retryAfterSeconds: 0 };
  }
}
