/**
 * X509Certificate2 on src/pki: the properties API Management shows, Verify() and the APIM
 * extension VerifyNoRevocation(), chained to the deployment's Root and CertificateAuthority stores.
 */
import { CertificateCache, certificateFromDer, verifyChain, type Certificate, type ChainResult } from '../../pki/index.js';
import { DotNetException } from '../errors.js';
import { CsObject, EnumValue, ex, type Runtime } from './core.js';
import { DateTime } from './datetime.js';
import type { HostContext } from '../host.js';
import { rsaPublicKeyOf, type RsaKey } from './rsa.js';

export class X500DistinguishedName extends CsObject {
  constructor(readonly Name: string) {
    super();
  }
  get $type(): string {
    return 'System.Security.Cryptography.X509Certificates.X500DistinguishedName';
  }
  override ToString(): string {
    return 'System.Security.Cryptography.X509Certificates.X500DistinguishedName';
  }
}

export class X509Certificate2 extends CsObject {
  constructor(readonly cert: Certificate, private readonly host: HostContext) {
    super();
  }
  get $type(): string {
    return 'System.Security.Cryptography.X509Certificates.X509Certificate2';
  }
  get Thumbprint(): string {
    return this.cert.thumbprint;
  }
  get Subject(): string {
    return this.cert.subject;
  }
  get Issuer(): string {
    return this.cert.issuer;
  }
  get SubjectName(): X500DistinguishedName {
    return new X500DistinguishedName(this.cert.subject);
  }
  get IssuerName(): X500DistinguishedName {
    return new X500DistinguishedName(this.cert.issuer);
  }
  get SerialNumber(): string {
    return this.cert.serialNumber;
  }
  get NotBefore(): DateTime {
    return new DateTime(this.cert.notBefore.getTime(), 'Local');
  }
  get NotAfter(): DateTime {
    return new DateTime(this.cert.notAfter.getTime(), 'Local');
  }
  get RawData(): Buffer {
    return Buffer.from(this.cert.der);
  }
  get HasPrivateKey(): boolean {
    return false;
  }
  get Version(): number {
    return 3;
  }
  get FriendlyName(): string {
    return '';
  }
  /** RSACertificateExtensions.GetRSAPublicKey: null when the key is not RSA. */
  GetRSAPublicKey(): RsaKey | null {
    return rsaPublicKeyOf(this.cert.x509.publicKey);
  }
  /** The client certificate's private key never reaches the gateway. */
  GetRSAPrivateKey(): null {
    return null;
  }
  GetRawCertData(): Buffer {
    return Buffer.from(this.cert.der);
  }
  GetCertHash(): Buffer {
    return Buffer.from(this.cert.thumbprint, 'hex');
  }
  GetCertHashString(): string {
    return this.cert.thumbprint;
  }
  GetSerialNumberString(): string {
    return this.cert.serialNumber;
  }
  GetExpirationDateString(): string {
    return this.NotAfter.ToString();
  }
  GetEffectiveDateString(): string {
    return this.NotBefore.ToString();
  }
  GetNameInfo(type: unknown, forIssuer: unknown): string {
    const dn = forIssuer === true ? this.cert.issuer : this.cert.subject;
    const kind = type instanceof EnumValue ? type.name : 'SimpleName';
    if (kind === 'SimpleName' || kind === 'DnsName') {
      const m = /(?:^|,\s*)CN=((?:[^,"]|"[^"]*")*)/.exec(dn);
      return m ? m[1]!.replace(/^"|"$/g, '') : dn;
    }
    if (kind === 'EmailName') {
      const m = /(?:^|,\s*)E=([^,]*)/.exec(dn);
      return m ? m[1]! : '';
    }
    return dn;
  }
  /**
   * The chain to the deployment's Root and CertificateAuthority stores at the request's time. With
   * the service's CertificateCache (every running service has one) the result is remembered for
   * the certificate's DER and the store, so a policy that checks every request's certificate does
   * not search the path again on every request, nor on every new connection.
   */
  private chain(): ChainResult {
    const d = this.host.deployment;
    const options = { anchors: d.trustedRoots, intermediates: d.intermediates, at: this.host.now() };
    const cache = d.certificateCache;
    return cache instanceof CertificateCache ? cache.verifyChain(this.cert, options) : verifyChain(this.cert, options);
  }
  /**
   * Chain validation with a revocation check. Gatehouse cannot fetch CRLs or ask OCSP responders
   * (no network), so, as .NET does offline, a chain with any certificate below the trust anchor has
   * RevocationStatusUnknown and Verify() is false. Use VerifyNoRevocation() (as the seed does).
   * Only a certificate of the Root store itself can pass, so no other certificate needs a chain.
   */
  Verify(): boolean {
    const sha256 = this.cert.sha256;
    if (!this.host.deployment.trustedRoots.some((a) => a.sha256 === sha256)) return false;
    const r = this.chain();
    return r.valid && r.chain.length <= 1;
  }
  VerifyNoRevocation(): boolean {
    return this.chain().valid;
  }
  override Equals(o: unknown): boolean {
    return o instanceof X509Certificate2 && o.cert.issuer === this.cert.issuer && o.cert.serialNumber === this.cert.serialNumber;
  }
  override ToString(verbose?: unknown): string {
    return this.cert.toDotNetString(verbose === true);
  }
  override GetHashCode(): number {
    return parseInt(this.cert.thumbprint.slice(0, 8), 16) | 0;
  }
}

/** `new X509Certificate2(byte[])` (and the base64 string / password forms that carry DER). */
export function newX509Certificate2(rt: Runtime, args: unknown[]): X509Certificate2 {
  const data = args[0];
  if (data === null || data === undefined) throw ex.argNull('rawData');
  let der: Uint8Array;
  if (data instanceof Uint8Array) der = data;
  else if (typeof data === 'string') throw new DotNetException('System.Security.Cryptography.CryptographicException', 'The system cannot find the file specified.');
  else throw ex.invalidCast(data, 'System.Byte[]');
  if (der.length === 0) throw ex.arg('Array may not be empty or null.', 'rawData');
  let cert: Certificate;
  try {
    const cache = rt.host.deployment.certificateCache;
    cert = cache ? cache.fromDer(der) : certificateFromDer(der);
  } catch (e) {
    if (e instanceof DotNetException) throw e;
    throw new DotNetException('System.Security.Cryptography.CryptographicException', 'Cannot find the requested object.');
  }
  return new X509Certificate2(cert, rt.host);
}
