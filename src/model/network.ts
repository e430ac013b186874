/**
 * The network model: addresses that exist in Azure (private IPs in a subnet, *.azure-api.net
 * names, public IPs) mapped to the loopback sockets of the services that own them locally.
 * The edge asks the address book before it connects to a backend; an address the book does not
 * know is connected to as given.
 */
export interface LocalEndpoint {
  readonly host: string;
  readonly port: number;
  /**
   * The service behind this endpoint when it runs in the same process (`gatehouse up
   * --backend-hop in-process`): the edge hands HTTPS requests to it instead of opening a TLS
   * connection to host:port. The socket stays the default and the fallback.
   */
  readonly inProcess?: InProcessHandler;
}

/** A request as it would arrive over the HTTPS hop: the request line and raw headers as sent. */
export interface InProcessRequest {
  readonly method: string;
  /** Path and query as on the request line. */
  readonly target: string;
  /** Header names and values in order, as the sending HTTP client writes them (Host included). */
  readonly rawHeaders: readonly string[];
  /** The body as a stream, or undefined when the request has none. */
  readonly body: NodeJS.ReadableStream | undefined;
  /** The address and port the connection would come from. */
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** The answer as it would arrive over the HTTPS hop (status line, raw headers as written, body). */
export interface InProcessResponse {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly rawHeaders: readonly string[];
  /** The body bytes; undefined when none is sent (HEAD, 1xx, 204, 304). */
  readonly body: Buffer | undefined;
}

export interface InProcessHandler {
  /**
   * TLS server names (lowercase) for which a real hop's handshake would succeed with a trusted,
   * matching certificate; the edge uses the handler only for these (or when it does not check the
   * name), so that a misconfigured hop fails the same way in both modes.
   */
  readonly serverNames: ReadonlySet<string>;
  /** Rejects (as a socket error would) when the connection would not be accepted. */
  handle(req: InProcessRequest): Promise<InProcessResponse>;
}

export interface AddressBook {
  /** The local socket behind an Azure address and port, or undefined when there is none. */
  lookup(address: string, port: number): LocalEndpoint | undefined;
}

export class MutableAddressBook implements AddressBook {
  private readonly entries = new Map<string, LocalEndpoint>();

  /** Maps `address:port` (port '*' for any port) to a local endpoint. Addresses are case-insensitive. */
  set(address: string, port: number | '*', endpoint: LocalEndpoint): void {
    this.entries.set(`${address.toLowerCase()}:${port}`, endpoint);
  }

  lookup(address: string, port: number): LocalEndpoint | undefined {
    const a = address.toLowerCase();
    return this.entries.get(`${a}:${port}`) ?? this.entries.get(`${a}:*`);
  }

  list(): [string, LocalEndpoint][] {
    return [...this.entries];
  }
}

export const emptyAddressBook: AddressBook = { lookup: () => undefined };

/**
 * Where a private address of the deployment lives on this machine: a.b.c.d → 127.b.c.d
 * (10.0.1.4 → 127.0.1.4). Linux routes all of 127.0.0.0/8 to lo; macOS answers only 127.0.0.1
 * unless an alias is added (`sudo ifconfig lo0 alias 127.0.1.4 up`). Undefined for what is not
 * an IPv4 address.
 */
export function loopbackOf(privateAddress: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(privateAddress.trim());
  if (!m || [m[1], m[2], m[3], m[4]].some((x) => Number(x) > 255)) return undefined;
  return `127.${Number(m[2])}.${Number(m[3])}.${Number(m[4])}`;
}

/**
 * The private address a connection comes from, given the loopback address it was seen from
 * (127.0.0.4 → 10.0.0.4) and the private addresses the deployment handed out. IPv4-mapped IPv6
 * (::ffff:127.0.0.4) is read as IPv4. Undefined when no private address maps there (127.0.0.1, a
 * process outside the deployment): the peer counts as the Internet.
 */
export function privateOf(remoteAddress: string, known: Iterable<string>): string | undefined {
  const peer = remoteAddress.replace(/^::ffff:/i, '');
  if (!peer.startsWith('127.')) return undefined;
  for (const k of known) if (loopbackOf(k) === peer) return k;
  return undefined;
}
