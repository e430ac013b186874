/**
 * <rate-limit calls="" renewal-period=""> (per subscription) and <rate-limit-by-key calls=""
 * renewal-period="" counter-key="" increment-condition="" increment-count=""> (rate-limit-policy.md,
 * rate-limit-by-key-policy.md): sliding windows in a RateLimitStore; over the limit the caller
 * gets 429 with Azure's body and Retry-After.
 */
import type { CompileContext, PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';
import { PolicyFailure, type RequestState } from '../runtime.js';
import { readsResponse, refersTo } from './counters.js';

interface Headers {
  retryAfterHeader: string;
  retryAfterVariable: string | undefined;
  remainingHeader: string | undefined;
  remainingVariable: string | undefined;
  totalHeader: string | undefined;
}

function headerNames(el: PolicyElement, cc: CompileContext): Headers {
  return {
    retryAfterHeader: cc.literal(el, 'retry-after-header-name') ?? 'Retry-After',
    retryAfterVariable: cc.literal(el, 'retry-after-variable-name'),
    remainingHeader: cc.literal(el, 'remaining-calls-header-name'),
    remainingVariable: cc.literal(el, 'remaining-calls-variable-name'),
    totalHeader: cc.literal(el, 'total-calls-header-name'),
  };
}

const HEADER_ATTRIBUTES = ['retry-after-header-name', 'retry-after-variable-name', 'remaining-calls-header-name', 'remaining-calls-variable-name', 'total-calls-header-name'];

/**
 * Counts `amount` calls for `key`, or — when `amount` is a function — refuses the call if the
 * window is already full and counts the amount it returns when the answer is known (an
 * increment-condition that reads context.Response, as Microsoft's example does).
 */
function apply(st: RequestState, key: string, calls: number, period: number, amount: number | (() => number), h: Headers, source: string): void {
  const store = st.services.rateLimits;
  const later = typeof amount === 'function';
  // Deferred: a check that adds nothing and refuses once `calls` are in the window (limit calls - 1).
  const r = later ? store.hit(key, calls - 1, period, 0, st.ctx.now().getTime()) : store.hit(key, calls, period, amount, st.ctx.now().getTime());
  if (later && r.allowed) {
    (st.afterAnswer ??= []).push(() => {
      const n = amount();
      if (n > 0) store.hit(key, Number.MAX_SAFE_INTEGER, period, n, st.ctx.now().getTime());
    });
  }
  if (h.remainingVariable) st.ctx.variables.set(h.remainingVariable, r.remaining);
  if (h.remainingHeader) st.extraResponseHeaders.push([h.remainingHeader, String(r.remaining)]);
  if (h.totalHeader) st.extraResponseHeaders.push([h.totalHeader, String(calls)]);
  if (!r.allowed) {
    if (h.retryAfterVariable) st.ctx.variables.set(h.retryAfterVariable, r.retryAfterSeconds);
    throw new PolicyFailure({
      source,
      reason: 'RateLimitExceeded',
      message: 'Rate limit is exceeded',
      status: 429,
      statusReason: 'Too Many Requests',
      bodyMessage: `Rate limit is exceeded. Try again in ${r.retryAfterSeconds} seconds.`,
      logReason: 'rate_limited',
      headers: [[h.retryAfterHeader, String(r.retryAfterSeconds)]],
    });
  }
}

export const rateLimit: PolicyDefinition = {
  name: 'rate-limit',
  sections: ['inbound'],
  attributes: ['calls', 'renewal-period', ...HEADER_ATTRIBUTES],
  compile(el, cc) {
    cc.checkChildren(el, ['api']);
    const calls = cc.integer(el, 'calls', { required: true, expressions: false, min: 1 })?.constantValue ?? 1;
    const period = cc.integer(el, 'renewal-period', { required: true, expressions: false, min: 1, max: 300 })?.constantValue ?? 60;
    const h = headerNames(el, cc);
    // Per-API and per-operation limits.
    const apis = el.children.map((a) => {
      cc.checkAttributes(a, ['name', 'id', 'calls', 'renewal-period']);
      cc.checkChildren(a, ['operation']);
      return {
        name: cc.literal(a, 'name'),
        id: cc.literal(a, 'id'),
        calls: cc.integer(a, 'calls', { required: true, expressions: false, min: 1 })?.constantValue ?? 1,
        period: cc.integer(a, 'renewal-period', { required: true, expressions: false, min: 1, max: 300 })?.constantValue ?? 60,
        operations: a.children.map((o) => {
          cc.checkAttributes(o, ['name', 'id', 'calls', 'renewal-period']);
          return {
            name: cc.literal(o, 'name'),
            id: cc.literal(o, 'id'),
            calls: cc.integer(o, 'calls', { required: true, expressions: false, min: 1 })?.constantValue ?? 1,
            period: cc.integer(o, 'renewal-period', { required: true, expressions: false, min: 1, max: 300 })?.constantValue ?? 60,
          };
        }),
      };
    });
    if (cc.scope === 'global') cc.error(PolicyCodes.GH_POLICY_WRONG_SECTION, 'rate-limit may stand at product, API or operation scope, not global', el.offset);
    // One counter set per policy statement (its file and position), per subscription.
    const instance = `${cc.file.path}:${el.offset}`;
    return {
      ...cc.meta(el),
      run(st) {
        const sub = st.ctx.subscription;
        if (!sub) return; // applied only when the API is called with a subscription key
        apply(st, `rate-limit:${instance}:${sub.id}`, calls, period, 1, h, 'rate-limit');
        for (const a of apis) {
          if (!refersTo(a, st.ctx.api)) continue;
          apply(st, `rate-limit:${instance}:${sub.id}:api`, a.calls, a.period, 1, h, 'rate-limit');
          for (const o of a.operations) if (refersTo(o, st.ctx.operation)) apply(st, `rate-limit:${instance}:${sub.id}:op:${st.ctx.operation!.id}`, o.calls, o.period, 1, h, 'rate-limit');
        }
      },
    };
  },
};

export const rateLimitByKey: PolicyDefinition = {
  name: 'rate-limit-by-key',
  sections: ['inbound'],
  attributes: ['calls', 'renewal-period', 'counter-key', 'increment-condition', 'increment-count', ...HEADER_ATTRIBUTES],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const calls = cc.integer(el, 'calls', { required: true, min: 1 }) as PolicyValue<number>;
    const period = cc.integer(el, 'renewal-period', { required: true, min: 1, max: 300 }) as PolicyValue<number>;
    const key = cc.string(el, 'counter-key', { required: true });
    const condition = cc.boolean(el, 'increment-condition', true);
    const count = cc.integer(el, 'increment-count', { default: 1, min: 0 })!;
    const later = readsResponse(el, cc, ['increment-condition', 'increment-count']);
    const h = headerNames(el, cc);
    return {
      ...cc.meta(el),
      run(st) {
        if (!calls || !period || !key) return;
        const ctx = st.ctx;
        const amount = later ? () => (condition.get(ctx) ? count.get(ctx) : 0) : condition.get(ctx) ? count.get(ctx) : 0;
        apply(st, `rate-limit-by-key:${key.get(ctx)}`, calls.get(ctx), period.get(ctx), amount, h, 'rate-limit-by-key');
      },
    };
  },
};
