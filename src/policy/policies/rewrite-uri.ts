/**
 * <rewrite-uri template="" copy-unmatched-params="true|false"/> (rewrite-uri-policy.md): replaces
 * the backend path (relative to the base URL) with the template, {param}s from the matched
 * operation; query parameters not in the operation's template are kept unless told otherwise.
 */
import { parseQuery } from '../context.js';
import type { PolicyDefinition } from '../compile.js';
import { PolicyFailure } from '../runtime.js';

export const rewriteUri: PolicyDefinition = {
  name: 'rewrite-uri',
  sections: ['inbound'],
  attributes: ['template', 'copy-unmatched-params'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const template = cc.string(el, 'template', { required: true });
    const copy = cc.boolean(el, 'copy-unmatched-params', true);
    return {
      ...cc.meta(el),
      run(st) {
        if (!template) return;
        const ctx = st.ctx;
        const t = template.get(ctx);
        const params = ctx.request.matchedParameters;
        const fill = (s: string, encode: boolean) =>
          s.replace(/\{([^}]+)\}/g, (_m, n: string) => {
            const v = params.get(n);
            if (v === undefined) throw new PolicyFailure({ source: 'rewrite-uri', reason: 'TemplateParameterNotFound', message: `Template parameter '${n}' was not matched by the operation.` });
            return encode ? encodeURIComponent(v) : v;
          });
        const q = t.indexOf('?');
        let path = fill(q < 0 ? t : t.slice(0, q), true);
        if (!path.startsWith('/')) path = '/' + path;
        const newQuery = q < 0 ? [] : parseQuery(fill(t.slice(q + 1), false));
        if (copy.get(ctx)) {
          const names = new Set(newQuery.map(([k]) => k));
          for (const [k, v] of ctx.request.url.query) if (!st.templateQueryNames.has(k) && !names.has(k)) newQuery.push([k, v]);
        }
        st.relativePath = path;
        ctx.request.url.query = newQuery;
        st.updateUrl();
      },
    };
  },
};
