/**
 * <cors allow-credentials="" terminate-unmatched-request=""> with allowed-origins, allowed-methods,
 * allowed-headers and expose-headers (cors-policy.md). Preflights are answered here (the gateway
 * runs only the cors policies of inbound for a preflight that matches no OPTIONS operation);
 * simple requests get the Access-Control-* headers on whatever response goes out.
 */
import { HeaderMap } from '../../core/headers.js';
import type { PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';

function normalizeOrigin(o: string): string {
  try {
    const u = new URL(o.trim());
    const port = u.port || (u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '');
    return `${u.protocol}//${u.hostname}:${port}`.toLowerCase();
  } catch {
    return o.trim().toLowerCase();
  }
}

export const cors: PolicyDefinition = {
  name: 'cors',
  sections: ['inbound'],
  attributes: ['allow-credentials', 'terminate-unmatched-request'],
  compile(el, cc) {
    cc.checkChildren(el, ['allowed-origins', 'allowed-methods', 'allowed-headers', 'expose-headers']);
    const allowCredentials = cc.boolean(el, 'allow-credentials', false);
    const terminate = cc.boolean(el, 'terminate-unmatched-request', true);
    const list = (name: string, item: string, attrs: string[] = []): { el: PolicyElement | undefined; values: PolicyValue<string>[] } => {
      const c = el.children.find((x) => x.name === name);
      if (!c) return { el: undefined, values: [] };
      cc.checkAttributes(c, attrs);
      cc.checkChildren(c, [item]);
      return {
        el: c,
        values: c.children.filter((x) => x.name === item).map((x) => {
          cc.checkAttributes(x, []);
          return cc.text(x);
        }),
      };
    };
    const origins = list('allowed-origins', 'origin');
    const methods = list('allowed-methods', 'method', ['preflight-result-max-age']);
    const headers = list('allowed-headers', 'header');
    const expose = list('expose-headers', 'header');
    if (!origins.el || origins.values.length === 0) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<cors> needs <allowed-origins> with at least one <origin>', el.offset);
    if (!headers.el) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<cors> needs <allowed-headers>', el.offset);
    const maxAge = methods.el ? cc.integer(methods.el, 'preflight-result-max-age', { default: 0, min: 0 })! : undefined;
    return {
      ...cc.meta(el),
      run(st) {
        const ctx = st.ctx;
        const req = ctx.request;
        const origin = req.headers.get('Origin');
        if (origin === undefined) return;
        const os = origins.values.map((v) => v.get(ctx));
        const anyOrigin = os.includes('*');
        const originOk = anyOrigin || os.some((o) => normalizeOrigin(o) === normalizeOrigin(origin));
        const creds = allowCredentials.get(ctx);
        const preflight = req.method === 'OPTIONS' && req.headers.has('Access-Control-Request-Method');
        const ms = methods.values.map((v) => v.get(ctx).toUpperCase());
        const hs = headers.values.map((v) => v.get(ctx).toLowerCase());
        const allowOrigin = anyOrigin && !creds ? '*' : origin;
        if (preflight) {
          const wantMethod = (req.headers.get('Access-Control-Request-Method') ?? '').toUpperCase();
          const wantHeaders = (req.headers.get('Access-Control-Request-Headers') ?? '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
          const methodOk = ms.length ? ms.includes('*') || ms.includes(wantMethod) : wantMethod === 'GET' || wantMethod === 'POST';
          const headersOk = hs.includes('*') || wantHeaders.every((x) => hs.includes(x));
          const out = new HeaderMap();
          if (originOk && methodOk && headersOk) {
            out.set('Access-Control-Allow-Origin', allowOrigin);
            if (creds) out.set('Access-Control-Allow-Credentials', 'true');
            out.set('Access-Control-Allow-Methods', ms.includes('*') || ms.length === 0 ? wantMethod : ms.join(','));
            if (wantHeaders.length) out.set('Access-Control-Allow-Headers', hs.includes('*') ? wantHeaders.join(',') : wantHeaders.join(','));
            const age = maxAge ? maxAge.get(ctx) : 0;
            if (age > 0) out.set('Access-Control-Max-Age', String(age));
            if (allowOrigin !== '*') out.set('Vary', 'Origin');
          } else if (!terminate.get(ctx)) return;
          ctx.response = { statusCode: 200, statusReason: 'OK', headers: out, body: { bytes: undefined } };
          st.done = true;
          st.logReason = originOk ? 'cors_preflight' : 'cors_preflight_unmatched';
          return;
        }
        if (!originOk) {
          if (terminate.get(ctx) && (req.method === 'GET' || req.method === 'HEAD')) {
            ctx.response = { statusCode: 200, statusReason: 'OK', headers: new HeaderMap(), body: { bytes: undefined } };
            st.done = true;
            st.logReason = 'cors_origin_unmatched';
          }
          return;
        }
        st.extraResponseHeaders.push(['Access-Control-Allow-Origin', allowOrigin]);
        if (creds) st.extraResponseHeaders.push(['Access-Control-Allow-Credentials', 'true']);
        const ex = expose.values.map((v) => v.get(ctx));
        if (ex.length) st.extraResponseHeaders.push(['Access-Control-Expose-Headers', ex.join(',')]);
        if (allowOrigin !== '*') st.extraResponseHeaders.push(['Vary', 'Origin']);
      },
    };
  },
};
