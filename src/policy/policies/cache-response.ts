/**
 * <cache-lookup vary-by-developer="" vary-by-developer-groups="" …><vary-by-header/><vary-by-query-parameter/></cache-lookup>
 * in inbound and <cache-store duration="" cache-response=""/> in outbound (cache-lookup-policy.md,
 * cache-store-policy.md): GET responses kept in the gateway's value cache, keyed by operation,
 * the chosen headers and query parameters (and the subscription when varying by developer).
 * A hit ends the pipeline with the stored response.
 */
import { HeaderMap } from '../../core/headers.js';
import type { HostContext, HostResponse } from '../../expr/host.js';
import type { PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { RequestState } from '../runtime.js';

interface Stored {
  statusCode: number;
  statusReason: string;
  headers: [string, readonly string[]][];
  body: Buffer | undefined;
}

function keyOf(ctx: HostContext, headers: readonly string[], params: readonly string[] | undefined, byDeveloper: boolean): string {
  const parts = [ctx.api?.id ?? '', ctx.operation?.id ?? '', ctx.request.url.path];
  for (const h of headers) parts.push(`h:${h.toLowerCase()}=${ctx.request.headers.get(h) ?? ''}`);
  const q = ctx.request.url.query.filter(([k]) => !params || params.includes(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of q) parts.push(`q:${k}=${v}`);
  if (byDeveloper) parts.push(`s:${ctx.subscription?.id ?? ''}`);
  // JSON, not a separator: header and query values are the client's and may contain any separator.
  return `cache-response:${JSON.stringify(parts)}`;
}

export const cacheLookup: PolicyDefinition = {
  name: 'cache-lookup',
  sections: ['inbound'],
  attributes: ['vary-by-developer', 'vary-by-developer-groups', 'allow-private-response-caching', 'caching-type', 'downstream-caching-type', 'must-revalidate'],
  compile(el, cc) {
    cc.checkChildren(el, ['vary-by-header', 'vary-by-query-parameter']);
    for (const req of ['vary-by-developer', 'vary-by-developer-groups']) if (!cc.attr(el, req)) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<cache-lookup> needs the attribute '${req}'`, el.offset);
    const byDeveloper = (cc.boolean(el, 'vary-by-developer', false).constantValue ?? false) || (cc.boolean(el, 'vary-by-developer-groups', false).constantValue ?? false);
    cc.choice(el, 'caching-type', ['internal', 'external', 'prefer-external'] as const, 'prefer-external');
    cc.choice(el, 'downstream-caching-type', ['none', 'private', 'public'] as const, 'none');
    const headers = el.children.filter((c) => c.name === 'vary-by-header').map((c) => c.text);
    const queryEls = el.children.filter((c) => c.name === 'vary-by-query-parameter');
    const params = queryEls.length ? queryEls.flatMap((c) => c.text.split(';').map((x) => x.trim()).filter(Boolean)) : undefined;
    return {
      ...cc.meta(el),
      run(st: RequestState) {
        const ctx = st.ctx;
        if (ctx.request.method !== 'GET' || !st.services.valueCache) return;
        const key = keyOf(ctx, headers, params, byDeveloper);
        st.cacheKey = key;
        const hit = st.services.valueCache.get(key, ctx.now().getTime()) as Stored | undefined;
        if (!hit) return;
        const res: HostResponse = { statusCode: hit.statusCode, statusReason: hit.statusReason, headers: new HeaderMap(hit.headers), body: { bytes: hit.body } };
        ctx.response = res;
        st.done = true;
        st.logReason ??= 'cache_hit';
      },
    };
  },
};

export const cacheStore: PolicyDefinition = {
  name: 'cache-store',
  sections: ['outbound'],
  attributes: ['duration', 'cache-response'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const duration = cc.integer(el, 'duration', { required: true, min: 1 });
    const always = cc.boolean(el, 'cache-response', false);
    return {
      ...cc.meta(el),
      run(st) {
        const ctx = st.ctx;
        const key = st.cacheKey;
        if (key === undefined || !duration || !st.services.valueCache) return;
        const r = ctx.response;
        if (r.statusCode !== 200 && !always.get(ctx)) return;
        const stored: Stored = { statusCode: r.statusCode, statusReason: r.statusReason, headers: [...r.headers.entries()].map(([n, v]) => [n, [...v]]), body: r.body.bytes ? Buffer.from(r.body.bytes) : undefined };
        st.services.valueCache.set(key, stored, duration.get(ctx), ctx.now().getTime());
      },
    };
  },
};
