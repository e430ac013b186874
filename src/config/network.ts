/**
 * The network model Gatehouse builds while it evaluates a deployment: subnets with their address
 * ranges, private IPs allocated from them as Azure does, loopback addresses for public IPs, and the
 * NSG rules that guard each subnet. The CLI maps these addresses to local sockets.
 *
 * Allocation rules (see docs/bicep.md):
 *  - Azure reserves the first four addresses of a subnet (network, gateway, two DNS) and the last;
 *    dynamic private IPs are handed out from .4 upwards in the order resources ask for them.
 *    10.0.1.0/24 → 10.0.1.4 for the first API Management instance in that subnet.
 *  - A static private IP (privateIPAllocationMethod 'Static') is recorded as given and skipped by
 *    the dynamic allocator.
 *  - Every public IP address gets its own loopback address: 127.0.0.1 for the first one asked
 *    for, 127.0.0.2 for the next … (Linux routes all of 127.0.0.0/8 to lo; on macOS add aliases or
 *    map them with --port-map / the address book).
 */
import { EvalError, isObject, type JsonObject } from './arm/value.js';
import { ipv4ToString, parseIpv4Cidr } from './arm/functions.js';

export interface PrivateAddress {
  readonly address: string;
  /** Resource id of the resource the address belongs to (an API Management service, a gateway …). */
  readonly ownerId: string;
  readonly subnetId: string;
}

export interface PublicAddress {
  readonly address: string;
  /** Resource id of the Microsoft.Network/publicIPAddresses resource. */
  readonly resourceId: string;
  /** dnsSettings.fqdn when the public IP has a domainNameLabel. */
  readonly fqdn?: string;
}

export interface SubnetInfo {
  readonly id: string;
  readonly prefix: string;
  readonly nsgId?: string;
}

export interface SecurityRule {
  readonly name: string;
  readonly priority: number;
  readonly direction: 'Inbound' | 'Outbound';
  readonly access: 'Allow' | 'Deny';
  readonly protocol: string;
  readonly sourceAddressPrefixes: string[];
  readonly sourcePortRanges: string[];
  readonly destinationAddressPrefixes: string[];
  readonly destinationPortRanges: string[];
}

/** The rules of one NSG and the subnets it is attached to (rules sorted by priority). */
export interface SecurityRuleSet {
  readonly nsgId: string;
  readonly subnetIds: string[];
  readonly rules: SecurityRule[];
}

/** A resource placed in a subnet: an application gateway (gatewayIPConfigurations), API Management
 * (virtualNetworkConfiguration), a NIC, firewall, bastion … (ipConfigurations). NSG rules of that
 * subnet guard it; its subnet's prefix is where its traffic comes from. */
export interface SubnetAttachment {
  readonly resourceId: string;
  readonly type: string;
  readonly subnetId: string;
}

/** A virtual network and its address spaces (what the 'VirtualNetwork' tag of its NSGs means). */
export interface VirtualNetworkInfo {
  readonly id: string;
  readonly addressPrefixes: string[];
}

export interface NetworkModel {
  readonly privateAddresses: PrivateAddress[];
  readonly publicAddresses: PublicAddress[];
  readonly subnets: SubnetInfo[];
  readonly securityRules: SecurityRuleSet[];
  readonly attachments?: SubnetAttachment[];
  readonly virtualNetworks?: VirtualNetworkInfo[];
}

/** What the allocator needs from a deployment: its resources and their evaluated bodies. */
export interface NetworkResource {
  readonly type: string;
  readonly existing: boolean;
  id(): string;
  body(): JsonObject;
}

export interface NetworkSource {
  resources(): readonly NetworkResource[];
}

const lc = (s: string) => s.toLowerCase();

export class NetworkAllocator {
  private readonly privates: PrivateAddress[] = [];
  private readonly publics = new Map<string, PublicAddress>();
  private nextPublic = 1;

  constructor(private readonly source: NetworkSource) {}

  private find(id: string, type?: string): NetworkResource | undefined {
    const want = lc(id);
    for (const r of this.source.resources()) {
      if (r.existing) continue;
      if (type && lc(r.type) !== lc(type)) continue;
      try {
        if (lc(r.id()) === want) return r;
      } catch {
        /* a resource whose id cannot be computed now is not the one */
      }
    }
    return undefined;
  }

  /** The address prefix of a subnet, from a subnets resource or its virtual network's body. */
  subnetPrefix(subnetId: string): string | undefined {
    const sub = this.find(subnetId, 'Microsoft.Network/virtualNetworks/subnets');
    if (sub) {
      const p = safeBody(sub)?.properties;
      const prefix = isObject(p) ? prefixOf(p) : undefined;
      if (prefix) return prefix;
    }
    const m = /^(.*\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+)\/subnets\/([^/]+)$/i.exec(subnetId);
    if (!m) return undefined;
    const vnet = this.find(m[1]!, 'Microsoft.Network/virtualNetworks');
    const props = vnet ? safeBody(vnet)?.properties : undefined;
    if (!isObject(props) || !Array.isArray(props.subnets)) return undefined;
    for (const s of props.subnets) {
      if (isObject(s) && typeof s.name === 'string' && lc(s.name) === lc(m[2]!) && isObject(s.properties)) return prefixOf(s.properties);
    }
    return undefined;
  }

  /** Allocates the next dynamic private address of a subnet for a resource (idempotent per owner). */
  allocatePrivate(subnetId: string, ownerId: string): string | undefined {
    const existing = this.privates.find((p) => lc(p.ownerId) === lc(ownerId) && lc(p.subnetId) === lc(subnetId));
    if (existing) return existing.address;
    const prefix = this.subnetPrefix(subnetId);
    if (!prefix) return undefined;
    let range;
    try {
      range = parseIpv4Cidr(prefix, 'subnet');
    } catch {
      return undefined;
    }
    const taken = new Set(this.privates.filter((p) => lc(p.subnetId) === lc(subnetId)).map((p) => p.address));
    for (let off = 4; off < range.size - 1; off++) {
      const a = ipv4ToString(range.network + off);
      if (!taken.has(a)) {
        this.privates.push({ address: a, ownerId, subnetId });
        return a;
      }
    }
    throw new EvalError(`subnet ${subnetId} (${prefix}) has no free address left`, 'GH_BICEP_EVAL');
  }

  reservePrivate(subnetId: string, ownerId: string, address: string): void {
    if (!this.privates.some((p) => p.address === address && lc(p.subnetId) === lc(subnetId))) this.privates.push({ address, ownerId, subnetId });
  }

  private priming = false;
  private primed = false;

  /** Public IPs are numbered in declaration order (modules in place), whatever order they are read in. */
  private prime(): void {
    if (this.primed || this.priming) return;
    this.priming = true;
    try {
      for (const r of this.source.resources()) {
        if (r.existing || lc(r.type) !== 'microsoft.network/publicipaddresses') continue;
        let id: string;
        try {
          id = r.id();
        } catch {
          continue; // not computable yet: numbered when it is asked for
        }
        if (!this.publics.has(lc(id))) this.allocatePublic(id, safeBody(r));
      }
      this.primed = true;
    } finally {
      this.priming = false;
    }
  }

  allocatePublic(resourceId: string, body: JsonObject | undefined): PublicAddress {
    this.prime();
    const key = lc(resourceId);
    let p = this.publics.get(key);
    if (!p) {
      const n = this.nextPublic++;
      const address = n <= 254 ? `127.0.0.${n}` : `127.0.${Math.floor(n / 254)}.${(n % 254) + 1}`;
      const props = body && isObject(body.properties) ? body.properties : undefined;
      const dns = props && isObject(props.dnsSettings) ? props.dnsSettings : undefined;
      const label = dns && typeof dns.domainNameLabel === 'string' ? dns.domainNameLabel : undefined;
      const location = body && typeof body.location === 'string' ? body.location.replace(/\s+/g, '').toLowerCase() : 'westeurope';
      p = label ? { address, resourceId, fqdn: `${label}.${location}.cloudapp.azure.com` } : { address, resourceId };
      this.publics.set(key, p);
    }
    return p;
  }

  /**
   * Values Azure assigns at deployment that templates read back through reference():
   * API Management URLs and IPs, a public IP's address and FQDN, dynamic private IPs.
   */
  runtimeProperties(type: string, id: string, body: JsonObject): JsonObject {
    const t = lc(type);
    const props = isObject(body.properties) ? body.properties : {};
    const name = typeof body.name === 'string' ? body.name : '';
    const out: JsonObject = { provisioningState: 'Succeeded' };
    // sub-resources get ids: vnet.properties.subnets[0].id, an application gateway's
    // frontendIPConfigurations[0].id … ('<resource id>/<property>/<name>', as resourceId() forms them)
    for (const [key, list] of Object.entries(props)) {
      if (!Array.isArray(list) || list.length === 0 || !list.every((x) => isObject(x) && typeof x.name === 'string')) continue;
      out[key] = list.map((x) => ((x as JsonObject).id === undefined ? { id: `${id}/${key}/${String((x as JsonObject).name)}` } : {}));
    }
    if (t === 'microsoft.apimanagement/service') {
      const location = typeof body.location === 'string' ? body.location.replace(/\s+/g, '').toLowerCase() : 'westeurope';
      Object.assign(out, {
        gatewayUrl: `https://${name}.azure-api.net`,
        gatewayRegionalUrl: `https://${name}-${location}-01.regional.azure-api.net`,
        portalUrl: `https://${name}.portal.azure-api.net`,
        developerPortalUrl: `https://${name}.developer.azure-api.net`,
        managementApiUrl: `https://${name}.management.azure-api.net`,
        scmUrl: `https://${name}.scm.azure-api.net`,
        createdAtUtc: '2024-01-01T00:00:00Z',
        targetProvisioningState: '',
      });
      const vnetType = typeof props.virtualNetworkType === 'string' ? lc(props.virtualNetworkType) : 'none';
      const cfg = isObject(props.virtualNetworkConfiguration) ? props.virtualNetworkConfiguration : undefined;
      const subnetId = cfg && typeof cfg.subnetResourceId === 'string' ? cfg.subnetResourceId : undefined;
      if ((vnetType === 'internal' || vnetType === 'external') && subnetId) {
        const ip = this.allocatePrivate(subnetId, id);
        if (ip) out.privateIPAddresses = [ip];
      }
      const pipId = typeof props.publicIpAddressId === 'string' ? props.publicIpAddressId : undefined;
      if (pipId) {
        const pip = this.find(pipId, 'Microsoft.Network/publicIPAddresses');
        out.publicIPAddresses = [this.allocatePublic(pipId, pip ? safeBody(pip) : undefined).address];
      } else if (vnetType !== 'internal') out.publicIPAddresses = [this.allocatePublic(id, undefined).address];
    } else if (t === 'microsoft.network/publicipaddresses') {
      const p = this.allocatePublic(id, body);
      out.ipAddress = p.address;
      if (p.fqdn) out.dnsSettings = { fqdn: p.fqdn };
      out.resourceGuid = guidLike(id);
    } else if (t === 'microsoft.network/networkinterfaces' || t === 'microsoft.network/azurefirewalls' || t === 'microsoft.network/applicationgateways' || t === 'microsoft.network/loadbalancers') {
      const key = t === 'microsoft.network/applicationgateways' || t === 'microsoft.network/loadbalancers' ? 'frontendIPConfigurations' : 'ipConfigurations';
      const list = props[key];
      if (Array.isArray(list)) {
        const ids = Array.isArray(out[key]) ? (out[key] as JsonObject[]) : [];
        out[key] = list.map((c, i) => {
          const base = ids[i] ?? {};
          if (!isObject(c) || !isObject(c.properties)) return base;
          const cp = c.properties;
          const subnet = isObject(cp.subnet) && typeof cp.subnet.id === 'string' ? cp.subnet.id : undefined;
          if (!subnet) return base;
          if (typeof cp.privateIPAddress === 'string' && lc(String(cp.privateIPAllocationMethod ?? 'static')) === 'static') {
            this.reservePrivate(subnet, id, cp.privateIPAddress);
            return { ...base, properties: { privateIPAddress: cp.privateIPAddress } };
          }
          const ip = this.allocatePrivate(subnet, `${id}/${key}/${String(c.name ?? '')}`);
          return ip ? { ...base, properties: { privateIPAddress: ip } } : base;
        });
      }
      if (t !== 'microsoft.network/applicationgateways') out.resourceGuid = guidLike(id);
      else out.operationalState = 'Running';
    } else if (t === 'microsoft.network/virtualnetworks' || t === 'microsoft.network/networksecuritygroups') {
      out.resourceGuid = guidLike(id);
    } else if (t === 'microsoft.keyvault/vaults') {
      out.vaultUri = `https://${name}.vault.azure.net/`;
    } else if (t === 'microsoft.storage/storageaccounts') {
      const ep = (svc: string) => `https://${name}.${svc}.core.windows.net/`;
      out.primaryEndpoints = { blob: ep('blob'), queue: ep('queue'), table: ep('table'), file: ep('file'), dfs: ep('dfs') }; // web: its zone depends on the region
    }
    return out;
  }

  /** The final model: every subnet and NSG of the deployment, and every address handed out. */
  build(): NetworkModel {
    const subnets: SubnetInfo[] = [];
    const seen = new Set<string>();
    const addSubnet = (id: string, p: JsonObject) => {
      if (seen.has(lc(id))) return;
      seen.add(lc(id));
      const prefix = prefixOf(p);
      if (!prefix) return;
      const nsg = isObject(p.networkSecurityGroup) && typeof p.networkSecurityGroup.id === 'string' ? p.networkSecurityGroup.id : undefined;
      subnets.push(nsg ? { id, prefix, nsgId: nsg } : { id, prefix });
    };
    const virtualNetworks: VirtualNetworkInfo[] = [];
    const resources = this.source.resources().filter((r) => !r.existing);
    for (const r of resources) {
      const t = lc(r.type);
      const body = safeBody(r);
      if (!body) continue;
      let id: string;
      try {
        id = r.id();
      } catch {
        continue;
      }
      if (t === 'microsoft.network/virtualnetworks/subnets' && isObject(body.properties)) addSubnet(id, body.properties);
      if (t === 'microsoft.network/virtualnetworks' && isObject(body.properties)) {
        const space = isObject(body.properties.addressSpace) ? body.properties.addressSpace.addressPrefixes : undefined;
        if (Array.isArray(space)) virtualNetworks.push({ id, addressPrefixes: space.filter((x): x is string => typeof x === 'string') });
      }
      if (t === 'microsoft.network/virtualnetworks' && isObject(body.properties) && Array.isArray(body.properties.subnets)) {
        for (const s of body.properties.subnets) if (isObject(s) && typeof s.name === 'string' && isObject(s.properties)) addSubnet(`${id}/subnets/${s.name}`, s.properties);
      }
      if (t === 'microsoft.network/publicipaddresses') this.allocatePublic(id, body);
    }
    const attachments: SubnetAttachment[] = [];
    for (const r of resources) {
      const body = safeBody(r);
      const p = body && isObject(body.properties) ? body.properties : undefined;
      if (!p) continue;
      let id: string;
      try {
        id = r.id();
      } catch {
        continue;
      }
      const subnetIds = new Set<string>();
      const cfg = isObject(p.virtualNetworkConfiguration) ? p.virtualNetworkConfiguration : undefined;
      if (cfg && typeof cfg.subnetResourceId === 'string' && lc(String(p.virtualNetworkType ?? 'none')) !== 'none') subnetIds.add(cfg.subnetResourceId);
      for (const key of ['gatewayIPConfigurations', 'ipConfigurations', 'frontendIPConfigurations']) {
        const list = p[key];
        if (!Array.isArray(list)) continue;
        for (const c of list) {
          const sub = isObject(c) && isObject(c.properties) && isObject(c.properties.subnet) ? c.properties.subnet.id : undefined;
          if (typeof sub === 'string') subnetIds.add(sub);
        }
      }
      for (const subnetId of subnetIds) attachments.push({ resourceId: id, type: r.type, subnetId });
      // An application gateway's instances take addresses in its gatewayIPConfigurations subnet
      // (the first usable .4 …): the address its connections to backends come from.
      if (lc(r.type) === 'microsoft.network/applicationgateways' && Array.isArray(p.gatewayIPConfigurations)) {
        for (const c of p.gatewayIPConfigurations) {
          const sub = isObject(c) && isObject(c.properties) && isObject(c.properties.subnet) ? c.properties.subnet.id : undefined;
          if (typeof sub !== 'string') continue;
          try {
            this.allocatePrivate(sub, `${id}/gatewayIPConfigurations/${String((c as JsonObject).name ?? '')}`);
          } catch {
            /* a full subnet: the gateway connects from the default address */
          }
        }
      }
    }
    const securityRules: SecurityRuleSet[] = [];
    for (const r of resources) {
      if (lc(r.type) !== 'microsoft.network/networksecuritygroups') continue;
      const body = safeBody(r);
      let id: string;
      try {
        id = r.id();
      } catch {
        continue;
      }
      const rules: SecurityRule[] = [];
      const inline = body && isObject(body.properties) && Array.isArray(body.properties.securityRules) ? body.properties.securityRules : [];
      for (const x of inline) if (isObject(x)) rules.push(ruleOf(String(x.name ?? ''), x.properties));
      for (const c of resources) {
        if (lc(c.type) !== 'microsoft.network/networksecuritygroups/securityrules') continue;
        try {
          if (!lc(c.id()).startsWith(lc(id) + '/')) continue;
        } catch {
          continue;
        }
        const cb = safeBody(c);
        if (cb) rules.push(ruleOf(String(cb.name ?? '').split('/').pop() ?? '', cb.properties));
      }
      rules.sort((a, b) => a.priority - b.priority);
      securityRules.push({ nsgId: id, subnetIds: subnets.filter((s) => s.nsgId && lc(s.nsgId) === lc(id)).map((s) => s.id), rules });
    }
    return { privateAddresses: [...this.privates], publicAddresses: [...this.publics.values()], subnets, securityRules, attachments, virtualNetworks };
  }
}

function safeBody(r: NetworkResource): JsonObject | undefined {
  try {
    return r.body();
  } catch {
    return undefined;
  }
}

function prefixOf(p: JsonObject): string | undefined {
  if (typeof p.addressPrefix === 'string') return p.addressPrefix;
  if (Array.isArray(p.addressPrefixes) && typeof p.addressPrefixes[0] === 'string') return p.addressPrefixes[0];
  return undefined;
}

function strings(one: unknown, many: unknown): string[] {
  const out: string[] = [];
  if (typeof one === 'string' && one !== '') out.push(one);
  if (Array.isArray(many)) for (const x of many) if (typeof x === 'string') out.push(x);
  return out;
}

function ruleOf(name: string, p: unknown): SecurityRule {
  const x = isObject(p) ? p : {};
  return {
    name,
    priority: typeof x.priority === 'number' ? x.priority : 4096,
    direction: lc(String(x.direction ?? 'Inbound')) === 'outbound' ? 'Outbound' : 'Inbound',
    access: lc(String(x.access ?? 'Allow')) === 'deny' ? 'Deny' : 'Allow',
    protocol: typeof x.protocol === 'string' ? x.protocol : '*',
    sourceAddressPrefixes: strings(x.sourceAddressPrefix, x.sourceAddressPrefixes),
    sourcePortRanges: strings(x.sourcePortRange, x.sourcePortRanges),
    destinationAddressPrefixes: strings(x.destinationAddressPrefix, x.destinationAddressPrefixes),
    destinationPortRanges: strings(x.destinationPortRange, x.destinationPortRanges),
  };
}

/** A stable GUID-shaped value derived from an id (resourceGuid is runtime-only in Azure). */
function guidLike(idAnyCase: string): string {
  const id = idAnyCase.toLowerCase(); // ids are case-insensitive: the same resource, the same guid
  let h = 0x811c9dc5;
  const parts: string[] = [];
  for (let k = 0; k < 4; k++) {
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ k, 0x01000193) >>> 0;
    parts.push(h.toString(16).padStart(8, '0'));
  }
  const s = parts.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
