/**
 * RC2-CBC decryption (RFC 2268), for PKCS#12 files that encrypt their certificates with
 * pbeWithSHAAnd40BitRC2-CBC (the OpenSSL 1.x default, still common). OpenSSL 3 inside Node has no
 * RC2 without the legacy provider, so the cipher is written out here; it is used only to read.
 */

// RFC 2268 PITABLE: a permutation of 0..255 from the digits of pi.
const PITABLE = Buffer.from(
  'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2179a59f587b34f1361456d8d09817d32' +
    'bd8f40eb86b77b0bf09521225c6b4e8254d6659' +
    '3ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb6266fbf0eda46690757' +
    '27f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed708e8eade8052eef784aa72ac354d6a2a961ad2715a154974' +
    '4b9fd05e0418a4ecc2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731' +
    '2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a90d38341bab33ffb0bb480c5fb9b1cd2e' +
    'c5f3db47e5a59c770aa62068fe7fc1ad',
  'hex',
);

function expandKey(key: Buffer, effectiveBits: number): Uint16Array {
  const L = new Uint8Array(128);
  L.set(key.subarray(0, 128));
  const T = key.length;
  for (let i = T; i < 128; i++) L[i] = PITABLE[(L[i - 1]! + L[i - T]!) & 0xff]!;
  const T8 = (effectiveBits + 7) >> 3;
  const TM = 0xff >> (8 * T8 - effectiveBits);
  L[128 - T8] = PITABLE[L[128 - T8]! & TM]!;
  for (let i = 127 - T8; i >= 0; i--) L[i] = PITABLE[L[i + 1]! ^ L[i + T8]!]!;
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L[2 * i]! | (L[2 * i + 1]! << 8);
  return K;
}

const S = [1, 2, 3, 5] as const;

function decryptBlock(K: Uint16Array, R: Uint16Array): void {
  let j = 63;
  const mix = () => {
    for (let i = 3; i >= 0; i--) {
      const r = R[i]!;
      const rot = ((r >>> S[i]!) | (r << (16 - S[i]!))) & 0xffff;
      const a = R[(i + 3) & 3]!;
      const b = R[(i + 2) & 3]!;
      const c = R[(i + 1) & 3]!;
      R[i] = rot - K[j--]! - (a & b) - (~a & c);
    }
  };
  const mash = () => {
    for (let i = 3; i >= 0; i--) R[i] = R[i]! - K[R[(i + 3) & 3]! & 63]!;
  };
  for (let n = 0; n < 5; n++) mix();
  mash();
  for (let n = 0; n < 6; n++) mix();
  mash();
  for (let n = 0; n < 5; n++) mix();
}

/** RC2-CBC decryption with PKCS#7 padding removal; throws on bad padding (wrong key). */
export function rc2CbcDecrypt(key: Buffer, effectiveBits: number, iv: Buffer, data: Buffer): Buffer {
  if (data.length === 0 || data.length % 8 !== 0) throw new Error('RC2 data is not a whole number of blocks');
  const K = expandKey(key, effectiveBits);
  const out = Buffer.alloc(data.length);
  const R = new Uint16Array(4);
  let prev = iv;
  for (let off = 0; off < data.length; off += 8) {
    for (let i = 0; i < 4; i++) R[i] = data.readUInt16LE(off + 2 * i);
    decryptBlock(K, R);
    for (let i = 0; i < 4; i++) out.writeUInt16LE(R[i]! ^ prev.readUInt16LE(2 * i), off + 2 * i);
    prev = data.subarray(off, off + 8);
  }
  const pad = out[out.length - 1]!;
  if (pad < 1 || pad > 8) throw new Error('bad padding');
  for (let i = out.length - pad; i < out.length; i++) if (out[i] !== pad) throw new Error('bad padding');
  return out.subarray(0, out.length - pad);
}
