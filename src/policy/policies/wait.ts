/**
 * <wait for="all|any">…</wait> (wait-policy.md): runs its statements (send-request,
 * cache-lookup-value, choose) at the same time and waits for all of them, or the first.
 */
import type { PolicyDefinition } from '../compile.js';
import { runSteps } from '../pipeline.js';

export const wait: PolicyDefinition = {
  name: 'wait',
  sections: ['inbound', 'backend', 'outbound'],
  attributes: ['for'],
  compile(el, cc) {
    cc.checkChildren(el, ['send-request', 'cache-lookup-value', 'choose']);
    const mode = cc.choice(el, 'for', ['all', 'any'] as const, 'all');
    const steps = cc.compileChildren(el, el.children, cc.below(''));
    return {
      ...cc.meta(el),
      async run(st) {
        const runs = steps.map((s) => Promise.resolve().then(() => runSteps([s], st)));
        if (mode.get(st.ctx) === 'any' && runs.length) await Promise.race(runs);
        else await Promise.all(runs);
      },
    };
  },
};
