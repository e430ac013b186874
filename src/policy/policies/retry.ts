/**
 * <retry condition="" count="" interval="" max-interval="" delta="" first-fast-retry="">…</retry>
 * (retry-policy.md): runs its statements once, then again while the condition is true, up to
 * `count` more times, waiting between attempts (fixed, or linear with delta and max-interval).
 * A failure in the last attempt goes to on-error.
 */
import type { PolicyDefinition } from '../compile.js';
import { runSteps } from '../pipeline.js';
import { PolicyCodes } from '../errors.js';

export const retry: PolicyDefinition = {
  name: 'retry',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['condition', 'count', 'interval', 'max-interval', 'delta', 'first-fast-retry'],
  compile(el, cc) {
    if (!cc.attr(el, 'condition')) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, "<retry> needs the attribute 'condition'", el.offset);
    const condition = cc.boolean(el, 'condition', false);
    const count = cc.integer(el, 'count', { required: true, min: 1, max: 50 })!;
    const interval = cc.integer(el, 'interval', { required: true, min: 0, max: 300 })!;
    const maxInterval = cc.integer(el, 'max-interval', { min: 0, max: 300 });
    const delta = cc.integer(el, 'delta', { min: 0, max: 300 });
    const firstFast = cc.boolean(el, 'first-fast-retry', false);
    const steps = cc.compileChildren(el, el.children, cc.below(''));
    return {
      ...cc.meta(el),
      async run(st) {
        const ctx = st.ctx;
        const n = count ? count.get(ctx) : 1;
        for (let attempt = 0; ; attempt++) {
          let failure: unknown;
          try {
            const r = runSteps(steps, st);
            if (r) await r;
          } catch (e) {
            failure = e;
          }
          if (st.done) return;
          const again = attempt < n && condition.get(ctx);
          if (!again) {
            if (failure !== undefined) throw failure;
            return;
          }
          let waitS = interval ? interval.get(ctx) : 0;
          if (delta) waitS += attempt * delta.get(ctx);
          if (maxInterval) waitS = Math.min(waitS, maxInterval.get(ctx));
          if (attempt === 0 && firstFast.get(ctx)) waitS = 0;
          if (waitS > 0) await new Promise((r) => setTimeout(r, waitS * 1000));
        }
      },
    };
  },
};
