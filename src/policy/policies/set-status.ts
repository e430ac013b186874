/** <set-status code="" reason=""/>: sets the response status (set-status-policy.md). */
import type { HostContext, HostResponse } from '../../expr/host.js';
import type { CompileContext, PolicyDefinition, PolicyValue } from '../compile.js';
import type { PolicyElement } from '../reader.js';
import { defaultReasonPhrase } from '../runtime.js';

export interface ResponseMutator {
  apply(ctx: HostContext, res: HostResponse): void;
}

export function compileSetStatus(el: PolicyElement, cc: CompileContext): ResponseMutator {
  const code = cc.integer(el, 'code', { required: true, min: 100, max: 999 }) as PolicyValue<number>;
  const reason = cc.string(el, 'reason');
  return {
    apply(ctx, res) {
      const c = code ? code.get(ctx) : 200;
      res.statusCode = c;
      res.statusReason = reason ? reason.get(ctx) : defaultReasonPhrase(c);
    },
  };
}

export const setStatus: PolicyDefinition = {
  name: 'set-status',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['code', 'reason'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const m = compileSetStatus(el, cc);
    return { ...cc.meta(el), run: (st) => m.apply(st.ctx, st.ctx.response) };
  },
};
