/**
 * The network model: addresses that exist in Azure (private IPs in a subnet, *.azure-api.net
 * names, public IPs) mapped to the loopback sockets of the services that own them locally.
 * The edge asks the address book before it connects to a backend; an address the book does not
 * know is connected to as given.
 */
export interface LocalEndpoint {
  readonly host: string;
  readonly port: number;
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
