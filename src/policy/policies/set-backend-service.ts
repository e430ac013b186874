/**
 * <set-backend-service base-url="" | backend-id=""/> (set-backend-service-policy.md): changes the
 * backend base URL; the operation-relative path and the query are appended to it.
 */
import { parseHostUrl } from '../context.js';
import type { PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import { PolicyFailure, type RequestState } from '../runtime.js';

export function setTarget(st: RequestState, url: string, backendId: string | undefined): void {
  let u;
  try {
    u = parseHostUrl(url);
  } catch {
    throw new PolicyFailure({ source: 'set-backend-service', reason: 'InvalidBackendUrl', message: `'${url}' is not an absolute URL.` });
  }
  st.target = { scheme: u.scheme, host: u.host, port: u.port, basePath: u.path.replace(/\/+$/, ''), backendId };
  st.updateUrl();
}

export const setBackendService: PolicyDefinition = {
  name: 'set-backend-service',
  sections: ['inbound', 'backend'],
  attributes: ['base-url', 'backend-id', 'sf-resolve-condition', 'sf-service-instance-name', 'sf-partition-key', 'sf-listener-name', 'dapr-app-id', 'dapr-method', 'dapr-namespace'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const baseUrl = cc.string(el, 'base-url');
    const backendId = cc.string(el, 'backend-id');
    for (const a of el.attributes) {
      if (a.name.startsWith('sf-') || a.name.startsWith('dapr-')) cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, `set-backend-service '${a.name}' (Service Fabric / Dapr) is not run by Gatehouse`, a.offset);
    }
    if (!baseUrl === !backendId) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<set-backend-service> needs either base-url or backend-id', el.offset);
    const literalId = backendId?.constantValue;
    const known = cc.options.env?.backendIds;
    if (literalId !== undefined && known && !known.has(literalId.toLowerCase())) cc.error(PolicyCodes.GH_POLICY_REFERENCE, `backend-id '${literalId}' names no backend of the service`, el.offset);
    const literalUrl = baseUrl?.constantValue;
    if (literalUrl !== undefined && !literalUrl.includes('{{') && !/^https?:\/\/[^/]/i.test(literalUrl)) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `base-url must be an absolute http or https URL, got '${literalUrl}'`, el.offset);
    return {
      ...cc.meta(el),
      run(st) {
        if (baseUrl) return setTarget(st, baseUrl.get(st.ctx), undefined);
        const id = backendId!.get(st.ctx);
        const b = st.services.backends.get(id.toLowerCase());
        if (!b) throw new PolicyFailure({ source: 'set-backend-service', reason: 'BackendNotFound', message: `Backend with id '${id}' could not be found.` });
        setTarget(st, b.url, b.name.toLowerCase());
      },
    };
  },
};
