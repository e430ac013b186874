/**
 * <validate-client-certificate> (validate-client-certificate-policy.md): checks the certificate
 * of the TLS connection (context.Request.Certificate) against validity, trust (the service's Root
 * and CertificateAuthority stores) and identities. A certificate is valid when it passes all
 * top-level rules and all claims of at least one identity. Failures answer 401 with the
 * LastError reasons observed on Azure (see the addendum of spec/api-management.md).
 */
import type { Certificate } from '../../pki/index.js';
import type { PolicyDefinition } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';
import { PolicyFailure } from '../runtime.js';
import { findIssuer, isIssuedBy, normalizeName, trustOf } from '../trust.js';

const IDENTITY_ATTRIBUTES = ['thumbprint', 'serial-number', 'common-name', 'subject', 'dns-name', 'issuer-subject', 'issuer-thumbprint', 'issuer-certificate-id'] as const;
type IdentityKey = (typeof IDENTITY_ATTRIBUTES)[number];
type Identity = Partial<Record<IdentityKey, string>>;

function fail(reason: string, logReason: string, message: string): PolicyFailure {
  return new PolicyFailure({ source: 'validate-client-certificate', reason, message, status: 401, statusReason: 'Unauthorized', bodyMessage: message, logReason });
}

function hex(s: string): string {
  return s.replace(/[\s:]/g, '').toUpperCase();
}

function serial(s: string): string {
  return hex(s).replace(/^0+(?=.)/, '');
}

export function commonNameOf(dn: string): string | undefined {
  for (const part of dn.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
    const m = /^\s*CN\s*=\s*(.*?)\s*$/i.exec(part);
    if (m) return m[1]!.replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

function dnsNames(c: Certificate): string[] {
  const san = c.x509.subjectAltName ?? '';
  return san
    .split(/,\s*/)
    .filter((p) => p.startsWith('DNS:'))
    .map((p) => p.slice(4).toLowerCase());
}

export const validateClientCertificate: PolicyDefinition = {
  name: 'validate-client-certificate',
  sections: ['inbound'],
  attributes: ['validate-revocation', 'validate-trust', 'validate-not-before', 'validate-not-after', 'ignore-error'],
  compile(el, cc) {
    cc.checkChildren(el, ['identities']);
    const flag = (name: string, dflt: boolean) => cc.boolean(el, name, dflt, { expressions: false }).constantValue ?? dflt;
    const validateRevocation = flag('validate-revocation', true);
    const validateTrust = flag('validate-trust', true);
    const validateNotBefore = flag('validate-not-before', true);
    const validateNotAfter = flag('validate-not-after', true);
    const ignoreError = flag('ignore-error', false);
    if (validateRevocation && cc.options.mode === 'lint') {
      cc.report('info', PolicyCodes.GH_POLICY_NOT_SUPPORTED, 'validate-revocation is not checked locally (no CRL or OCSP access); set validate-revocation="false" to say so', el.offset);
    }
    const identities: NormalizedIdentity[] = [];
    const identitiesEls: PolicyElement[] = el.children.filter((c) => c.name === 'identities');
    if (identitiesEls.length > 1) cc.error(PolicyCodes.GH_POLICY_STRUCTURE, '<validate-client-certificate> takes one <identities>', identitiesEls[1]!.offset);
    for (const ids of identitiesEls) {
      cc.checkAttributes(ids, []);
      cc.checkChildren(ids, ['identity']);
      const list = ids.children.filter((c) => c.name === 'identity');
      if (list.length > 10) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `<identities> takes at most 10 <identity> elements, got ${list.length}`, list[10]!.offset);
      for (const idEl of list) {
        cc.checkAttributes(idEl, IDENTITY_ATTRIBUTES);
        cc.checkChildren(idEl, []);
        const id: Identity = {};
        for (const k of IDENTITY_ATTRIBUTES) {
          const v = cc.literal(idEl, k);
          if (v !== undefined) id[k] = v;
        }
        if (Object.keys(id).length === 0) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<identity> needs at least one attribute', idEl.offset);
        if (id['issuer-certificate-id'] !== undefined && (id['issuer-subject'] !== undefined || id['issuer-thumbprint'] !== undefined)) {
          cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, 'issuer-certificate-id cannot be combined with issuer-subject or issuer-thumbprint', idEl.offset);
        }
        const certId = id['issuer-certificate-id'];
        const known = cc.options.env?.certificateIds;
        if (certId !== undefined && known && !known.has(certId.toLowerCase())) {
          cc.error(PolicyCodes.GH_POLICY_REFERENCE, `issuer-certificate-id '${certId}' names no certificate of the service`, idEl.offset);
        }
        identities.push(normalizeIdentity(id));
      }
    }
    void validateRevocation;
    return {
      ...cc.meta(el),
      run(st) {
        const ctx = st.ctx;
        const presented = ctx.request.certificate;
        // The service's certificate for these bytes: one object per certificate, not per connection,
        // so that what is remembered about it (issuer checks) serves every request.
        const cache = ctx.deployment.certificateCache;
        const cert = presented && cache ? cache.fromDer(presented.der) : presented;
        let failure: PolicyFailure | undefined;
        if (!cert) failure = fail('ClientCertificateNotFound', 'no_client_cert', 'Client certificate missing');
        else {
          const now = ctx.now().getTime();
          const store = st.services.certificateStore;
          if (validateNotBefore && now < cert.notBefore.getTime()) failure = fail('ClientCertificateNotYetValid', 'client_cert_not_yet_valid', 'Invalid client certificate');
          else if (validateNotAfter && now > cert.notAfter.getTime()) failure = fail('ClientCertificateExpired', 'client_cert_expired', 'Invalid client certificate');
          else {
            let trust: ReturnType<typeof trustOf> | undefined;
            const getTrust = () => (trust ??= trustOf(cert, store.trustedRoots, store.intermediates, st.services.trustCache, ctx.now()));
            if (validateTrust && !getTrust().trusted) failure = fail('ClientCertificateNotTrusted', 'client_cert_untrusted', 'Invalid client certificate');
            else if (identities.length && !identities.some((id) => matches(id, cert, getTrust, store))) {
              failure = fail('ClientCertificateIdentityNotMatched', 'client_cert_identity_not_matched', 'Invalid client certificate');
            }
          }
        }
        if (failure) {
          if (ignoreError) return;
          throw failure;
        }
      },
    };
  },
};

/** An identity with its claims normalised once, at load: hex upper case, names lower case, DNs by normalizeName. */
interface NormalizedIdentity {
  readonly thumbprint?: string;
  readonly serialNumber?: string;
  readonly commonName?: string;
  readonly subject?: string;
  readonly dnsName?: string;
  readonly issuerSubject?: string;
  readonly issuerThumbprint?: string;
  readonly issuerCertificateId?: string;
}

function normalizeIdentity(id: Identity): NormalizedIdentity {
  const out: { -readonly [K in keyof NormalizedIdentity]: NormalizedIdentity[K] } = {};
  if (id.thumbprint !== undefined) out.thumbprint = hex(id.thumbprint);
  if (id['serial-number'] !== undefined) out.serialNumber = serial(id['serial-number']);
  if (id['common-name'] !== undefined) out.commonName = id['common-name'].toLowerCase();
  if (id.subject !== undefined) out.subject = normalizeName(id.subject);
  if (id['dns-name'] !== undefined) out.dnsName = id['dns-name'].toLowerCase();
  if (id['issuer-subject'] !== undefined) out.issuerSubject = normalizeName(id['issuer-subject']);
  if (id['issuer-thumbprint'] !== undefined) out.issuerThumbprint = hex(id['issuer-thumbprint']);
  if (id['issuer-certificate-id'] !== undefined) out.issuerCertificateId = id['issuer-certificate-id'].toLowerCase();
  return out;
}

function matches(id: NormalizedIdentity, cert: Certificate, trust: () => { chain: readonly Certificate[] }, store: { certificates: ReadonlyMap<string, Certificate>; trustedRoots: readonly Certificate[]; intermediates: readonly Certificate[] }): boolean {
  if (id.thumbprint !== undefined && id.thumbprint !== cert.thumbprint.toUpperCase()) return false;
  if (id.serialNumber !== undefined && id.serialNumber !== serial(cert.serialNumber)) return false;
  if (id.commonName !== undefined && (commonNameOf(cert.subject) ?? '').toLowerCase() !== id.commonName) return false;
  if (id.subject !== undefined && id.subject !== normalizeName(cert.subject)) return false;
  if (id.dnsName !== undefined && !dnsNames(cert).includes(id.dnsName)) return false;
  if (id.issuerSubject !== undefined && id.issuerSubject !== normalizeName(cert.issuer)) return false;
  if (id.issuerThumbprint !== undefined) {
    const issuer = trust().chain[1] ?? findIssuer(cert, [...store.intermediates, ...store.trustedRoots, ...store.certificates.values()]);
    if (!issuer || issuer.thumbprint.toUpperCase() !== id.issuerThumbprint) return false;
  }
  if (id.issuerCertificateId !== undefined) {
    const want = id.issuerCertificateId;
    const issuer = [...store.certificates].find(([k]) => k.toLowerCase() === want)?.[1];
    if (!issuer || !isIssuedBy(cert, issuer)) return false;
  }
  return true;
}
