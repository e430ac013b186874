/**
 * The PKI API every other part of Gatehouse uses. This file is the contract: keep these names and
 * shapes; the implementations live in the modules beside it.
 *
 * Implementations: certificate.ts (parsing, .NET values), load.ts (formats), pkcs12.ts (PFX),
 * chain.ts (path building and validation), generate.ts (issuing), platform-ca.ts.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import './errors.js';

export { certificateFromDer } from './certificate.js';
/** A bounded cache of parsed certificates keyed by DER, owned by whoever creates it (one per APIM service). */
export { CertificateCache } from './cache.js';
export { parseCertificates, loadCertificates } from './load.js';
/** RFC 5280 path building and validation with backtracking across candidate issuers. */
export { verifyChain, type ExtraChainOptions, type ChainProfile } from './chain.js';
/** Gatehouse's local platform CA, made once under stateDir and reused. */
export { openPlatformCa } from './platform-ca.js';
export { generateCertificate, generateKey, type CertificateSpec, type GeneratedCertificate, type KeyAlgorithm } from './generate.js';
export { writePkcs12 } from './pkcs12.js';
export { PKI_CODES } from './errors.js';

/** An X.509 certificate with the values .NET and API Management show, computed once. */
export interface Certificate {
  readonly der: Buffer;
  /** Node's view, for TLS and signature checks. */
  readonly x509: X509Certificate;
  /** SHA-1 of the DER, uppercase hex: B4AF863C2AB64C4FFEFB85E6A805A5346A8B0105. */
  readonly thumbprint: string;
  /** SHA-256 of the DER, uppercase hex. */
  readonly sha256: string;
  /** .NET's X500DistinguishedName.Name format, e.g. `CN=Client 01` or `CN=x, O=y, C=NL`. */
  readonly subject: string;
  readonly issuer: string;
  /** .NET's SerialNumber: uppercase hex, big-endian, as encoded (leading 00 kept). */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCA: boolean;
  readonly isSelfIssued: boolean;
  /** PEM with markers and a trailing newline, 64-character lines. */
  toPem(): string;
  /** NGINX's $ssl_client_escaped_cert / Application Gateway's {var_client_certificate}. */
  toEscapedPem(): string;
  /** X509Certificate2.ToString(verbose). */
  toDotNetString(verbose?: boolean): string;
}

export type CertificateFormat = 'pem' | 'base64' | 'der' | 'escaped-pem' | 'pkcs12';

export interface LoadedMaterial {
  readonly format: CertificateFormat;
  /** In file order; for PKCS#12 the certificate with the private key first, then the rest of the chain. */
  readonly certificates: Certificate[];
  /** PKCS#8 PEM of the private key, when the input carried one. */
  readonly privateKeyPem?: string;
  readonly privateKey?: KeyObject;
}

export interface LoadOptions {
  /** How errors name the input: a file path, or a JSON path like `sslCertificates[0].properties.data`. */
  readonly origin: string;
  /** The PKCS#12 password; '' and undefined both mean "no password". */
  readonly password?: string | undefined;
}


/** .NET's X509ChainStatusFlags names, as API Management users see them. */
export type ChainStatusFlag =
  | 'NotTimeValid'
  | 'NotTimeNested'
  | 'Revoked'
  | 'NotSignatureValid'
  | 'NotValidForUsage'
  | 'UntrustedRoot'
  | 'RevocationStatusUnknown'
  | 'Cyclic'
  | 'InvalidExtension'
  | 'InvalidPolicyConstraints'
  | 'InvalidBasicConstraints'
  | 'InvalidNameConstraints'
  | 'HasNotSupportedNameConstraint'
  | 'HasNotDefinedNameConstraint'
  | 'HasNotPermittedNameConstraint'
  | 'HasExcludedNameConstraint'
  | 'PartialChain'
  | 'HasNotSupportedCriticalExtension'
  | 'ExplicitDistrust';

export interface ChainOptions {
  /** Trust anchors (roots, or any certificate trusted explicitly). */
  readonly anchors: readonly Certificate[];
  /** Untrusted certificates that may complete the path. */
  readonly intermediates?: readonly Certificate[];
  /** Validation time; default now. Validity is compared in whole seconds. */
  readonly at?: Date;
  /** Require extendedKeyUsage clientAuth (on the leaf and, where present, on the issuers). */
  readonly requireClientAuth?: boolean;
  /** Require extendedKeyUsage serverAuth (backends). */
  readonly requireServerAuth?: boolean;
}

export interface ChainResult {
  readonly valid: boolean;
  /** Leaf first, anchor last, when a path was found (the best attempt otherwise). */
  readonly chain: readonly Certificate[];
  /** Empty when valid. */
  readonly status: readonly ChainStatusFlag[];
  /** Human-readable reasons, one per problem found. */
  readonly reasons: readonly string[];
}


/** A key pair and certificate, as written by the generator and the platform CA. */
export interface IssuedCertificate {
  readonly certificate: Certificate;
  readonly privateKeyPem: string;
  /** The issuing chain (without the certificate itself), leaf-side first. */
  readonly chain: readonly Certificate[];
}

/**
 * Gatehouse's local platform CA (the stand-in for the public CAs that sign *.azure-api.net),
 * created once under stateDir and reused. Issues TLS server certificates for the API gateway.
 */
export interface PlatformCa {
  readonly root: Certificate;
  issueServerCertificate(hostNames: readonly string[]): Promise<IssuedCertificate>;
}

