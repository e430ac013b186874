/**
 * System.Security.Cryptography.RSA on node:crypto: RSA.Create(), ImportFromPem, the public key of
 * a client certificate (GetRSAPublicKey), SignData/VerifyData (PKCS#1 v1.5 and PSS), SignHash/
 * VerifyHash, Encrypt/Decrypt (PKCS#1 and OAEP).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt, sign, verify, constants, type KeyObject } from 'node:crypto';
import { CsObject, csToString, EnumValue, ex, type Runtime } from './core.js';

function bytes(v: unknown, name: string): Buffer {
  if (v === null || v === undefined) throw ex.argNull(name);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw ex.invalidCast(v, 'System.Byte[]');
}

function hashName(v: unknown): string {
  const n = csToString(v).toUpperCase();
  if (!['SHA1', 'SHA256', 'SHA384', 'SHA512', 'MD5'].includes(n)) throw ex.crypto(`'${csToString(v)}' is not a known hash algorithm.`);
  return n.toLowerCase();
}

function isPss(padding: unknown): boolean {
  return padding instanceof EnumValue ? padding.name === 'Pss' : csToString(padding) === 'Pss';
}

/** DigestInfo prefixes (RFC 8017 9.2) for PKCS#1 v1.5 signatures over a precomputed hash. */
const DIGEST_INFO: Record<string, string> = {
  md5: '3020300c06082a864886f70d020505000410',
  sha1: '3021300906052b0e03021a05000414',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

export class RsaKey extends CsObject {
  constructor(private pub: KeyObject | undefined, private priv: KeyObject | undefined) {
    super();
  }
  get $type(): string {
    return 'System.Security.Cryptography.RSA';
  }
  private publicKey(): KeyObject {
    if (!this.pub) throw ex.crypto('The key does not exist.');
    return this.pub;
  }
  private privateKey(): KeyObject {
    if (!this.priv) throw ex.crypto('The key does not permit this operation: it has no private part.');
    return this.priv;
  }
  get KeySize(): number {
    return this.pub?.asymmetricKeyDetails?.modulusLength ?? 0;
  }
  ImportFromPem(pem: unknown): void {
    const text = csToString(pem);
    try {
      if (/PRIVATE KEY/.test(text)) {
        this.priv = createPrivateKey(text);
        this.pub = createPublicKey(this.priv);
      } else this.pub = createPublicKey(text);
    } catch {
      throw ex.arg('No supported key formats were found. Check that the input represents the contents of a PEM-encoded key file, not the path to such a file.', 'input');
    }
    if (this.pub.asymmetricKeyType !== 'rsa') throw ex.crypto('The key is not an RSA key.');
  }
  SignData(data: unknown, hash: unknown, padding: unknown): Buffer {
    return sign(hashName(hash), bytes(data, 'data'), { key: this.privateKey(), padding: isPss(padding) ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  }
  VerifyData(data: unknown, signature: unknown, hash: unknown, padding: unknown): boolean {
    try {
      return verify(hashName(hash), bytes(data, 'data'), { key: this.publicKey(), padding: isPss(padding) ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, bytes(signature, 'signature'));
    } catch (e) {
      if (e instanceof Error && e.name === 'DotNetException') throw e;
      return false;
    }
  }
  SignHash(hash: unknown, alg: unknown, padding: unknown): Buffer {
    if (isPss(padding)) throw ex.notSupported('SignHash with PSS padding is not supported by Gatehouse; use SignData.');
    const prefix = DIGEST_INFO[hashName(alg)]!;
    // PKCS#1 v1.5 over a precomputed hash: EMSA-PKCS1-v1_5 is block type 1 padding of DigestInfo ‖ hash
    return privateEncrypt({ key: this.privateKey(), padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([Buffer.from(prefix, 'hex'), bytes(hash, 'hash')]));
  }
  VerifyHash(hash: unknown, signature: unknown, alg: unknown, padding: unknown): boolean {
    if (isPss(padding)) throw ex.notSupported('VerifyHash with PSS padding is not supported by Gatehouse; use VerifyData.');
    const prefix = DIGEST_INFO[hashName(alg)]!;
    const expected = Buffer.concat([Buffer.from(prefix, 'hex'), bytes(hash, 'hash')]);
    try {
      return publicDecrypt({ key: this.publicKey(), padding: constants.RSA_PKCS1_PADDING }, bytes(signature, 'signature')).equals(expected);
    } catch {
      return false;
    }
  }
  Encrypt(data: unknown, padding: unknown): Buffer {
    const p = padding instanceof RsaEncryptionPadding ? padding : RsaEncryptionPadding.Pkcs1;
    return publicEncrypt({ key: this.publicKey(), padding: p.oaep ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING, ...(p.oaep ? { oaepHash: p.hash } : {}) }, bytes(data, 'data'));
  }
  Decrypt(data: unknown, padding: unknown): Buffer {
    const p = padding instanceof RsaEncryptionPadding ? padding : RsaEncryptionPadding.Pkcs1;
    try {
      return privateDecrypt({ key: this.privateKey(), padding: p.oaep ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING, ...(p.oaep ? { oaepHash: p.hash } : {}) }, bytes(data, 'data'));
    } catch (e) {
      if (e instanceof Error && e.name === 'DotNetException') throw e;
      throw ex.crypto('The parameter is incorrect.');
    }
  }
  ExportSubjectPublicKeyInfo(): Buffer {
    return this.publicKey().export({ type: 'spki', format: 'der' });
  }
  ExportSubjectPublicKeyInfoPem(): string {
    return String(this.publicKey().export({ type: 'spki', format: 'pem' }));
  }
  Dispose(): void {
    /* nothing to free */
  }
}

export class RsaEncryptionPadding extends CsObject {
  static readonly Pkcs1 = new RsaEncryptionPadding('Pkcs1', false, 'sha1');
  constructor(readonly name: string, readonly oaep: boolean, readonly hash: string) {
    super();
  }
  get $type(): string {
    return 'System.Security.Cryptography.RSAEncryptionPadding';
  }
  override ToString(): string {
    return this.name;
  }
}

export const RSA_TYPE = {
  staticMethods: {
    Create: (_rt: Runtime, a: unknown[]) => {
      const bits = typeof a[0] === 'number' ? a[0] : 2048;
      if (bits < 512 || bits > 16384 || bits % 8 !== 0) throw ex.crypto('Specified key is not a valid size for this algorithm.');
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      return new RsaKey(publicKey, privateKey);
    },
  },
};

export const RSA_SIGNATURE_PADDING = {
  staticProps: {
    Pkcs1: () => new EnumValue('System.Security.Cryptography.RSASignaturePadding', 'Pkcs1', 0),
    Pss: () => new EnumValue('System.Security.Cryptography.RSASignaturePadding', 'Pss', 1),
  },
};

export const RSA_ENCRYPTION_PADDING = {
  staticProps: {
    Pkcs1: () => RsaEncryptionPadding.Pkcs1,
    OaepSHA1: () => new RsaEncryptionPadding('OaepSHA1', true, 'sha1'),
    OaepSHA256: () => new RsaEncryptionPadding('OaepSHA256', true, 'sha256'),
    OaepSHA384: () => new RsaEncryptionPadding('OaepSHA384', true, 'sha384'),
    OaepSHA512: () => new RsaEncryptionPadding('OaepSHA512', true, 'sha512'),
  },
};

/** The certificate's RSA public key, or null for a non-RSA key (as GetRSAPublicKey does). */
export function rsaPublicKeyOf(key: KeyObject): RsaKey | null {
  return key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss' ? new RsaKey(key, undefined) : null;
}
