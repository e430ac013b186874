/**
 * <quota calls="" bandwidth="" renewal-period=""> (per subscription) and <quota-by-key calls=""
 * bandwidth="" renewal-period="" counter-key="" increment-condition="" first-period-start="">
 * (quota-policy.md, quota-by-key-policy.md): call volume in fixed periods; over it the caller gets
 * 403 "Out of call volume quota. Quota will be replenished in hh:mm:ss." Bandwidth quotas are
 * not counted yet.
 */
import type { PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import { PolicyFailure, type RequestState } from '../runtime.js';

function hms(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h, m, s].map((x) => String(x).padStart(2, '0')).join(':');
}

function count(st: RequestState, key: string, calls: number, period: number, amount: number, startMs: number, source: string): void {
  const now = st.ctx.now().getTime();
  const periodMs = period * 1000;
  const periodEnd = startMs + (Math.floor((now - startMs) / periodMs) + 1) * periodMs;
  // One counter per key for the current fixed period (quota-by-key-policy.md: "the length in seconds
  // of the fixed window after which the quota resets"), not one entry per call.
  const r = st.services.rateLimits.count(key, calls, periodEnd, amount, now);
  if (!r.allowed) {
    const left = Math.max(1, Math.ceil((periodEnd - now) / 1000));
    const message = `Out of call volume quota. Quota will be replenished in ${hms(left)}.`;
    // quota-by-key-policy.md: "the response includes a Retry-After header whose value is the
    // recommended retry interval in seconds"; the status line as observed on Azure: "403 Quota Exceeded".
    throw new PolicyFailure({ source, reason: 'QuotaExceeded', message, status: 403, statusReason: 'Quota Exceeded', bodyMessage: message, logReason: 'quota_exceeded', headers: [['Retry-After', String(left)]] });
  }
}

export const quota: PolicyDefinition = {
  name: 'quota',
  sections: ['inbound'],
  attributes: ['calls', 'bandwidth', 'renewal-period'],
  compile(el, cc) {
    cc.checkChildren(el, ['api']);
    const calls = cc.integer(el, 'calls', { expressions: false, min: 1 })?.constantValue;
    const bandwidth = cc.attr(el, 'bandwidth');
    if (bandwidth) cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, 'quota bandwidth is not counted by Gatehouse yet', bandwidth.offset);
    if (calls === undefined && !bandwidth) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<quota> needs calls or bandwidth', el.offset);
    const period = cc.integer(el, 'renewal-period', { required: true, expressions: false, min: 1 })?.constantValue ?? 3600;
    if (el.children.length) cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, 'per-API and per-operation quotas are not counted by Gatehouse yet', el.children[0]!.offset);
    const instance = `${cc.file.path}:${el.offset}`;
    return {
      ...cc.meta(el),
      run(st) {
        const sub = st.ctx.subscription;
        if (!sub || calls === undefined) return;
        count(st, `quota:${instance}:${sub.id}`, calls, period, 1, 0, 'quota');
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
    const calls = cc.integer(el, 'calls', { min: 1 });
    const bandwidth = cc.attr(el, 'bandwidth');
    if (bandwidth) cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, 'quota-by-key bandwidth is not counted by Gatehouse yet', bandwidth.offset);
    if (!calls && !bandwidth) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<quota-by-key> needs calls or bandwidth', el.offset);
    const period = cc.integer(el, 'renewal-period', { required: true, min: 1 }) as PolicyValue<number> | undefined;
    const key = cc.string(el, 'counter-key', { required: true });
    const condition = cc.boolean(el, 'increment-condition', true);
    const incr = cc.integer(el, 'increment-count', { default: 1, min: 0 })!;
    const first = cc.literal(el, 'first-period-start');
    const startMs = first ? Date.parse(first) : 0;
    if (first && Number.isNaN(startMs)) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `first-period-start must be a date and time, got '${first}'`, el.offset);
    return {
      ...cc.meta(el),
      run(st) {
        if (!calls || !period || !key) return;
        const ctx = st.ctx;
        const counterKey = `quota-by-key:${key.get(ctx)}`;
        // "If multiple policies would increment the same key value, it is incremented only once per
        // request" (quota-by-key-policy.md): a second statement checks the counter without adding.
        const counted = (st.quotaKeysCounted ??= new Set());
        const amount = counted.has(counterKey) || !condition.get(ctx) ? 0 : incr.get(ctx);
        count(st, counterKey, calls.get(ctx), period.get(ctx), amount, Number.isNaN(startMs) ? 0 : startMs, 'quota-by-key');
        if (amount > 0) counted.add(counterKey);
      },
    };
  },
};
