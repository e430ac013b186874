/**
 * <set-query-parameter name="" exists-action="override|skip|append|delete"><value/>…</set-query-parameter>
 * (set-query-parameter-policy.md): changes the query string of the backend request.
 */
import type { PolicyDefinition } from '../compile.js';

export const setQueryParameter: PolicyDefinition = {
  name: 'set-query-parameter',
  sections: ['inbound', 'backend'],
  attributes: ['name', 'exists-action'],
  compile(el, cc) {
    cc.checkChildren(el, ['value']);
    const name = cc.string(el, 'name', { required: true });
    const action = cc.choice(el, 'exists-action', ['override', 'skip', 'append', 'delete'] as const, 'override');
    const values = el.children.filter((c) => c.name === 'value').map((c) => {
      cc.checkAttributes(c, []);
      return cc.text(c);
    });
    return {
      ...cc.meta(el),
      run(st) {
        if (!name) return;
        const ctx = st.ctx;
        const n = name.get(ctx);
        const q = ctx.request.url.query;
        const a = action.get(ctx);
        const exists = q.some(([k]) => k === n);
        if (a === 'skip' && exists) return;
        const vs = values.map((v) => v.get(ctx));
        if (a === 'delete' || a === 'override') {
          for (let i = q.length - 1; i >= 0; i--) if (q[i]![0] === n) q.splice(i, 1);
          if (a === 'delete') return;
        }
        for (const v of vs.length ? vs : ['']) q.push([n, v]);
      },
    };
  },
};
