/**
 * <limit-concurrency key="" max-count="">…</limit-concurrency> (limit-concurrency-policy.md): at
 * most max-count requests with the same key run the enclosed statements at once; others get 429.
 */
import type { PolicyDefinition } from '../compile.js';
import { runSteps } from '../pipeline.js';
import { PolicyFailure } from '../runtime.js';

export const limitConcurrency: PolicyDefinition = {
  name: 'limit-concurrency',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['key', 'max-count'],
  compile(el, cc) {
    const key = cc.string(el, 'key', { required: true });
    const max = cc.integer(el, 'max-count', { required: true, expressions: false, min: 1 })?.constantValue ?? 1;
    const steps = cc.compileChildren(el, el.children, cc.below(''));
    // Per compiled statement: a gateway compiles its own, so two gateways never share counts.
    const running = new Map<string, number>();
    return {
      ...cc.meta(el),
      async run(st) {
        const k = key ? key.get(st.ctx) : '';
        const now = running.get(k) ?? 0;
        if (now >= max) {
          throw new PolicyFailure({ source: 'limit-concurrency', reason: 'ConcurrencyLimitExceeded', message: 'Too many concurrent requests.', status: 429, statusReason: 'Too Many Requests', logReason: 'concurrency_limited' });
        }
        running.set(k, now + 1);
        try {
          const r = runSteps(steps, st);
          if (r) await r;
        } finally {
          const left = (running.get(k) ?? 1) - 1;
          if (left <= 0) running.delete(k);
          else running.set(k, left);
        }
      },
    };
  },
};
