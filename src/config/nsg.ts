/**
 * Network security group rules evaluated for one inbound connection, as Azure does: the NSG's
 * inbound rules by priority (the lowest number first, the first match decides), then the default
 * rules AllowVnetInBound (65000), AllowAzureLoadBalancerInBound (65001) and DenyAllInBound (65500).
 *
 * What a local peer can be: a private address of the deployment (a loopback address mapped back,
 * 127.0.0.4 → 10.0.0.4), or the Internet (anything else: 127.0.0.1, a process outside the
 * deployment). Prefixes a rule may name:
 *  - '*', 'Any', '0.0.0.0/0' match every peer;
 *  - 'Internet' matches a peer outside the virtual network's address spaces;
 *  - 'VirtualNetwork' matches a peer inside them;
 *  - an address or CIDR range matches a private peer inside it;
 *  - other service tags (AzureLoadBalancer, ApiManagement, GatewayManager, Storage …) name Azure
 *    infrastructure that has no local peer: they never match.
 * Pure functions; see src/config/nsg.test.ts.
 */
import type { NetworkModel, SecurityRule } from './network.js';
import { privateOf } from '../model/network.js';
import { defineCodes } from '../core/errors.js';

export interface InboundConnection {
  /** The peer's private address, or undefined for a peer on the Internet. */
  readonly source: string | undefined;
  readonly sourcePort?: number;
  /** The service's private address (the destination), when it has one. */
  readonly destination: string | undefined;
  /** The declared port the service listens on (443), whatever local port it was mapped to. */
  readonly destinationPort: number;
}

export interface NsgDecision {
  readonly allowed: boolean;
  /** The rule that decided: a rule of the NSG or one of Azure's default rules. */
  readonly rule: string;
  readonly priority: number;
}

/** Azure's default inbound rules, which every NSG has below its own. */
export const defaultInboundRules: readonly SecurityRule[] = [
  rule('AllowVnetInBound', 65000, 'Allow', 'VirtualNetwork', 'VirtualNetwork'),
  rule('AllowAzureLoadBalancerInBound', 65001, 'Allow', 'AzureLoadBalancer', '*'),
  rule('DenyAllInBound', 65500, 'Deny', '*', '*'),
];

function rule(name: string, priority: number, access: 'Allow' | 'Deny', source: string, destination: string): SecurityRule {
  return { name, priority, direction: 'Inbound', access, protocol: '*', sourceAddressPrefixes: [source], sourcePortRanges: ['*'], destinationAddressPrefixes: [destination], destinationPortRanges: ['*'] };
}

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const parts = [m[1], m[2], m[3], m[4]].map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** Whether an IPv4 address lies in a CIDR range (or equals a plain address). */
export function inPrefix(address: string, prefix: string): boolean {
  const a = ipv4(address);
  if (a === undefined) return false;
  const [net, bitsText] = prefix.trim().split('/');
  const n = ipv4(net ?? '');
  if (n === undefined) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  if (bits === 0) return true;
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((n & mask) >>> 0);
}

function addressMatches(prefix: string, address: string | undefined, vnet: readonly string[]): boolean {
  const p = prefix.trim();
  const lower = p.toLowerCase();
  if (lower === '*' || lower === 'any' || lower === '0.0.0.0/0') return true;
  const inVnet = address !== undefined && vnet.some((v) => inPrefix(address, v));
  if (lower === 'internet') return !inVnet;
  if (lower === 'virtualnetwork') return inVnet;
  if (ipv4(p.split('/')[0] ?? '') !== undefined) return address !== undefined && inPrefix(address, p);
  return false; // a service tag of Azure infrastructure: no local peer is one
}

function portMatches(range: string, port: number | undefined): boolean {
  const r = range.trim();
  if (r === '*') return true;
  if (port === undefined) return false;
  const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(r);
  if (!m) return false;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return port >= lo && port <= hi;
}

function ruleMatches(r: SecurityRule, c: InboundConnection, vnet: readonly string[]): boolean {
  if (r.direction !== 'Inbound') return false;
  const proto = r.protocol.toLowerCase();
  if (proto !== '*' && proto !== 'tcp' && proto !== 'any') return false;
  const any = (list: readonly string[], f: (x: string) => boolean) => (list.length === 0 ? true : list.some(f));
  return (
    any(r.sourceAddressPrefixes, (p) => addressMatches(p, c.source, vnet)) &&
    any(r.destinationAddressPrefixes, (p) => addressMatches(p, c.destination, vnet)) &&
    any(r.sourcePortRanges, (p) => portMatches(p, c.sourcePort)) &&
    any(r.destinationPortRanges, (p) => portMatches(p, c.destinationPort))
  );
}

/**
 * The decision for one inbound connection: the NSG's rules (any order; sorted by priority here),
 * then Azure's default rules. `vnetPrefixes` are the address spaces of the virtual network the
 * guarded subnet belongs to (what 'VirtualNetwork' means).
 */
export function evaluateInbound(rules: readonly SecurityRule[], vnetPrefixes: readonly string[], c: InboundConnection): NsgDecision {
  const ordered = [...rules].filter((r) => r.direction === 'Inbound').sort((a, b) => a.priority - b.priority);
  for (const r of [...ordered, ...defaultInboundRules]) {
    if (ruleMatches(r, c, vnetPrefixes)) return { allowed: r.access === 'Allow', rule: r.name, priority: r.priority };
  }
  return { allowed: false, rule: 'DenyAllInBound', priority: 65500 };
}

/** What `gatehouse up` asks for every connection a service accepts. */
export type ConnectionGuard = (remoteAddress: string, remotePort: number) => NsgDecision & { readonly source: string };

const lc = (s: string) => s.toLowerCase();

/**
 * The guard of the service that owns a private address of the network model: the NSG of its
 * subnet, with the peer's loopback address mapped back to a private address of the deployment
 * (127.0.0.4 → 10.0.0.4; anything else is the Internet). A subnet without an NSG is guarded by the
 * default rules alone when `defaultRulesWithoutNsg` (an Internal service: reachable only from its
 * virtual network); otherwise undefined (nothing to enforce).
 */
export function connectionGuard(network: NetworkModel, ownerId: string, declaredPort: number, defaultRulesWithoutNsg: boolean): ConnectionGuard | undefined {
  const own = network.privateAddresses.find((a) => lc(a.ownerId) === lc(ownerId));
  if (!own) return undefined;
  const subnet = network.subnets.find((s) => lc(s.id) === lc(own.subnetId));
  const nsg = subnet?.nsgId ? network.securityRules.find((r) => lc(r.nsgId) === lc(subnet.nsgId!)) : undefined;
  if (!nsg && !defaultRulesWithoutNsg) return undefined;
  const vnetId = lc(own.subnetId).split('/subnets/')[0];
  const vnet = network.virtualNetworks?.find((v) => lc(v.id) === vnetId);
  const vnetPrefixes = vnet?.addressPrefixes.length ? vnet.addressPrefixes : subnet ? [subnet.prefix] : [];
  const rules = nsg?.rules ?? [];
  const known = network.privateAddresses.map((a) => a.address);
  return (remoteAddress, remotePort) => {
    const source = privateOf(remoteAddress, known);
    const d = evaluateInbound(rules, vnetPrefixes, { source, sourcePort: remotePort, destination: own.address, destinationPort: declaredPort });
    return { ...d, source: source ?? 'Internet' };
  };
}

export const NetCodes = defineCodes({
  GH_NET_ADDRESS_UNAVAILABLE: 'A loopback address of the network model (127.0.1.4 for 10.0.1.4) cannot be bound on this machine (macOS: add it with ifconfig lo0 alias).',
});
