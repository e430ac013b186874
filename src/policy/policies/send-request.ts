/**
 * <send-request mode="new|copy" response-variable-name="" timeout="" ignore-error=""> with set-url,
 * set-method, set-header, set-body and authentication-certificate (send-request-policy.md): calls
 * another service and stores its response (a HostResponse) in a context variable.
 */
import { HeaderMap } from '../../core/headers.js';
import type { HostBody, HostResponse } from '../../expr/host.js';
import * as expr from '../../expr/index.js';
import { backendRequestOf } from '../backend.js';
import { parseHostUrl } from '../context.js';
import type { PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import { PolicyFailure } from '../runtime.js';
import { resolveCredential } from './authentication-certificate.js';
import { basicCredentials } from './authentication-basic.js';
import { managedIdentityToken } from './authentication-managed-identity.js';
import { compileSetBody, type BodyMutator } from './set-body.js';
import { compileSetHeader, type HeaderMutator } from './set-header.js';

function makeSendRequest(oneWay: boolean): PolicyDefinition {
  return {
  name: oneWay ? 'send-one-way-request' : 'send-request',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: oneWay ? ['mode', 'timeout'] : ['mode', 'response-variable-name', 'timeout', 'ignore-error'],
  compile(el, cc) {
    for (const c of el.children) {
      if (['set-url', 'set-method', 'set-header', 'set-body', 'authentication-certificate', 'authentication-basic', 'authentication-managed-identity'].includes(c.name)) continue;
      if (c.name === 'proxy') {
        cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, `<${c.name}> in send-request is not run by Gatehouse yet`, c.offset);
      } else cc.error(PolicyCodes.GH_POLICY_UNKNOWN_ELEMENT, `<send-request> takes no child element <${c.name}>`, c.offset);
    }
    const mode = cc.choice(el, 'mode', ['new', 'copy'] as const, 'new');
    const variable = oneWay ? undefined : cc.string(el, 'response-variable-name', { required: true });
    const timeout = cc.integer(el, 'timeout', { default: 60, min: 0 })!;
    const ignoreError = oneWay || (cc.boolean(el, 'ignore-error', false, { expressions: false }).constantValue ?? false);
    let url: PolicyValue<string> | undefined;
    let method: PolicyValue<string> | undefined;
    const headers: HeaderMutator[] = [];
    let body: BodyMutator | undefined;
    let cert: { thumbprint: PolicyValue<string> | undefined; certificateId: PolicyValue<string> | undefined } | undefined;
    let basic: { username: PolicyValue<string> | undefined; password: PolicyValue<string> | undefined } | undefined;
    let identity: { resource: PolicyValue<string> | undefined; clientId: string | undefined } | undefined;
    for (const c of el.children) {
      if (c.name === 'set-url') {
        cc.checkAttributes(c, []);
        url = cc.text(c);
        const u = url.constantValue;
        if (u !== undefined && !u.includes('{{') && !/^https?:\/\/[^/]/i.test(u)) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `set-url must be an absolute http or https URL, got '${u}'`, c.textOffset);
      } else if (c.name === 'set-method') {
        cc.checkAttributes(c, []);
        method = cc.text(c);
      } else if (c.name === 'set-header') {
        cc.checkAttributes(c, ['name', 'exists-action']);
        headers.push(compileSetHeader(c, cc));
      } else if (c.name === 'set-body') {
        cc.checkAttributes(c, ['template', 'xsi-nil']);
        body = compileSetBody(c, cc);
      } else if (c.name === 'authentication-certificate') {
        cc.checkAttributes(c, ['thumbprint', 'certificate-id']);
        cert = { thumbprint: cc.string(c, 'thumbprint'), certificateId: cc.string(c, 'certificate-id') };
      } else if (c.name === 'authentication-managed-identity') {
        cc.checkAttributes(c, ['resource', 'client-id']);
        identity = { resource: cc.string(c, 'resource', { required: true }), clientId: cc.literal(c, 'client-id') };
      } else if (c.name === 'authentication-basic') {
        cc.checkAttributes(c, ['username', 'password']);
        basic = { username: cc.string(c, 'username', { required: true }), password: cc.string(c, 'password', { required: true }) };
      }
    }
    if (!url && mode.constantValue !== 'copy') cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<${el.name}> needs <set-url> unless mode="copy"`, el.offset);
    const meta = cc.meta(el);
    const send = async (st: import('../runtime.js').RequestState): Promise<void> => {
        const ctx = st.ctx;
        const name = variable ? variable.get(ctx) : '';
        const copy = mode.get(ctx) === 'copy';
        const h = copy ? ctx.request.headers.clone() : new HeaderMap();
        const b: HostBody = { bytes: copy && st.ctx.request.body.bytes ? Buffer.from(st.ctx.request.body.bytes) : undefined };
        for (const m of headers) m.apply(ctx, h);
        if (basic?.username && basic.password) h.set('Authorization', basicCredentials(basic.username.get(ctx), basic.password.get(ctx)));
        if (body) body.apply(ctx, b);
        const m = method ? method.get(ctx).toUpperCase() : copy ? ctx.request.method : 'GET';
        try {
          if (identity?.resource) h.set('Authorization', `Bearer ${await managedIdentityToken(st, identity.resource.get(ctx), identity.clientId)}`);
          let target = ctx.request.url;
          if (url) {
            const text = url.get(ctx);
            try {
              target = parseHostUrl(text);
            } catch {
              throw new PolicyFailure({ source: 'send-request', reason: 'InvalidUrl', message: `'${text}' is not an absolute URL.` });
            }
          }
          const saved = st.clientCertificate;
          st.clientCertificate = cert ? resolveCredential(st, cert.thumbprint, cert.certificateId) : undefined;
          const req = backendRequestOf(st, m, target, h, b.bytes, timeout.get(ctx), false);
          st.clientCertificate = saved;
          const r = await st.services.backendClient.send({ ...req, validateCertificateChain: false, validateCertificateName: false });
          if (oneWay) return;
          const stored: HostResponse = { statusCode: r.statusCode, statusReason: r.statusReason, headers: r.headers, body: { bytes: r.body } };
          // Expressions see an IResponse ((IResponse)context.Variables["…"]); return-response finds the HostResponse behind it.
          const Wrapper = (expr as Record<string, unknown>)['ResponseObject'] as (new (status: number, reason: string, headers: HeaderMap, body: HostBody) => object) | undefined;
          const value = Wrapper ? new Wrapper(stored.statusCode, stored.statusReason, stored.headers, stored.body) : stored;
          st.storedResponses.set(value, stored);
          ctx.variables.set(name, value);
        } catch (e) {
          if (ignoreError) {
            if (oneWay) st.services.logger.log({ level: 'warn', msg: 'send-one-way-request failed', error: e instanceof Error ? e.message : String(e) });
            else ctx.variables.set(name, null);
            return;
          }
          if (e instanceof PolicyFailure) {
            if (e.source === 'forward-request') e.source = 'send-request';
            throw e;
          }
          throw new PolicyFailure({ source: 'send-request', reason: 'BackendConnectionFailure', message: String(e), cause: e });
        }
    };
    return oneWay
      ? {
          ...meta,
          // Fire and forget: the request does not wait, and a failure is only logged.
          run: (st) => void send(st).catch((e: unknown) => st.services.logger.log({ level: 'warn', msg: 'send-one-way-request failed', error: e instanceof Error ? e.message : String(e) })),
        }
      : { ...meta, run: send };
  },
  };
}

export const sendRequest = makeSendRequest(false);
export const sendOneWayRequest = makeSendRequest(true);
