/**
 * <quota calls="" bandwidth="" renewal-period=""> (per subscription) and <quota-by-key calls=""
 * bandwidth="" renewal-period="" counter-key="" increment-condition="" first-period-start="">
 * (quota-policy.md, quota-by-key-policy.md): call volume and bandwidth in fixed periods, or for
 * ever when renewal-period is 0, for the statement and for each `<api>` and `<operation>` child
 * (applied independently); over any the caller gets 403 "Quota Exceeded" with "Out of call
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
import { readsResponse, refersTo } from './counters.js';

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

/** One counter of a quota statement (the statement's own, or an `<api>`/`<operation>` child's). */
interface QuotaCounter {
  readonly key: string;
  readonly limits: { readonly calls: number | undefined; readonly kilobytes: number | undefined };
  readonly period: number;
  readonly startMs: number;
}

/**
 * Runs a quota statement's counters for one call: refuses it when any counter has reached its limit
 * — before counting anything, so that a refused call uses up none of them — then counts the call
 * now (`amount`) or when the answer is known (`amount` a function, returning the amount then), and
 * the bandwidth when the answer is known. One counter per key and period (memory does not grow with
 * `calls`); a counter for another period starts from zero.
 */
function applyQuota(st: RequestState, counters: readonly QuotaCounter[], amount: number | (() => number), source: string): void {
  const store = st.services.rateLimits;
  const now = st.ctx.now().getTime();
  const later = typeof amount === 'function';
  for (const c of counters) {
    const periodEnd = periodEndOf(now, c.period, c.startMs);
    // A check that adds nothing: the counter may take this call's amount (1 when it is known later).
    if (c.limits.kilobytes !== undefined && !store.count(`${c.key}#bytes`, c.limits.kilobytes * 1024 - 1, periodEnd, 0, now).allowed) throw exceeded('bandwidth', periodEnd, now, source);
    if (c.limits.calls !== undefined && !store.count(c.key, c.limits.calls - (later ? 1 : amount), periodEnd, 0, now).allowed) throw exceeded('call volume', periodEnd, now, source);
  }
  const add = (then: number, n: number, bytes: number | undefined) => {
    for (const c of counters) {
      // Counted in the period the call or answer came in (a counter for another period starts from zero).
      const end = periodEndOf(then, c.period, c.startMs);
      if (c.limits.calls !== undefined && n > 0) store.count(c.key, Number.MAX_SAFE_INTEGER, end, n, then);
      if (c.limits.kilobytes !== undefined && bytes !== undefined) store.count(`${c.key}#bytes`, Number.MAX_SAFE_INTEGER, end, bytes, then);
    }
  };
  if (!later) add(now, amount, undefined);
  const bandwidth = counters.some((c) => c.limits.kilobytes !== undefined);
  if (!later && !bandwidth) return;
  (st.afterAnswer ??= []).push(() => {
    const n = later ? amount() : amount;
    if (n <= 0) return;
    add(st.ctx.now().getTime(), later ? n : 0, bandwidth ? bodyBytes(st) : undefined);
  });
}

/** calls and bandwidth as written (at least one of them), and renewal-period (0: for ever) when `withPeriod`. */
function limitsOf(el: PolicyElement, cc: CompileContext, expressions: boolean, withPeriod: boolean): { calls: PolicyValue<number> | undefined; kilobytes: number | undefined; period: PolicyValue<number> | undefined } {
  const calls = cc.integer(el, 'calls', { expressions, min: 1 }) as PolicyValue<number> | undefined;
  const kilobytes = cc.integer(el, 'bandwidth', { expressions: false, min: 1 })?.constantValue;
  if (!cc.attr(el, 'calls') && !cc.attr(el, 'bandwidth')) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<${el.name}> needs calls or bandwidth`, el.offset);
  const period = withPeriod ? (cc.integer(el, 'renewal-period', { required: true, expressions, min: 0 }) as PolicyValue<number> | undefined) : undefined;
  return { calls, kilobytes, period };
}

interface ChildQuota {
  readonly name: string | undefined;
  readonly id: string | undefined;
  readonly calls: number | undefined;
  readonly kilobytes: number | undefined;
  readonly period: number;
}

/** An `<api>` or `<operation>` child of quota: its own calls/bandwidth, its own period or the statement's. */
function childQuota(el: PolicyElement, cc: CompileContext, parentPeriod: number): ChildQuota {
  cc.checkAttributes(el, ['name', 'id', 'calls', 'bandwidth', 'renewal-period']);
  const { calls, kilobytes } = limitsOf(el, cc, false, false);
  const name = cc.literal(el, 'name');
  const id = cc.literal(el, 'id');
  if (name === undefined && id === undefined) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<${el.name}> needs name or id`, el.offset);
  const period = cc.attr(el, 'renewal-period') ? cc.integer(el, 'renewal-period', { expressions: false, min: 0 })?.constantValue ?? parentPeriod : parentPeriod;
  return { name, id, calls: calls?.constantValue, kilobytes, period };
}

export const quota: PolicyDefinition = {
  name: 'quota',
  sections: ['inbound'],
  attributes: ['calls', 'bandwidth', 'renewal-period'],
  compile(el, cc) {
    cc.checkChildren(el, ['api']);
    const { calls, kilobytes, period } = limitsOf(el, cc, false, true);
    const callLimit = calls?.constantValue;
    const renewal = period?.constantValue ?? 3600;
    // "Product, API, and operation call quotas are applied independently" (quota-policy.md).
    const apis = el.children.map((a) => {
      cc.checkChildren(a, ['operation']);
      return { ...childQuota(a, cc, renewal), operations: a.children.map((o) => childQuota(o, cc, renewal)) };
    });
    const instance = `${cc.file.path}:${el.offset}`;
    return {
      ...cc.meta(el),
      run(st) {
        const sub = st.ctx.subscription;
        if (!sub) return; // a quota per subscription: none without a subscription key
        const key = `quota:${instance}:${sub.id}`;
        const counters: QuotaCounter[] = [];
        if (callLimit !== undefined || kilobytes !== undefined) counters.push({ key, limits: { calls: callLimit, kilobytes }, period: renewal, startMs: 0 });
        apis.forEach((a, i) => {
          if (!refersTo(a, st.ctx.api)) return;
          if (a.calls !== undefined || a.kilobytes !== undefined) counters.push({ key: `${key}:api:${i}`, limits: a, period: a.period, startMs: 0 });
          a.operations.forEach((o, j) => {
            if (refersTo(o, st.ctx.operation) && (o.calls !== undefined || o.kilobytes !== undefined)) counters.push({ key: `${key}:api:${i}:operation:${j}`, limits: o, period: o.period, startMs: 0 });
          });
        });
        applyQuota(st, counters, 1, 'quota');
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
    const { calls, kilobytes, period } = limitsOf(el, cc, true, true);
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
        applyQuota(st, [{ key: counterKey, limits: { calls: calls?.get(ctx), kilobytes }, period: period.get(ctx), startMs: Number.isNaN(startMs) ? 0 : startMs }], amount, 'quota-by-key');
      },
    };
  },
};
