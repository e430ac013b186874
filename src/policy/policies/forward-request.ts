/**
 * <forward-request timeout="" follow-redirects="" buffer-request-body="" buffer-response=""
 * fail-on-error-status-code=""/> (forward-request-policy.md): sends the request to the backend
 * chosen by the API's serviceUrl, set-backend-service and rewrite-uri; the backend's answer
 * becomes context.Response.
 */
import type { PolicyDefinition } from '../compile.js';
import { backendRequestOf } from '../backend.js';
import { PolicyFailure } from '../runtime.js';

export const forwardRequest: PolicyDefinition = {
  name: 'forward-request',
  sections: ['backend'],
  attributes: ['timeout', 'follow-redirects', 'buffer-request-body', 'buffer-response', 'fail-on-error-status-code', 'http-version', 'timeout-ms'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const timeout = cc.integer(el, 'timeout', { default: 300, min: 0 })!;
    const follow = cc.boolean(el, 'follow-redirects', false);
    cc.boolean(el, 'buffer-request-body', false);
    cc.boolean(el, 'buffer-response', true);
    const failOnError = cc.boolean(el, 'fail-on-error-status-code', false);
    return {
      ...cc.meta(el),
      async run(st) {
        const ctx = st.ctx;
        const req = backendRequestOf(st, ctx.request.method, ctx.request.url, ctx.request.headers, ctx.request.body.bytes, timeout.get(ctx), follow.get(ctx));
        const res = await st.services.backendClient.send(req);
        ctx.response = { statusCode: res.statusCode, statusReason: res.statusReason, headers: res.headers, body: { bytes: res.body } };
        st.forwarded = true;
        if (failOnError.get(ctx) && res.statusCode >= 400 && res.statusCode <= 599) {
          throw new PolicyFailure({ source: 'forward-request', reason: 'BackendErrorStatusCode', message: `Backend returned ${res.statusCode}.`, status: res.statusCode, logReason: 'backend_error_status' });
        }
      },
    };
  },
};
