import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionGuard, evaluateInbound, inPrefix } from './nsg.js';
import type { NetworkModel, SecurityRule } from './network.js';

const vnet = ['10.0.0.0/16'];
const r = (name: string, priority: number, access: 'Allow' | 'Deny', source: string, port = '*', extra: Partial<SecurityRule> = {}): SecurityRule => ({
  name,
  priority,
  direction: 'Inbound',
  access,
  protocol: 'Tcp',
  sourceAddressPrefixes: [source],
  sourcePortRanges: ['*'],
  destinationAddressPrefixes: ['VirtualNetwork'],
  destinationPortRanges: [port],
  ...extra,
});
const fromEdge = { source: '10.0.0.4', sourcePort: 50000, destination: '10.0.1.4', destinationPort: 443 };
const fromInternet = { source: undefined, sourcePort: 50000, destination: '10.0.1.4', destinationPort: 443 };

test('inPrefix: CIDR ranges and plain addresses', () => {
  assert.ok(inPrefix('10.0.0.4', '10.0.0.0/24'));
  assert.ok(!inPrefix('10.0.1.4', '10.0.0.0/24'));
  assert.ok(inPrefix('10.0.1.4', '10.0.0.0/16'));
  assert.ok(inPrefix('10.0.1.4', '10.0.1.4'));
  assert.ok(!inPrefix('10.0.1.5', '10.0.1.4/32'));
  assert.ok(inPrefix('192.168.1.1', '0.0.0.0/0'));
  assert.ok(!inPrefix('10.0.1.4', 'VirtualNetwork'));
});

test('no rules: the default rules allow the virtual network and deny the Internet', () => {
  assert.deepEqual(evaluateInbound([], vnet, fromEdge), { allowed: true, rule: 'AllowVnetInBound', priority: 65000 });
  assert.deepEqual(evaluateInbound([], vnet, fromInternet), { allowed: false, rule: 'DenyAllInBound', priority: 65500 });
  // a private peer outside the vnet's address spaces is not VirtualNetwork
  assert.equal(evaluateInbound([], vnet, { ...fromEdge, source: '10.1.0.4' }).rule, 'DenyAllInBound');
});

test('the seed NSG (ApiManagement 3443, AzureLoadBalancer 6390, outbound rules) leaves 443 to the default rules', () => {
  const rules = [
    r('management', 110, 'Allow', 'ApiManagement', '3443'),
    r('lb', 120, 'Allow', 'AzureLoadBalancer', '6390'),
    r('storage', 140, 'Allow', 'VirtualNetwork', '443', { direction: 'Outbound', destinationAddressPrefixes: ['Storage'] }),
  ];
  assert.equal(evaluateInbound(rules, vnet, fromEdge).rule, 'AllowVnetInBound');
  assert.equal(evaluateInbound(rules, vnet, fromInternet).rule, 'DenyAllInBound');
  assert.equal(evaluateInbound(rules, vnet, { ...fromInternet, destinationPort: 3443 }).rule, 'DenyAllInBound', 'service tags never match a local peer');
});

test('priority decides, whatever the order rules are listed in: deny before allow', () => {
  const rules = [r('allow-vnet', 200, 'Allow', 'VirtualNetwork', '443'), r('deny-agw', 100, 'Deny', '10.0.0.0/24', '443')];
  assert.deepEqual(evaluateInbound(rules, vnet, fromEdge), { allowed: false, rule: 'deny-agw', priority: 100 });
  assert.deepEqual(evaluateInbound(rules, vnet, { ...fromEdge, source: '10.0.2.4' }), { allowed: true, rule: 'allow-vnet', priority: 200 });
  const swapped = [r('allow-vnet', 100, 'Allow', 'VirtualNetwork', '443'), r('deny-agw', 200, 'Deny', '10.0.0.0/24', '443')];
  assert.equal(evaluateInbound(swapped, vnet, fromEdge).rule, 'allow-vnet');
});

test('an explicit deny of the virtual network overrides AllowVnetInBound', () => {
  const rules = [r('deny-all', 4096, 'Deny', '*')];
  assert.deepEqual(evaluateInbound(rules, vnet, fromEdge), { allowed: false, rule: 'deny-all', priority: 4096 });
});

test('Internet, * and 0.0.0.0/0 match an Internet peer; destination port ranges apply', () => {
  assert.deepEqual(evaluateInbound([r('internet-443', 300, 'Allow', 'Internet', '443')], vnet, fromInternet), { allowed: true, rule: 'internet-443', priority: 300 });
  assert.equal(evaluateInbound([r('internet-443', 300, 'Allow', 'Internet', '443')], vnet, fromEdge).rule, 'AllowVnetInBound', 'Internet does not name a vnet peer');
  assert.equal(evaluateInbound([r('internet-8443', 300, 'Allow', 'Internet', '8443')], vnet, fromInternet).rule, 'DenyAllInBound');
  assert.equal(evaluateInbound([r('range', 300, 'Allow', '*', '400-500')], vnet, fromInternet).rule, 'range');
  assert.equal(evaluateInbound([r('any', 300, 'Allow', '0.0.0.0/0', '443')], vnet, fromInternet).rule, 'any');
  assert.equal(evaluateInbound([r('cidr', 300, 'Allow', '10.0.0.0/8', '443')], vnet, fromInternet).rule, 'DenyAllInBound', 'a private range never names the Internet');
  assert.equal(evaluateInbound([r('udp', 300, 'Allow', '*', '443', { protocol: 'Udp' })], vnet, fromInternet).rule, 'DenyAllInBound', 'a UDP rule does not open TCP');
  assert.equal(evaluateInbound([r('list', 300, 'Allow', '*', '*', { sourceAddressPrefixes: ['192.168.0.0/16', 'Internet'], destinationPortRanges: ['80', '443'] })], vnet, fromInternet).rule, 'list');
});

test('connectionGuard: the NSG of the owner\'s subnet, peers mapped back from loopback', () => {
  const vnetId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet';
  const network: NetworkModel = {
    privateAddresses: [
      { address: '10.0.1.4', ownerId: '/x/apim', subnetId: `${vnetId}/subnets/apim` },
      { address: '10.0.0.4', ownerId: '/x/agw/gatewayIPConfigurations/g', subnetId: `${vnetId}/subnets/agw` },
    ],
    publicAddresses: [],
    subnets: [
      { id: `${vnetId}/subnets/agw`, prefix: '10.0.0.0/24' },
      { id: `${vnetId}/subnets/apim`, prefix: '10.0.1.0/24', nsgId: '/x/nsg' },
    ],
    securityRules: [{ nsgId: '/x/nsg', subnetIds: [`${vnetId}/subnets/apim`], rules: [r('lb', 120, 'Allow', 'AzureLoadBalancer', '6390')] }],
    virtualNetworks: [{ id: vnetId, addressPrefixes: ['10.0.0.0/16'] }],
  };
  const guard = connectionGuard(network, '/X/APIM', 443, true)!;
  assert.deepEqual(guard('127.0.0.4', 50000), { allowed: true, rule: 'AllowVnetInBound', priority: 65000, source: '10.0.0.4' });
  assert.deepEqual(guard('::ffff:127.0.0.1', 50000), { allowed: false, rule: 'DenyAllInBound', priority: 65500, source: 'Internet' });
  assert.equal(guard('127.0.0.9', 50000).source, 'Internet', 'an address nobody was given');
  // the gateway's subnet has no NSG: nothing to enforce unless asked for the default rules
  assert.equal(connectionGuard(network, '/x/agw/gatewayIPConfigurations/g', 443, false), undefined);
  assert.equal(connectionGuard(network, '/x/agw/gatewayIPConfigurations/g', 443, true)!('127.0.0.1', 1).rule, 'DenyAllInBound');
  assert.equal(connectionGuard(network, '/x/unknown', 443, true), undefined, 'no private address: not in the network model');
  // an External service in a subnet with an NSG is guarded too (defaultRulesWithoutNsg false)
  assert.equal(connectionGuard(network, '/x/apim', 443, false)!('127.0.0.1', 1).rule, 'DenyAllInBound');
});
