/**
 * <authentication-certificate thumbprint="" | certificate-id="" | body="" password=""/>
 * (authentication-certificate-policy.md): the backend call (forward-request) uses this client
 * certificate from the service's certificate entities (mTLS to the backend, the third post).
 */
import type { PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import { PolicyFailure, type RequestState } from '../runtime.js';
import type { PolicyValue } from '../compile.js';

export function resolveCredential(st: RequestState, thumbprint: PolicyValue<string> | undefined, certificateId: PolicyValue<string> | undefined): { certPem: string; keyPem: string } {
  const key = certificateId ? certificateId.get(st.ctx) : thumbprint ? thumbprint.get(st.ctx) : '';
  const c = st.services.certificateStore.clientCredential(key);
  if (!c) {
    throw new PolicyFailure({ source: 'authentication-certificate', reason: 'CertificateNotFound', message: `Certificate '${key}' with a private key was not found.`, logReason: 'backend_certificate_not_found' });
  }
  return { certPem: c.certPem, keyPem: c.keyPem };
}

export const authenticationCertificate: PolicyDefinition = {
  name: 'authentication-certificate',
  sections: ['inbound'],
  attributes: ['thumbprint', 'certificate-id', 'body', 'password'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const thumbprint = cc.string(el, 'thumbprint');
    const certificateId = cc.string(el, 'certificate-id');
    const body = cc.attr(el, 'body');
    if (body) cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, 'authentication-certificate body="" is not run by Gatehouse yet; use certificate-id', body.offset);
    if ([thumbprint, certificateId, body].filter(Boolean).length !== 1) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<authentication-certificate> needs one of thumbprint, certificate-id or body', el.offset);
    const env = cc.options.env;
    const id = certificateId?.constantValue;
    if (id !== undefined && env?.certificateIds && !env.certificateIds.has(id.toLowerCase())) cc.error(PolicyCodes.GH_POLICY_REFERENCE, `certificate-id '${id}' names no certificate of the service`, el.offset);
    const tp = thumbprint?.constantValue;
    if (tp !== undefined && env?.certificateThumbprints && !env.certificateThumbprints.has(tp.toLowerCase())) cc.error(PolicyCodes.GH_POLICY_REFERENCE, `thumbprint '${tp}' names no certificate of the service`, el.offset);
    return {
      ...cc.meta(el),
      run(st) {
        st.clientCertificate = resolveCredential(st, thumbprint, certificateId);
      },
    };
  },
};
