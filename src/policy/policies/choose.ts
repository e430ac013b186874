/**
 * <choose><when condition="">…</when>…<otherwise>…</otherwise></choose> (choose-policy.md):
 * the first when whose condition is true runs; otherwise runs when none is.
 */
import type { CompileContext, PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import { runSteps } from '../pipeline.js';
import type { PolicyStep } from '../runtime.js';

export const choose: PolicyDefinition = {
  name: 'choose',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: [],
  compile(el, cc: CompileContext) {
    cc.checkChildren(el, ['when', 'otherwise']);
    const whens: { condition: PolicyValue<boolean>; steps: PolicyStep[] }[] = [];
    let otherwise: PolicyStep[] | undefined;
    let w = 0;
    let o = 0;
    for (const c of el.children) {
      if (c.name === 'when') {
        w++;
        if (otherwise) cc.error(PolicyCodes.GH_POLICY_STRUCTURE, '<when> must come before <otherwise>', c.offset);
        cc.checkAttributes(c, ['condition']);
        if (!cc.attr(c, 'condition')) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<when> needs the attribute \'condition\'', c.offset);
        const condition = cc.boolean(c, 'condition', false);
        whens.push({ condition, steps: cc.compileChildren(c, c.children, cc.below(`when[${w}]`)) });
      } else if (c.name === 'otherwise') {
        o++;
        cc.checkAttributes(c, []);
        if (o > 1) cc.error(PolicyCodes.GH_POLICY_STRUCTURE, '<choose> takes one <otherwise>', c.offset);
        otherwise = cc.compileChildren(c, c.children, cc.below(`otherwise[${o}]`));
      }
    }
    if (whens.length === 0) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<choose> needs at least one <when>', el.offset);
    const meta = cc.meta(el);
    return {
      ...meta,
      run(st) {
        for (let i = 0; i < whens.length; i++) {
          const wh = whens[i]!;
          if (wh.condition.get(st.ctx)) return runSteps(wh.steps, st);
        }
        if (otherwise) return runSteps(otherwise, st);
      },
    };
  },
};
