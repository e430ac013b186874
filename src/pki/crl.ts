/**
 * X.509 CRLs (RFC 5280 section 5), parsed just enough to check revocation: issuer, signature,
 * revoked serial numbers, and the CRL Number rules.
 */
import { children, content, DerError, readTlv, slice } from './der.js';
import { decodeOid } from './dotnet-format.js';

export interface ParsedCrl {
  readonly issuerDer: Buffer;
  readonly tbsDer: Buffer;
  readonly signatureAlgorithmDer: Buffer;
  readonly tbsSignatureAlgorithmDer: Buffer;
  readonly signatureAlgorithmOid: string;
  readonly signatureValue: Buffer;
  /** Uppercase hex serial numbers, as Certificate.serialNumber spells them. */
  readonly revokedSerials: ReadonlySet<string>;
  /** Why the CRL cannot be relied on (missing or critical CRL Number, …), if anything. */
  readonly problem?: string;
}

const OID_CRL_NUMBER = '2.5.29.20';

export function parseCrl(input: Uint8Array | string): ParsedCrl {
  let der: Buffer;
  if (typeof input === 'string' || (input[0] !== 0x30 && Buffer.from(input).includes('-----BEGIN'))) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    const m = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
    if (!m) throw new DerError('no X509 CRL PEM block', false);
    der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  } else der = Buffer.from(input);
  const top = readTlv(der, 0);
  const [tbs, alg, sig] = children(der, top);
  if (!tbs || !alg || !sig) throw new DerError('a CertificateList has three parts', false);
  const f = children(der, tbs);
  let i = 0;
  if (f[0]?.tag === 0x02) i++;
  const tbsAlg = f[i++]!;
  const issuer = f[i++]!;
  i++; // thisUpdate
  if (f[i]?.tag === 0x17 || f[i]?.tag === 0x18) i++; // nextUpdate
  const revoked = new Set<string>();
  if (f[i]?.tag === 0x30) {
    for (const entry of children(der, f[i]!)) {
      const serial = children(der, entry)[0]!;
      revoked.add(content(der, serial).toString('hex').toUpperCase());
    }
    i++;
  }
  let problem: string | undefined = 'the CRL has no CRL Number extension';
  if (f[i]?.tag === 0xa0) {
    const exts = children(der, children(der, f[i]!)[0]!);
    for (const e of exts) {
      const parts = children(der, e);
      const oid = decodeOid(der, parts[0]!.contentStart, parts[0]!.end);
      if (oid === OID_CRL_NUMBER) {
        const critical = parts[1]?.tag === 0x01 && der[parts[1].contentStart] !== 0;
        problem = critical ? 'the CRL Number extension must not be critical' : undefined;
      }
    }
  }
  const algOid = children(der, alg)[0]!;
  const sigBits = content(der, sig);
  const base = {
    issuerDer: slice(der, issuer),
    tbsDer: slice(der, tbs),
    signatureAlgorithmDer: slice(der, alg),
    tbsSignatureAlgorithmDer: slice(der, tbsAlg),
    signatureAlgorithmOid: decodeOid(der, algOid.contentStart, algOid.end),
    signatureValue: sigBits.subarray(1),
    revokedSerials: revoked,
  };
  return problem === undefined ? base : { ...base, problem };
}
