/**
 * <return-response response-variable-name=""> with set-status, set-header and set-body children
 * (return-response-policy.md): ends the pipeline with a new response (200 OK, no body, unless the
 * children or the named variable say otherwise). Backend and outbound do not run after it.
 */
import { HeaderMap } from '../../core/headers.js';
import type { HostResponse } from '../../expr/host.js';
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
    const status: ResponseMutator[] = [];
    const headers: HeaderMutator[] = [];
    const bodies: BodyMutator[] = [];
    const mutators: { kind: 'status' | 'header' | 'body'; index: number }[] = [];
    for (const c of el.children) {
      cc.checkAttributes(c, c.name === 'set-status' ? ['code', 'reason'] : c.name === 'set-header' ? ['name', 'exists-action'] : c.name === 'set-body' ? ['template', 'xsi-nil'] : []);
      if (c.name === 'set-status') mutators.push({ kind: 'status', index: status.push(compileSetStatus(c, cc)) - 1 });
      else if (c.name === 'set-header') mutators.push({ kind: 'header', index: headers.push(compileSetHeader(c, cc)) - 1 });
      else if (c.name === 'set-body') mutators.push({ kind: 'body', index: bodies.push(compileSetBody(c, cc)) - 1 });
    }
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
        for (const m of mutators) {
          if (m.kind === 'status') status[m.index]!.apply(ctx, res);
          else if (m.kind === 'header') headers[m.index]!.apply(ctx, res.headers);
          else {
            bodies[m.index]!.apply(ctx, res.body);
            res.headers.delete('Content-Length');
          }
        }
        ctx.request.body.bytes = undefined;
        ctx.response = res;
        st.done = true;
        st.logReason ??= 'return_response';
      },
    };
  },
};
