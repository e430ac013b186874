/**
 * <quota calls="" bandwidth="" renewal-period=""> (per subscription) and <quota-by-key calls=""
 * bandwidth="" renewal-period="" counter-key="" increment-condition="" first-period-start="">
 * (quota-policy.md, quota-by-key-policy.md): call volume and bandwidth in fixed periods, or for
 * ever when renewal-period is 0; over either the caller gets 403 "Quota Exceeded" with "Out of call
 * volume quota." or "Out of bandwidth quota.", and when the period ends, "Quota will be replenished
 * in hh:mm:ss." and Retry-After.
 *
 * Bandwidth is the request and response bodies in bytes (kilobytes of 1,024 bytes in the policy),
 * counted when the answer is known; a request is refused once the period's total has reached the
 * limit, so the request that crosses it still goes through. An increment-condition or
 * increment-count that reads context.Response (as Microsoft's example does) is evaluated when the
 * answer is known too; the check that refuses a call is still made inbound.
 */
import type { CompileContext, PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';
import { PolicyFailure, type RequestState } from '../runtime.js';

function hms(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h, m, s].map((x) => String(x).padStart(2, '0')).join(':');
}

/** The end of the fixed period `now` is in (epoch ms); Infinity for a lifetime quota (renewal-period 0). */
function periodEndOf(now: number, period: number, startMs: number): number {
  if (period === 0) return Number.POSITIVE_INFINITY;
  const periodMs = period * 1000;
  return startMs + (Math.floor((now - startMs) / periodMs) + 1) * periodMs;
}

function exceeded(what: 'call volume' | 'bandwidth', periodEnd: number, now: number, source: string): PolicyFailure {
  // quota-by-key-policy.md: "the response includes a Retry-After header whose value is the
  // recommended retry interval in seconds"; the status line as observed on Azure: "403 Quota Exceeded".
  // A lifetime quota is never replenished: no replenishment time and no Retry-After (our choice, docs/policy.md).
  const left = Number.isFinite(periodEnd) ? Math.max(1, Math.ceil((periodEnd - now) / 1000)) : undefined;
  const message = left === undefined ? `Out of ${what} quota.` : `Out of ${what} quota. Quota will be replenished in ${hms(left)}.`;
  return new PolicyFailure({ source, reason: 'QuotaExceeded', message, status: 403, statusReason: 'Quota Exceeded', bodyMessage: message, logReason: 'quota_exceeded', headers: left === undefined ? [] : [['Retry-After', String(left)]] });
}

/** Bytes of the request and response bodies, for bandwidth quotas. */
function bodyBytes(st: RequestState): number {
  return (st.ctx.request.body.bytes?.length ?? 0) + (st.ctx.response.body.bytes?.length ?? 0);
}

/**
 * One quota statement's run: refuses the call when a counter has reached its limit, then counts
 * the call now (`amount`) or when the answer is known (`later`, returning the amount then), and the
 * bandwidth when the answer is known. One counter per key and period (memory does not grow with
 * `calls`); a counter for another period starts from zero.
 */
function applyQuota(
  st: RequestState,
  key: string,
  limits: { calls: number | undefined; kilobytes: number | undefined },
  period: number,
  startMs: number,
  amount: number | (() => number),
  source: string,
): void {
  const store = st.services.rateLimits;
  const now = st.ctx.now().getTime();
  const periodEnd = periodEndOf(now, period, startMs);
  const bandwidthKey = `${key}#bytes`;
  if (limits.kilobytes !== undefined && !store.count(bandwidthKey, limits.kilobytes * 1024 - 1, periodEnd, 0, now).allowed) throw exceeded('bandwidth', periodEnd, now, source);
  if (limits.calls !== undefined) {
    if (typeof amount === 'number') {
      if (!store.count(key, limits.calls, periodEnd, amount, now).allowed) throw exceeded('call volume', periodEnd, now, source);
    } else if (!store.count(key, limits.calls - 1, periodEnd, 0, now).allowed) throw exceeded('call volume', periodEnd, now, source);
  }
  if (typeof amount === 'number' && limits.kilobytes === undefined) return;
  (st.afterAnswer ??= []).push(() => {
    const n = typeof amount === 'number' ? amount : amount();
    if (n <= 0) return;
    // Counted in the period the answer came in (a counter for another period starts from zero).
    const then = st.ctx.now().getTime();
    const end = periodEndOf(then, period, startMs);
    if (typeof amount !== 'number' && limits.calls !== undefined) store.count(key, Number.MAX_SAFE_INTEGER, end, n, then);
    if (limits.kilobytes !== undefined) store.count(bandwidthKey, Number.MAX_SAFE_INTEGER, end, bodyBytes(st), then);
  });
}

/** calls and bandwidth as written (at least one of them), and renewal-period (0: for ever). */
function limitsOf(el: PolicyElement, cc: CompileContext, expressions: boolean): { calls: PolicyValue<number> | undefined; kilobytes: number | undefined; period: PolicyValue<number> | undefined } {
  const calls = cc.integer(el, 'calls', { expressions, min: 1 }) as PolicyValue<number> | undefined;
  const kilobytes = cc.integer(el, 'bandwidth', { expressions: false, min: 1 })?.constantValue;
  if (!calls && kilobytes === undefined && !cc.attr(el, 'bandwidth')) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<${el.name}> needs calls or bandwidth`, el.offset);
  const period = cc.integer(el, 'renewal-period', { required: true, expressions, min: 0 }) as PolicyValue<number> | undefined;
  return { calls, kilobytes, period };
}

/** An increment-condition or increment-count that reads the response is evaluated when the answer is known (also rate-limit-by-key). */
export function readsResponse(el: PolicyElement, cc: CompileContext, names: readonly string[]): boolean {
  return names.some((n) => {
    const a = cc.attr(el, n);
    return a !== undefined && /\bResponse\b/.test(a.expression?.text ?? a.value);
  });
}

export const quota: PolicyDefinition = {
  name: 'quota',
  sections: ['inbound'],
  attributes: ['calls', 'bandwidth', 'renewal-period'],
  compile(el, cc) {
    cc.checkChildren(el, ['api']);
    const { calls, kilobytes, period } = limitsOf(el, cc, false);
    const callLimit = calls?.constantValue;
    const renewal = period?.constantValue ?? 3600;
    if (el.children.length) cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, 'per-API and per-operation quotas are not counted by Gatehouse yet', el.children[0]!.offset);
    const instance = `${cc.file.path}:${el.offset}`;
    return {
      ...cc.meta(el),
      run(st) {
        const sub = st.ctx.subscription;
        if (!sub || (callLimit === undefined && kilobytes === undefined)) return;
        applyQuota(st, `quota:${instance}:${sub.id}`, { calls: callLimit, kilobytes }, renewal, 0, 1, 'quota');
      },
    };
  },
};

export const quotaByKey: PolicyDefinition = {
  name: 'quota-by-key',
  sections: ['inbound'],
  attributes: ['calls', 'bandwidth', 'renewal-period', 'counter-key', 'increment-condition', 'increment-count', 'first-period-start'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const { calls, kilobytes, period } = limitsOf(el, cc, true);
    const key = cc.string(el, 'counter-key', { required: true });
    const condition = cc.boolean(el, 'increment-condition', true);
    const incr = cc.integer(el, 'increment-count', { default: 1, min: 0 })!;
    const later = readsResponse(el, cc, ['increment-condition', 'increment-count']);
    const first = cc.literal(el, 'first-period-start');
    const startMs = first ? Date.parse(first) : 0;
    if (first && Number.isNaN(startMs)) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `first-period-start must be a date and time, got '${first}'`, el.offset);
    return {
      ...cc.meta(el),
      run(st) {
        if ((!calls && kilobytes === undefined) || !period || !key) return;
        const ctx = st.ctx;
        const counterKey = `quota-by-key:${key.get(ctx)}`;
        // "If multiple policies would increment the same key value, it is incremented only once per
        // request" (quota-by-key-policy.md): a second statement checks the counter without adding.
        const counted = (st.quotaKeysCounted ??= new Set());
        const once = (n: number): number => {
          if (n <= 0 || counted.has(counterKey)) return 0;
          counted.add(counterKey);
          return n;
        };
        const amount = later ? () => once(condition.get(ctx) ? incr.get(ctx) : 0) : once(condition.get(ctx) ? incr.get(ctx) : 0);
        applyQuota(st, counterKey, { calls: calls?.get(ctx), kilobytes }, period.get(ctx), Number.isNaN(startMs) ? 0 : startMs, amount, 'quota-by-key');
      },
    };
  },
};
