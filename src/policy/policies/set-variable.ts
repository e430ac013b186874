/** <set-variable name="" value=""/> (set-variable-policy.md): a literal is a string; an expression keeps its value. */
import type { PolicyDefinition } from '../compile.js';

export const setVariable: PolicyDefinition = {
  name: 'set-variable',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['name', 'value'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const name = cc.literal(el, 'name', { required: true });
    const value = cc.raw(el, 'value', { required: true });
    if (name === undefined || !value) return undefined;
    return { ...cc.meta(el), run: (st) => void st.ctx.variables.set(name, value.get(st.ctx)) };
  },
};
