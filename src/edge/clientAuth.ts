/**
 * mTLS through sslProfiles: the uploaded trusted client CA chains, checked on load as Azure checks
 * them (spec 1.3), the issuer DN that verifyClientCertIssuerDN compares (spec 1.4), and the
 * verification of a client's certificate with src/pki's verifyChain.
 */
import type { Certificate } from '../pki/index.js';
import { parseCertificates, verifyChain } from '../pki/index.js';
import type { ClientAuthConfiguration, SslProfile, TrustedClientCertificate } from '../model/applicationGateway.js';
import type { DiagnosticBag } from '../core/diagnostics.js';
import { messageOf } from '../core/errors.js';
import { EDGE_CODES } from './errors.js';

export interface TrustedChain {
  readonly name: string;
  readonly certificates: readonly Certificate[];
  readonly root: Certificate;
  /** CA certificates other than the root. */
  readonly intermediates: readonly Certificate[];
  /** The DN verifyClientCertIssuerDN compares (.NET/pki format, as Certificate.subject). */
  readonly clientCertIssuerDN: string;
}

/** Loads one trustedClientCertificates entry and applies Azure's upload checks (spec 1.3). */
export function loadTrustedClientCertificate(t: TrustedClientCertificate, bag: DiagnosticBag, file?: string): TrustedChain | undefined {
  const at = file ? { file, path: t.path } : { path: t.path };
  const fail = (azureCode: string, msg: string) => {
    bag.error(EDGE_CODES.GH_EDGE_TRUSTED_CLIENT_CERTIFICATE, `trustedClientCertificate '${t.name}': ${azureCode}: ${msg}`, at);
    return undefined;
  };
  const data = t.data.trim();
  if (data === '') return fail('ApplicationGatewayTrustedClientCertificateMustSpecifyData', 'the data is empty');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(data)) return fail('ApplicationGatewayTrustedClientCertificateMustNotHavePrivateKey', 'the data holds a private key');
  let certs: Certificate[];
  try {
    certs = parseCertificates(data, { origin: t.path });
  } catch (e) {
    return fail('ApplicationGatewayTrustedClientCertificateInvalidData', messageOf(e));
  }
  if (certs.length === 0) return fail('ApplicationGatewayTrustedClientCertificateInvalidData', 'no certificate in the data');
  const cas = certs.filter((c) => c.isCA);
  if (cas.length === 0) return fail('ApplicationGatewayTrustedClientCertificateDoesNotContainAnyCACertificate', 'no certificate with CA basic constraints');
  const roots = cas.filter((c) => c.isSelfIssued);
  if (roots.length !== 1) {
    return fail('ApplicationGatewayOnlyOneRootCAAllowedInTrustedClientCertificate', `the chain must hold exactly one root CA certificate, found ${roots.length}`);
  }
  const root = roots[0]!;
  return { name: t.name, certificates: certs, root, intermediates: cas.filter((c) => c !== root), clientCertIssuerDN: extractIssuerDN(cas) };
}

/**
 * Spec 1.4: the subject of the lowest CA in the longest chain; ties go to the chain that comes
 * first in the file. Leaf (non-CA) certificates are ignored.
 */
export function extractIssuerDN(cas: readonly Certificate[]): string {
  const depth = new Map<Certificate, number>();
  const issuerOf = (c: Certificate) => (c.isSelfIssued ? undefined : cas.find((x) => x !== c && x.subject === c.issuer));
  const d = (c: Certificate, guard = 0): number => {
    const known = depth.get(c);
    if (known !== undefined) return known;
    const i = issuerOf(c);
    const v = i && guard < 16 ? 1 + d(i, guard + 1) : 1;
    depth.set(c, v);
    return v;
  };
  // Lowest CAs: those that issue no other CA in the file.
  const lowest = cas.filter((c) => !cas.some((x) => x !== c && !x.isSelfIssued && x.issuer === c.subject));
  let best = lowest[0] ?? cas[0]!;
  for (const c of lowest) if (d(c) > d(best)) best = c;
  return best.subject;
}

export type ClientCertVerdict =
  | { readonly ok: true; readonly sslClientVerify: 'SUCCESS'; /** The leaf's issuer on the validated path (for OCSP). */ readonly issuer?: Certificate }
  | { readonly ok: false; readonly reason: 'client_cert_untrusted' | 'client_cert_expired' | 'client_cert_issuer_dn_mismatch' | 'client_cert_revoked' | 'client_cert_ocsp_failed'; readonly sslClientVerify: string };

/** An sslProfile's client authentication, ready to run. */
export class CompiledClientAuth {
  readonly profileName: string;
  readonly config: ClientAuthConfiguration;
  readonly strict: boolean;
  private readonly anchors: Certificate[];
  private readonly intermediates: Certificate[];
  private readonly issuerDNs: Set<string>;

  constructor(profile: SslProfile, config: ClientAuthConfiguration, chains: readonly TrustedChain[]) {
    this.profileName = profile.name;
    this.config = config;
    this.strict = config.verifyClientAuthMode === 'Strict';
    this.anchors = chains.map((c) => c.root);
    this.intermediates = chains.flatMap((c) => c.intermediates);
    this.issuerDNs = new Set(chains.map((c) => c.clientCertIssuerDN));
  }

  /** Verifies a client's leaf with the chain it sent. OpenSSL-style reasons for sslClientVerify. */
  verify(leaf: Certificate, sent: readonly Certificate[], at: Date): ClientCertVerdict {
    let result: ReturnType<typeof verifyChain>;
    try {
      result = verifyChain(leaf, { anchors: this.anchors, intermediates: [...this.intermediates, ...sent], at, requireClientAuth: true });
    } catch (e) {
      // Never let a verifier failure let a certificate through, nor crash the gateway.
      return { ok: false, reason: 'client_cert_untrusted', sslClientVerify: `FAILED:${messageOf(e)}` };
    }
    if (!result.valid) {
      const expired = result.status.includes('NotTimeValid');
      const purpose = result.status.includes('NotValidForUsage');
      const text = expired
        ? leaf.notAfter.getTime() < at.getTime() ? 'certificate has expired' : 'certificate is not yet valid'
        : purpose
          ? 'unsupported certificate purpose'
          : result.status.includes('PartialChain') || result.status.includes('UntrustedRoot')
            ? 'unable to get local issuer certificate'
            : (result.reasons[0] ?? 'certificate verify failed');
      return { ok: false, reason: expired ? 'client_cert_expired' : 'client_cert_untrusted', sslClientVerify: `FAILED:${text}` };
    }
    if (this.config.verifyClientCertIssuerDN && !this.issuerDNs.has(leaf.issuer)) {
      return { ok: false, reason: 'client_cert_issuer_dn_mismatch', sslClientVerify: 'FAILED:unable to verify the client certificate issuer' };
    }
    const issuer = result.chain[1] ?? (result.chain[0] && result.chain[0] !== leaf ? result.chain[0] : undefined);
    return issuer ? { ok: true, sslClientVerify: 'SUCCESS', issuer } : { ok: true, sslClientVerify: 'SUCCESS' };
  }
}
