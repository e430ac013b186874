/** <find-and-replace from="" to=""/> (find-and-replace-policy.md): replaces text in the request or response body. */
import type { PolicyDefinition } from '../compile.js';

export const findAndReplace: PolicyDefinition = {
  name: 'find-and-replace',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['from', 'to'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const from = cc.string(el, 'from', { required: true });
    const to = cc.string(el, 'to', { required: true });
    const onRequest = cc.section === 'inbound' || cc.section === 'backend';
    return {
      ...cc.meta(el),
      run(st) {
        if (!from || !to) return;
        const target = onRequest ? st.ctx.request : st.ctx.response;
        const bytes = target.body.bytes;
        if (!bytes) return;
        const f = from.get(st.ctx);
        if (!f) return;
        target.body.bytes = Buffer.from(bytes.toString('utf8').split(f).join(to.get(st.ctx)), 'utf8');
        target.headers.delete('Content-Length');
      },
    };
  },
};
