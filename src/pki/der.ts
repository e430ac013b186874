/**
 * A small DER walker: the certificate parser needs the exact bytes of tbsCertificate, issuer and
 * subject (signatures are over the original bytes, and names compare byte-wise first), which an
 * object mapper that re-encodes cannot give.
 */

export interface Tlv {
  /** The first identifier octet (class, constructed bit and low tag number). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

export class DerError extends Error {
  constructor(
    message: string,
    readonly truncated: boolean,
  ) {
    super(message);
  }
}

/** Reads one TLV at offset; throws DerError on indefinite lengths, high tag numbers or truncation. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset >= limit) throw new DerError(`expected a DER element at offset ${offset}, found the end of the data`, true);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported high tag number at offset ${offset}`, false);
  let p = offset + 1;
  if (p >= limit) throw new DerError(`DER element at offset ${offset} has no length`, true);
  const first = buf[p++]!;
  let len: number;
  if (first < 0x80) len = first;
  else if (first === 0x80) throw new DerError(`indefinite length at offset ${offset} is not DER`, false);
  else {
    const n = first & 0x7f;
    if (n > 4) throw new DerError(`length of ${n} octets at offset ${offset} is too large`, false);
    if (p + n > limit) throw new DerError(`DER length at offset ${offset} is cut off`, true);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    if (buf[offset + 2] === 0 || len < 0x80) throw new DerError(`non-minimal DER length at offset ${offset}`, false);
  }
  const end = p + len;
  if (end > limit) throw new DerError(`DER element at offset ${offset} declares ${len} bytes but only ${limit - p} remain`, true);
  return { tag, start: offset, contentStart: p, end };
}

/** The children of a constructed element. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

export function slice(buf: Uint8Array, t: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
}

export function content(buf: Uint8Array, t: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + t.contentStart, t.end - t.contentStart);
}

// ---- encoding helpers (for the few structures written by hand) ----

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const seq = (...parts: Uint8Array[]): Buffer => tlv(0x30, ...parts);
export const octets = (b: Uint8Array): Buffer => tlv(0x04, b);
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);

export function integer(n: number | bigint | Uint8Array): Buffer {
  if (n instanceof Uint8Array) {
    let b = Buffer.from(n);
    let i = 0;
    while (i < b.length - 1 && b[i] === 0 && b[i + 1]! < 0x80) i++;
    b = b.subarray(i);
    if (b[0]! >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return tlv(0x02, b);
  }
  let v = BigInt(n);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if (bytes[0]! >= 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const out: number[] = [];
  const push = (v: bigint) => {
    const group: number[] = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) group.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...group);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(0x06, Buffer.from(out));
}

/** Reads an INTEGER's value as a JS number (for iteration counts and lengths). */
export function readSmallInteger(buf: Uint8Array, t: Tlv): number {
  if (t.tag !== 0x02) throw new DerError('expected an INTEGER', false);
  let v = 0;
  for (let i = t.contentStart; i < t.end; i++) v = v * 256 + buf[i]!;
  if (t.end - t.contentStart > 6) throw new DerError('INTEGER too large', false);
  return v;
}
