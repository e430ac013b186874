/**
 * The server name of a TLS ClientHello, read from the first bytes of a connection before TLS
 * starts: lets one port ask for a client certificate on some host names and not on others
 * (negotiateClientCertificate is per host name in Azure; Node's requestCert is per server).
 */

export type SniPeek = { readonly done: false } | { readonly done: true; readonly serverName: string | undefined };

const MORE: SniPeek = { done: false };

/** Parses as much of the ClientHello as `buf` holds; done with undefined when it is not one or has no SNI. */
export function peekServerName(buf: Buffer): SniPeek {
  if (buf.length < 5) return MORE;
  if (buf[0] !== 0x16) return { done: true, serverName: undefined };
  const recordLength = buf.readUInt16BE(3);
  if (buf.length < 5 + Math.min(recordLength, 4)) return MORE;
  if (buf[5] !== 0x01) return { done: true, serverName: undefined };
  const end = 5 + recordLength;
  if (buf.length < end) return MORE;
  try {
    let i = 5 + 4; // handshake header
    i += 2 + 32; // version, random
    i += 1 + buf[i]!; // session id
    i += 2 + buf.readUInt16BE(i); // cipher suites
    i += 1 + buf[i]!; // compression methods
    if (i + 2 > end) return { done: true, serverName: undefined };
    const extEnd = Math.min(end, i + 2 + buf.readUInt16BE(i));
    i += 2;
    while (i + 4 <= extEnd) {
      const type = buf.readUInt16BE(i);
      const len = buf.readUInt16BE(i + 2);
      i += 4;
      if (type === 0x0000) {
        let j = i + 2;
        const listEnd = Math.min(i + len, i + 2 + buf.readUInt16BE(i));
        while (j + 3 <= listEnd) {
          const nameType = buf[j]!;
          const nameLen = buf.readUInt16BE(j + 1);
          j += 3;
          if (nameType === 0) return { done: true, serverName: buf.toString('latin1', j, j + nameLen).toLowerCase() };
          j += nameLen;
        }
        return { done: true, serverName: undefined };
      }
      i += len;
    }
  } catch {
    /* malformed: no server name */
  }
  return { done: true, serverName: undefined };
}
