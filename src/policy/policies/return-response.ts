/**
 * <return-response response-variable-name=""> with set-status, set-header and set-body children
 * (return-response-policy.md): ends the pipeline with a new response (200 OK, no body, unless the
 * children or the named variable say otherwise). Backend and outbound do not run after it.
 */
import { HeaderMap } from '../../core/headers.js';
import type { HostContext, HostResponse } from '../../expr/host.js';
import type { PolicyDefinition } from '../compile.js';
import { PolicyFailure } from '../runtime.js';
import { compileSetBody, type BodyMutator } from './set-body.js';
import { compileSetHeader, type HeaderMutator } from './set-header.js';
import { compileSetStatus, type ResponseMutator } from './set-status.js';

export function isHostResponse(v: unknown): v is HostResponse {
  return !!v && typeof v === 'object' && 'statusCode' in v && 'headers' in v && (v as HostResponse).headers instanceof HeaderMap;
}

export const returnResponse: PolicyDefinition = {
  name: 'return-response',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: ['response-variable-name'],
  compile(el, cc) {
    cc.checkChildren(el, ['set-status', 'set-header', 'set-body']);
    const variable = cc.literal(el, 'response-variable-name');
    // the children in document order, as one closure each (built here, once: a request only calls them)
    const steps: ((ctx: HostContext, res: HostResponse) => void)[] = [];
    for (const c of el.children) {
      cc.checkAttributes(c, c.name === 'set-status' ? ['code', 'reason'] : c.name === 'set-header' ? ['name', 'exists-action'] : c.name === 'set-body' ? ['template', 'xsi-nil'] : []);
      if (c.name === 'set-status') {
        const m: ResponseMutator = compileSetStatus(c, cc);
        steps.push((ctx, res) => m.apply(ctx, res));
      } else if (c.name === 'set-header') {
        const m: HeaderMutator = compileSetHeader(c, cc);
        steps.push((ctx, res) => m.apply(ctx, res.headers));
      } else if (c.name === 'set-body') {
        const m: BodyMutator = compileSetBody(c, cc);
        steps.push((ctx, res) => {
          m.apply(ctx, res.body);
          res.headers.delete('Content-Length');
        });
      }
    }
    const n = steps.length;
    return {
      ...cc.meta(el),
      run(st) {
        const ctx = st.ctx;
        let res: HostResponse;
        if (variable !== undefined) {
          const v = ctx.variables.get(variable);
          const stored = v && typeof v === 'object' ? st.storedResponses.get(v) : undefined;
          if (stored) res = stored;
          else if (isHostResponse(v)) res = v;
          else throw new PolicyFailure({ source: 'return-response', reason: 'ResponseVariableNotFound', message: `Variable '${variable}' does not hold a response.` });
        } else res = { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: { bytes: undefined } };
        for (let i = 0; i < n; i++) steps[i]!(ctx, res);
        ctx.request.body.bytes = undefined;
        ctx.response = res;
        st.done = true;
        st.logReason ??= 'return_response';
      },
    };
  },
};
