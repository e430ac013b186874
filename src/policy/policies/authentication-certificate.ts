/**
 * <authentication-certificate thumbprint="" | certificate-id="" | body="" password=""/>
 * (authentication-certificate-policy.md): the backend call (forward-request) uses this client
 * certificate: one of the service's certificate entities (mTLS to the backend, the third post), or
 * the PKCS#12 (PFX) bytes an expression gives in `body`, opened with `password`.
 */
import { createHash } from 'node:crypto';
import type { PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import { PolicyFailure, type RequestState } from '../runtime.js';
import type { PolicyValue } from '../compile.js';
import { loadCertificates } from '../../pki/index.js';

type Credential = { certPem: string; keyPem: string };

/**
 * Opened PFX bodies by their bytes and password: opening one derives keys (thousands of hash
 * rounds), which must not happen on every request. Bounded; the oldest entry goes first.
 */
const opened = new Map<string, Promise<Credential>>();
const OPENED_MAX = 64;

/** The client certificate and key in PFX bytes given by `body` (an expression returning byte[]). */
export function credentialFromBody(value: unknown, password: string): Promise<Credential> {
  if (!(value instanceof Uint8Array) || value.length === 0) {
    return Promise.reject(new PolicyFailure({ source: 'authentication-certificate', reason: 'InvalidCertificate', message: 'The body of authentication-certificate is not a byte array holding a certificate.', logReason: 'backend_certificate_invalid' }));
  }
  const key = createHash('sha256').update(value).update('\0').update(password, 'utf8').digest('base64');
  let p = opened.get(key);
  if (!p) {
    p = loadCertificates(value, { origin: 'authentication-certificate body', password }).then(
      (m) => {
        if (!m.privateKeyPem || !m.certificates.length) throw new Error('it holds no private key');
        return { certPem: m.certificates.map((c) => c.toPem()).join(''), keyPem: m.privateKeyPem };
      },
    );
    // A failure is not kept: the next request tries again (and fails the same way, cheaply for a bad password).
    p.catch(() => opened.delete(key));
    if (opened.size >= OPENED_MAX) opened.delete(opened.keys().next().value!);
    opened.set(key, p);
  }
  return p.catch((e: unknown) => {
    throw new PolicyFailure({ source: 'authentication-certificate', reason: 'InvalidCertificate', message: `The certificate in the body of authentication-certificate cannot be used: ${e instanceof Error ? e.message : String(e)}`, logReason: 'backend_certificate_invalid' });
  });
}

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
    const body = cc.attr(el, 'body') ? cc.raw(el, 'body') : undefined;
    const password = cc.string(el, 'password');
    if ([thumbprint, certificateId, body].filter(Boolean).length !== 1) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<authentication-certificate> needs one of thumbprint, certificate-id or body', el.offset);
    const env = cc.options.env;
    const id = certificateId?.constantValue;
    if (id !== undefined && env?.certificateIds && !env.certificateIds.has(id.toLowerCase())) cc.error(PolicyCodes.GH_POLICY_REFERENCE, `certificate-id '${id}' names no certificate of the service`, el.offset);
    const tp = thumbprint?.constantValue;
    if (tp !== undefined && env?.certificateThumbprints && !env.certificateThumbprints.has(tp.toLowerCase())) cc.error(PolicyCodes.GH_POLICY_REFERENCE, `thumbprint '${tp}' names no certificate of the service`, el.offset);
    return {
      ...cc.meta(el),
      run(st) {
        if (body) {
          return credentialFromBody(body.get(st.ctx), password ? password.get(st.ctx) : '').then((c) => {
            st.clientCertificate = c;
          });
        }
        st.clientCertificate = resolveCredential(st, thumbprint, certificateId);
      },
    };
  },
};
