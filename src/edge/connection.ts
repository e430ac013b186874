/**
 * What the edge knows about one client connection. Computed at most once per connection (the
 * client certificate's forwarded form, fingerprint, DNs and its verification per sslProfile), as
 * design.md's performance notes ask; requests on a keep-alive connection only look them up.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Certificate } from '../pki/index.js';
import { CertificateCache, certificateFromDer } from '../pki/index.js';
import type { LineMemo } from './accessLog.js';
import type { ClientCertVerdict, CompiledClientAuth } from './clientAuth.js';
import type { OcspResult } from './ocsp.js';

export interface PeerCertInfo {
  readonly certificate: Certificate;
  /** The chain the client sent after its leaf (not trusted, only candidates for path building). */
  readonly sent: readonly Certificate[];
  /** {var_client_certificate}: NGINX's $ssl_client_escaped_cert. */
  readonly escapedPem: string;
  /** SHA-1, 40 lowercase hex characters (NGINX $ssl_client_fingerprint). */
  readonly fingerprint: string;
  /** RFC 2253 style, most specific RDN first (NGINX $ssl_client_s_dn / _i_dn). */
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  /** OpenSSL's ASN1_TIME_print form: `May 14 14:07:41 2026 GMT`. */
  readonly startDate: string;
  readonly endDate: string;
}

export const kConn = Symbol('gatehouse.edge.connection');

type PeerNames = Pick<PeerCertInfo, 'escapedPem' | 'fingerprint' | 'subject' | 'issuer' | 'serial' | 'startDate' | 'endDate'>;

/**
 * Client certificates seen by one running gateway, by DER (bounded): a returning client's leaf
 * and sent chain are the same Certificate objects (so chain checks stay warm), and the values the
 * access log and rewrites show (escaped PEM, DNs, serial, dates) are computed once per certificate
 * instead of once per connection.
 */
export class PeerCertificateCache {
  readonly certificates: CertificateCache;
  private readonly names = new WeakMap<Certificate, PeerNames>();
  constructor(max = 1024) {
    this.certificates = new CertificateCache(max);
  }
  namesOf(certificate: Certificate): PeerNames {
    let n = this.names.get(certificate);
    if (!n) {
      n = peerNames(certificate);
      this.names.set(certificate, n);
    }
    return n;
  }
}

function peerNames(certificate: Certificate): PeerNames {
  const x = certificate.x509;
  return {
    escapedPem: certificate.toEscapedPem(),
    fingerprint: certificate.thumbprint.toLowerCase(),
    subject: rfc2253(x.subject),
    issuer: rfc2253(x.issuer),
    serial: x.serialNumber.toUpperCase(),
    startDate: x.validFrom,
    endDate: x.validTo,
  };
}

export class ConnectionInfo {
  readonly socket: Socket;
  readonly tls: TLSSocket | undefined;
  /** The declared frontend port (443, 53029), not the local one. */
  readonly declaredPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** Name of the listener whose TLS settings made the handshake (SNI choice). */
  readonly handshakeListener: string | undefined;
  private peer: PeerCertInfo | null | undefined;
  private verdicts: Map<CompiledClientAuth, ClientCertVerdict> | undefined;
  private tlsInfo: { protocol: string; cipher: string } | undefined;
  /** OCSP answers per sslProfile for this connection's certificate (a promise while asking). */
  revocation: Map<CompiledClientAuth, OcspResult | Promise<OcspResult>> | undefined;

  private readonly certCache: PeerCertificateCache | undefined;

  constructor(socket: Socket, declaredPort: number, tls?: TLSSocket, handshakeListener?: string, certCache?: PeerCertificateCache) {
    this.socket = socket;
    this.certCache = certCache;
    this.tls = tls;
    this.declaredPort = declaredPort;
    const a = socket.remoteAddress ?? '';
    this.remoteAddress = a.startsWith('::ffff:') ? a.slice(7) : a;
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = socket.localPort ?? 0;
    this.handshakeListener = handshakeListener;
  }

  /** The client's certificate, or null when it sent none (or the connection is not TLS). */
  peerCertificate(): PeerCertInfo | null {
    if (this.peer !== undefined) return this.peer;
    this.peer = null;
    const s = this.tls;
    if (!s) return null;
    // getPeerX509Certificate(): the leaf, and through issuerCertificate the chain the client sent
    // (a few µs; getPeerCertificate(true) builds JS objects for every field, 190–470 µs, and must not
    // be called after it: it then loses the chain — measured on Node 20). Once per connection.
    const leaf = s.getPeerX509Certificate();
    if (!leaf) return null;
    const cache = this.certCache;
    const parse = (der: Buffer): Certificate => (cache ? cache.certificates.fromDer(der) : certificateFromDer(der));
    let certificate: Certificate;
    try {
      certificate = parse(leaf.raw);
    } catch {
      return null;
    }
    const sent: Certificate[] = [];
    let c = leaf.issuerCertificate;
    const seen = new Set<string>([leaf.fingerprint256]);
    for (let i = 0; c && i < 10; i++) {
      if (seen.has(c.fingerprint256)) break;
      seen.add(c.fingerprint256);
      try {
        sent.push(parse(c.raw));
      } catch {
        break;
      }
      c = c.issuerCertificate;
    }
    this.peer = { certificate, sent, ...(cache ? cache.namesOf(certificate) : peerNames(certificate)) };
    return this.peer;
  }

  /** The verdict of a profile's client authentication on this connection's certificate (cached). */
  verdict(auth: CompiledClientAuth, at: Date): ClientCertVerdict | undefined {
    const peer = this.peerCertificate();
    if (!peer) return undefined;
    let v = this.verdicts?.get(auth);
    if (!v) {
      v = auth.verify(peer.certificate, peer.sent, at);
      (this.verdicts ??= new Map()).set(auth, v);
    }
    return v;
  }

  /** The text of this connection's last access line, for the next one (edge/accessLog.ts). */
  lineMemo: LineMemo | undefined;
  private loggedRead = 0;
  private loggedWritten = 0;

  /** Wire bytes (TLS included) since the previous access-log record of this connection. */
  takeByteCounts(): { receivedBytes: number; sentBytes: number } {
    const r = this.socket.bytesRead;
    const w = this.socket.bytesWritten;
    const out = { receivedBytes: r - this.loggedRead, sentBytes: w - this.loggedWritten };
    this.loggedRead = r;
    this.loggedWritten = w;
    return out;
  }

  tlsDetails(): { protocol: string; cipher: string } {
    if (this.tlsInfo) return this.tlsInfo;
    const s = this.tls;
    this.tlsInfo = s ? { protocol: s.getProtocol() ?? '', cipher: s.getCipher()?.name ?? '' } : { protocol: '', cipher: '' };
    return this.tlsInfo;
  }
}

/** Node prints `C=NL\nO=x\nCN=y` in certificate order; NGINX prints RFC 2253: `CN=y,O=x,C=NL`. */
function rfc2253(nodeName: string): string {
  return nodeName.split('\n').filter(Boolean).reverse().join(',');
}
