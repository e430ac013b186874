/**
 * <mock-response status-code="" content-type=""/> (mock-response-policy.md): ends the pipeline
 * with a mocked response. Gatehouse has no operation examples or schemas in its model, so the body
 * is empty.
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
        if (contentType) headers.set('Content-Type', contentType);
        st.ctx.response = { statusCode: status, statusReason: defaultReasonPhrase(status), headers, body: { bytes: undefined } };
        st.done = true;
        st.logReason ??= 'mock_response';
      },
    };
  },
};
