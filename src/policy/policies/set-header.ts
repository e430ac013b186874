/**
 * <set-header name="" exists-action="override|skip|append|delete"><value/>…</set-header>
 * (set-header-policy.md). In inbound and backend it changes the request headers; in outbound and
 * on-error, and inside return-response, the response headers.
 */
import type { HeaderMap } from '../../core/headers.js';
import type { HostContext } from '../../expr/host.js';
import type { CompileContext, PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';

/** Headers that set-header cannot change (Azure ignores them). */
const PROTECTED = new Set(['connection', 'content-length', 'keep-alive', 'transfer-encoding']);

export interface HeaderMutator {
  apply(ctx: HostContext, headers: HeaderMap): void;
}

export function compileSetHeader(el: PolicyElement, cc: CompileContext): HeaderMutator {
  cc.checkChildren(el, ['value']);
  const name = cc.string(el, 'name', { required: true }) as PolicyValue<string> | undefined;
  const action = cc.choice(el, 'exists-action', ['override', 'skip', 'append', 'delete'] as const, 'override');
  const values = el.children.filter((c) => c.name === 'value').map((c) => {
    cc.checkAttributes(c, []);
    return cc.text(c);
  });
  const literalName = name?.constantValue;
  if (literalName !== undefined && PROTECTED.has(literalName.toLowerCase())) {
    cc.report('warning', PolicyCodes.GH_POLICY_INVALID_VALUE, `the header '${literalName}' cannot be changed by set-header; API Management ignores this`, el.offset);
  }
  return {
    apply(ctx, headers) {
      if (!name) return;
      const n = name.get(ctx);
      if (!n || PROTECTED.has(n.toLowerCase())) return;
      const a = action.get(ctx);
      if (a === 'delete') {
        headers.delete(n);
        return;
      }
      if (a === 'skip' && headers.has(n)) return;
      const vs: string[] = [];
      for (const v of values) vs.push(v.get(ctx));
      if (a === 'append' && headers.has(n)) headers.append(n, vs);
      else headers.set(n, vs.length ? vs : ['']);
    },
  };
}

export const setHeader: PolicyDefinition = {
  name: 'set-header',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['name', 'exists-action'],
  compile(el, cc) {
    const m = compileSetHeader(el, cc);
    const onRequest = cc.section === 'inbound' || cc.section === 'backend';
    return { ...cc.meta(el), run: (st) => m.apply(st.ctx, onRequest ? st.ctx.request.headers : st.ctx.response.headers) };
  },
};
