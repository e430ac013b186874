/**
 * <set-body>text or expression</set-body> (set-body-policy.md). In inbound and backend it sets the
 * request body; in outbound and on-error, and inside return-response, the response body.
 * template="liquid" is not run yet.
 */
import type { HostBody, HostContext } from '../../expr/host.js';
import { PolicyValue, type CompileContext, type PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';

export interface BodyMutator {
  apply(ctx: HostContext, body: HostBody): void;
}

export function compileSetBody(el: PolicyElement, cc: CompileContext): BodyMutator {
  // A body may be markup (an XML payload or a Liquid template with tags): its content as written.
  const markup = el.children.length > 0 && !el.textExpression;
  const template = cc.literal(el, 'template');
  if (template !== undefined) {
    if (template.toLowerCase() === 'liquid') cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, 'set-body template="liquid" is not run by Gatehouse yet', el.offset);
    else cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `set-body template must be 'liquid', got '${template}'`, el.offset);
  }
  const nil = cc.literal(el, 'xsi-nil');
  if (nil !== undefined && nil !== 'blank' && nil !== 'null') cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `set-body xsi-nil must be blank or null, got '${nil}'`, el.offset);
  const value = markup ? PolicyValue.constant(el.rawContent.trim()) : cc.text(el);
  return {
    apply(ctx, body) {
      body.bytes = Buffer.from(value.get(ctx), 'utf8');
    },
  };
}

export const setBody: PolicyDefinition = {
  name: 'set-body',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['template', 'xsi-nil'],
  compile(el, cc) {
    const m = compileSetBody(el, cc);
    const onRequest = cc.section === 'inbound' || cc.section === 'backend';
    return {
      ...cc.meta(el),
      run: (st) => {
        const target = onRequest ? st.ctx.request : st.ctx.response;
        m.apply(st.ctx, target.body);
        // The length changes with the body; the gateway computes it on the wire.
        target.headers.delete('Content-Length');
      },
    };
  },
};
