/** <set-method>METHOD</set-method> (set-method-policy.md): changes the HTTP method of the backend request. */
import type { PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';

export const setMethod: PolicyDefinition = {
  name: 'set-method',
  sections: ['inbound', 'on-error'],
  attributes: [],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const method = cc.text(el);
    const literal = method.constantValue;
    if (literal !== undefined && !/^[A-Za-z]+$/.test(literal.trim())) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `set-method takes an HTTP method, got '${literal}'`, el.textOffset);
    return {
      ...cc.meta(el),
      run(st) {
        st.ctx.request.method = method.get(st.ctx).trim().toUpperCase();
      },
    };
  },
};
