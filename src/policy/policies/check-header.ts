/**
 * <check-header name="" failed-check-httpcode="" failed-check-error-message="" ignore-case="">
 * <value>…</value></check-header> (check-header-policy.md): the header must be present, and
 * equal one of the values when values are given; otherwise the request ends with the given code
 * and message.
 */
import type { PolicyDefinition } from '../compile.js';
import { PolicyFailure } from '../runtime.js';

export const checkHeader: PolicyDefinition = {
  name: 'check-header',
  sections: ['inbound'],
  attributes: ['name', 'failed-check-httpcode', 'failed-check-error-message', 'ignore-case'],
  compile(el, cc) {
    cc.checkChildren(el, ['value']);
    const name = cc.string(el, 'name', { required: true });
    const code = cc.integer(el, 'failed-check-httpcode', { required: true, min: 100, max: 599, default: 401 })!;
    const message = cc.string(el, 'failed-check-error-message', { required: true, default: 'Access denied' })!;
    const ignoreCase = cc.boolean(el, 'ignore-case', false);
    if (!cc.attr(el, 'ignore-case')) cc.error('GH_POLICY_MISSING_ATTRIBUTE', "<check-header> needs the attribute 'ignore-case'", el.offset);
    const values = el.children.filter((c) => c.name === 'value').map((c) => cc.text(c));
    return {
      ...cc.meta(el),
      run(st) {
        if (!name) return;
        const ctx = st.ctx;
        const n = name.get(ctx);
        const got = ctx.request.headers.getAll(n);
        const failWith = (reason: string, msg: string) =>
          new PolicyFailure({ source: 'check-header', reason, message: msg, status: code.get(ctx), bodyMessage: message.get(ctx), logReason: reason === 'HeaderNotFound' ? 'header_missing' : 'header_value_not_allowed' });
        if (!got || got.length === 0) throw failWith('HeaderNotFound', `Header ${n} was not found in the request. Access denied.`);
        if (values.length === 0) return;
        const ic = ignoreCase.get(ctx);
        const allowed = values.map((v) => (ic ? v.get(ctx).toLowerCase() : v.get(ctx)));
        const actual = got.join(',');
        const cmp = ic ? actual.toLowerCase() : actual;
        if (!allowed.includes(cmp) && !got.some((g) => allowed.includes(ic ? g.toLowerCase() : g))) {
          throw failWith('HeaderValueNotAllowed', `Header ${n} value of ${actual} is not allowed. Access denied.`);
        }
      },
    };
  },
};
