/**
 * <mock-response status-code="" content-type=""/> (mock-response-policy.md): ends the pipeline
 * with a mocked response: the example of the operation's documented response for the status
 * (and content type), else an empty body. Samples generated from schemas are not made.
 */
import { HeaderMap } from '../../core/headers.js';
import type { PolicyDefinition } from '../compile.js';
import { defaultReasonPhrase } from '../runtime.js';

export const mockResponse: PolicyDefinition = {
  name: 'mock-response',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: ['status-code', 'content-type', 'index'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const status = cc.integer(el, 'status-code', { default: 200, expressions: false, min: 100, max: 999 })!.constantValue ?? 200;
    const contentType = cc.literal(el, 'content-type');
    cc.integer(el, 'index', { expressions: false, min: 0 });
    return {
      ...cc.meta(el),
      run(st) {
        const headers = new HeaderMap();
        // The operation's documented example for this status (and content type), else an empty body.
        const response = st.operationResponses.find((r) => r.statusCode === status);
        const rep = response?.representations.find((r) => !contentType || r.contentType.toLowerCase() === contentType.toLowerCase());
        const type = contentType ?? rep?.contentType;
        if (type) headers.set('Content-Type', type);
        const bytes = rep?.example !== undefined ? Buffer.from(rep.example, 'utf8') : undefined;
        st.ctx.response = { statusCode: status, statusReason: defaultReasonPhrase(status), headers, body: { bytes } };
        st.done = true;
        st.logReason ??= 'mock_response';
      },
    };
  },
};
