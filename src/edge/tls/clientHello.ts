/**
 * Reads the server name (SNI) and ALPN list from a TLS ClientHello without terminating TLS, so
 * that a connection can be handed to the TLS server of the listener it is for (each with its own
 * certificate and its own client-certificate request). RFC 8446 4.1.2 / RFC 6066 3.
 */
export type ClientHelloResult =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'hello'; readonly serverName: string | undefined; readonly alpn: readonly string[] };

/** Upper bound on what we buffer before deciding (a ClientHello with PQ key shares fits easily). */
export const MAX_CLIENT_HELLO = 64 * 1024;

export function parseClientHello(buf: Buffer): ClientHelloResult {
  if (buf.length === 0) return { kind: 'need-more' };
  if (buf[0] !== 0x16) return { kind: 'not-tls' };
  // Reassemble the handshake message from one or more handshake records.
  const parts: Buffer[] = [];
  let off = 0;
  let total = 0;
  let needed = -1;
  while (off + 5 <= buf.length) {
    if (buf[off] !== 0x16) return { kind: 'malformed' };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16384 + 2048) return { kind: 'malformed' };
    if (off + 5 + len > buf.length) break;
    parts.push(buf.subarray(off + 5, off + 5 + len));
    total += len;
    off += 5 + len;
    if (needed < 0 && total >= 4) {
      const hs = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (hs[0] !== 0x01) return { kind: 'malformed' };
      needed = 4 + hs.readUIntBE(1, 3);
    }
    if (needed >= 0 && total >= needed) break;
  }
  if (needed < 0 || total < needed) return buf.length > MAX_CLIENT_HELLO ? { kind: 'malformed' } : { kind: 'need-more' };
  const hs = Buffer.concat(parts).subarray(0, needed);
  try {
    return parseHello(hs);
  } catch {
    return { kind: 'malformed' };
  }
}

function parseHello(hs: Buffer): ClientHelloResult {
  let p = 4 + 2 + 32; // header, legacy_version, random
  const sid = hs[p]!;
  p += 1 + sid;
  const cs = hs.readUInt16BE(p);
  p += 2 + cs;
  const comp = hs[p]!;
  p += 1 + comp;
  let serverName: string | undefined;
  const alpn: string[] = [];
  if (p + 2 <= hs.length) {
    const extEnd = p + 2 + hs.readUInt16BE(p);
    p += 2;
    if (extEnd > hs.length) return { kind: 'malformed' };
    while (p + 4 <= extEnd) {
      const type = hs.readUInt16BE(p);
      const len = hs.readUInt16BE(p + 2);
      const data = hs.subarray(p + 4, p + 4 + len);
      if (p + 4 + len > extEnd) return { kind: 'malformed' };
      if (type === 0 && data.length >= 2) {
        let q = 2;
        const end = Math.min(data.length, 2 + data.readUInt16BE(0));
        while (q + 3 <= end) {
          const nt = data[q]!;
          const nl = data.readUInt16BE(q + 1);
          if (nt === 0 && serverName === undefined) serverName = data.subarray(q + 3, q + 3 + nl).toString('latin1').toLowerCase();
          q += 3 + nl;
        }
      } else if (type === 16 && data.length >= 2) {
        let q = 2;
        while (q < data.length) {
          const l = data[q]!;
          alpn.push(data.subarray(q + 1, q + 1 + l).toString('latin1'));
          q += 1 + l;
        }
      }
      p += 4 + len;
    }
  }
  return { kind: 'hello', serverName, alpn };
}
