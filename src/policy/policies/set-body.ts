/**
 * <set-body>text or expression</set-body> (set-body-policy.md). In inbound and backend it sets the
 * request body; in outbound and on-error, and inside return-response, the response body.
 * template="liquid" is not run yet.
 */
import type { HostBody, HostContext } from '../../expr/host.js';
import { PolicyValue, type CompileContext, type PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';
import { LiquidError, parseLiquid, renderLiquid, type LiquidTemplate } from '../liquid.js';
import type { HeaderMap } from '../../core/headers.js';
import type { HostUrl } from '../../expr/host.js';

function headersObject(h: HeaderMap): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [n, vs] of h.entries()) o[n] = vs.join(',');
  return o;
}

function urlObject(u: HostUrl): Record<string, unknown> {
  const q: Record<string, string> = {};
  for (const [k, v] of u.query) q[k] = q[k] === undefined ? v : `${q[k]},${v}`;
  const qs = u.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return { Scheme: u.scheme, Host: u.host, Port: u.port, Path: u.path, Query: q, QueryString: qs ? `?${qs}` : '' };
}

/** The `context` a Liquid template sees (set-body-policy.md lists these members). */
function liquidContext(ctx: HostContext): Record<string, unknown> {
  const r = ctx.request;
  return {
    Request: {
      Method: r.method,
      Url: urlObject(r.url),
      OriginalUrl: urlObject(r.originalUrl),
      IpAddress: r.ipAddress,
      MatchedParameters: Object.fromEntries(r.matchedParameters),
      HasBody: !!r.body.bytes?.length,
      Headers: headersObject(r.headers),
    },
    Response: { StatusCode: ctx.response.statusCode, StatusReason: ctx.response.statusReason, Headers: headersObject(ctx.response.headers) },
    Variables: Object.fromEntries(ctx.variables),
  };
}

export interface BodyMutator {
  apply(ctx: HostContext, body: HostBody): void;
}

export function compileSetBody(el: PolicyElement, cc: CompileContext): BodyMutator {
  // A body may be markup (an XML payload or a Liquid template with tags): its content as written.
  const markup = el.children.length > 0 && !el.textExpression;
  const template = cc.literal(el, 'template');
  let liquid: LiquidTemplate | undefined;
  if (template !== undefined) {
    if (template.toLowerCase() !== 'liquid') cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `set-body template must be 'liquid', got '${template}'`, el.offset);
    else if (el.textExpression) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, 'a Liquid template is text, not a policy expression', el.textOffset);
    else {
      try {
        liquid = parseLiquid(markup ? el.rawContent : el.text);
      } catch (e) {
        const at = e instanceof LiquidError ? e.offset : 0;
        // Offsets are into the template text; the element's text offset is close enough for a message.
        cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `Liquid template: ${(e as Error).message}`, el.textOffset + (markup ? 0 : Math.min(at, 0)));
      }
    }
  }
  const nil = cc.literal(el, 'xsi-nil');
  if (nil !== undefined && nil !== 'blank' && nil !== 'null') cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `set-body xsi-nil must be blank or null, got '${nil}'`, el.offset);
  const value = markup ? PolicyValue.constant(el.rawContent.trim()) : cc.text(el);
  const onRequest = cc.section === 'inbound' || cc.section === 'backend';
  if (liquid) {
    const nodes = liquid;
    return {
      apply(ctx, body) {
        // The message the template binds to as `body`: the request in inbound/backend, the response after.
        const source = onRequest ? ctx.request.body.bytes : ctx.response.body.bytes;
        let parsed: unknown;
        if (source && source.length) {
          try {
            parsed = JSON.parse(source.toString('utf8'));
          } catch {
            parsed = undefined;
          }
        }
        body.bytes = Buffer.from(renderLiquid(nodes, { context: liquidContext(ctx), body: parsed }), 'utf8');
      },
    };
  }
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
