import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticBag } from '../../core/diagnostics.js';
import { resourceIdOf, type ArmResource } from '../../model/resources.js';
import { adaptApplicationGateway, wildcardProblem } from './applicationGateway.js';

const GW = 'agw';
const ref = (kind: string, name: string, gw = GW) => ({ id: resourceIdOf(`Microsoft.Network/applicationGateways/${kind}`, `${gw}/${name}`) });

function base(): { type: string; name: string; id: string; properties: Record<string, unknown[] | unknown> } {
  return {
    type: 'Microsoft.Network/applicationGateways',
    name: GW,
    id: resourceIdOf('Microsoft.Network/applicationGateways', GW),
    properties: {
      frontendIPConfigurations: [{ name: 'fip', properties: { publicIPAddress: { id: resourceIdOf('Microsoft.Network/publicIPAddresses', 'pip') } } }],
      frontendPorts: [{ name: 'p443', properties: { port: 443 } }],
      sslCertificates: [{ name: 'cert', properties: { data: 'AAAA', password: 'pw' } }],
      httpListeners: [{ name: 'l', properties: { protocol: 'Https', frontendIPConfiguration: ref('frontendIPConfigurations', 'fip'), frontendPort: ref('frontendPorts', 'p443'), sslCertificate: ref('sslCertificates', 'cert') } }],
      backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ ipAddress: '10.0.1.4' }] } }],
      backendHttpSettingsCollection: [{ name: 's', properties: { port: 443, protocol: 'Https' } }],
      requestRoutingRules: [{ name: 'r', properties: { priority: 10, ruleType: 'Basic', httpListener: ref('httpListeners', 'l'), backendAddressPool: ref('backendAddressPools', 'pool'), backendHttpSettings: ref('backendHttpSettingsCollection', 's') } }],
    },
  };
}

const adapt = (r: ArmResource, resources: ArmResource[] = [r]) => {
  const diagnostics = new DiagnosticBag();
  const model = adaptApplicationGateway(r, { resources, diagnostics, origin: { file: 'main.json' } });
  return { model, diagnostics };
};

test('a minimal gateway adapts without diagnostics; references become names; defaults are applied', () => {
  const { model, diagnostics } = adapt(base());
  assert.deepEqual(diagnostics.items, []);
  assert.equal(model!.httpListeners[0]!.frontendPort, 'p443');
  assert.equal(model!.httpListeners[0]!.port, 443);
  assert.equal(model!.backendHttpSettingsCollection[0]!.requestTimeout, 20);
  assert.equal(model!.sslPolicy.minProtocolVersion, 'TLSv1_2');
  assert.equal(model!.enableHttp2, false);
  assert.equal(String(model!.sslCertificates[0]!.password), '[secret]');
  assert.equal(model!.sslCertificates[0]!.password!.reveal(), 'pw');
});

test('not an application gateway → undefined, no diagnostics', () => {
  const { model, diagnostics } = adapt({ type: 'Microsoft.Network/publicIPAddresses', name: 'x', id: 'x' });
  assert.equal(model, undefined);
  assert.equal(diagnostics.items.length, 0);
});

test('every problem is reported at once with its JSON path: dangling id, unknown property, missing password, clash', () => {
  const r = base();
  const p = r.properties as Record<string, Record<string, unknown>[]>;
  (p.httpListeners![0]!.properties as Record<string, unknown>).sslProfile = ref('sslProfiles', 'nope');
  (p.httpListeners![0]!.properties as Record<string, unknown>).hostname = 'typo.example';
  (p.sslCertificates![0]!.properties as Record<string, unknown>).password = undefined;
  p.httpListeners!.push({ name: 'l2', properties: { protocol: 'Https', frontendIPConfiguration: ref('frontendIPConfigurations', 'fip'), frontendPort: ref('frontendPorts', 'p443'), sslCertificate: ref('sslCertificates', 'cert') } });
  p.requestRoutingRules!.push({ name: 'r2', properties: { priority: 10, httpListener: ref('httpListeners', 'l2'), backendAddressPool: ref('backendAddressPools', 'pool'), backendHttpSettings: ref('backendHttpSettingsCollection', 'missing') } });
  const { diagnostics } = adapt(r as ArmResource);
  const errors = diagnostics.errors.map((d) => [d.code, d.path]);
  assert.deepEqual(errors.sort(), [
    ['GH_AGW_CERTIFICATE_PASSWORD', 'properties.sslCertificates[0].properties.password'],
    ['GH_AGW_DANGLING_ID', 'properties.httpListeners[0].properties.sslProfile.id'],
    ['GH_AGW_DANGLING_ID', 'properties.requestRoutingRules[1].properties.backendHttpSettings.id'],
    ['GH_AGW_LISTENER_CLASH', 'properties.httpListeners[1].properties'],
    ['GH_AGW_PRIORITY', 'properties.requestRoutingRules[1].properties.priority'],
    ['GH_AGW_UNKNOWN_PROPERTY', 'properties.httpListeners[0].properties.hostname'],
  ].sort());
  assert.match(diagnostics.errors.find((d) => d.code === 'GH_AGW_UNKNOWN_PROPERTY')!.message, /did you mean 'hostName'/);
  assert.match(diagnostics.errors.find((d) => d.code === 'GH_AGW_DANGLING_ID')!.message, /no sslProfiles named 'nope'/);
  assert.equal(diagnostics.errors[0]!.file, 'main.json');
});

test('an id into another gateway is dangling; an id outside the gateway (public IP) is ignored when absent', () => {
  const r = base();
  const p = r.properties as Record<string, Record<string, unknown>[]>;
  (p.httpListeners![0]!.properties as Record<string, unknown>).frontendPort = ref('frontendPorts', 'p443', 'other-gw');
  const { diagnostics, model } = adapt(r as ArmResource);
  assert.deepEqual(diagnostics.errors.map((d) => d.path), ['properties.httpListeners[0].properties.frontendPort.id']);
  assert.equal(model!.frontendIPConfigurations[0]!.publicIPAddress, undefined);
});

test('a public IP in the input is resolved to its address', () => {
  const r = base();
  const pip: ArmResource = { type: 'Microsoft.Network/publicIPAddresses', name: 'pip', id: resourceIdOf('Microsoft.Network/publicIPAddresses', 'pip'), properties: { ipAddress: '20.1.2.3' } };
  const { model } = adapt(r as ArmResource, [r as ArmResource, pip]);
  assert.equal(model!.frontendIPConfigurations[0]!.publicIPAddress, '20.1.2.3');
});

test('read-only ARM properties and front-end resource-level members are accepted; valid-but-unrun ones warn', () => {
  const r = base();
  const p = r.properties as Record<string, unknown>;
  p.provisioningState = 'Succeeded';
  p.operationalState = 'Running';
  p.webApplicationFirewallConfiguration = { enabled: true };
  // What the Bicep front-end adds at resource level is not the gateway's schema.
  Object.assign(r, { origin: { file: 'main.bicep', line: 3 }, symbolicName: 'applicationGateway', existing: false, runtime: {} });
  const { diagnostics } = adapt(r as ArmResource);
  assert.deepEqual(diagnostics.errors, []);
  assert.deepEqual(diagnostics.items.map((d) => [d.severity, d.code, d.path]), [['warning', 'GH_AGW_UNSUPPORTED_PROPERTY', 'properties.webApplicationFirewallConfiguration']]);
});

test('rewrite rules are sorted by ruleSequence (default 100, stable) and empty headerValue means delete', () => {
  const r = base();
  (r.properties as Record<string, unknown>).rewriteRuleSets = [
    {
      name: 'rw',
      properties: {
        rewriteRules: [
          { name: 'b', ruleSequence: 200, actionSet: { requestHeaderConfigurations: [{ headerName: 'X-B', headerValue: '' }] } },
          { name: 'a', actionSet: { requestHeaderConfigurations: [{ headerName: 'X-A', headerValue: 'v' }] } },
          { name: 'c', ruleSequence: 50, conditions: [{ variable: 'var_uri_path', pattern: '^/x' }], actionSet: { responseHeaderConfigurations: [{ headerName: 'X-C' }] } },
        ],
      },
    },
  ];
  const { model, diagnostics } = adapt(r as ArmResource);
  assert.deepEqual(diagnostics.errors, []);
  assert.deepEqual(model!.rewriteRuleSets[0]!.rewriteRules.map((x) => [x.name, x.ruleSequence]), [['c', 50], ['a', 100], ['b', 200]]);
  assert.equal(model!.rewriteRuleSets[0]!.rewriteRules[2]!.actionSet.requestHeaderConfigurations[0]!.headerValue, '');
});

test('rewrite validation: empty actionSet, Connection header, bad regex, bad variable prefix', () => {
  const r = base();
  (r.properties as Record<string, unknown>).rewriteRuleSets = [
    {
      name: 'rw',
      properties: {
        rewriteRules: [
          { name: 'empty', actionSet: {} },
          { name: 'conn', actionSet: { requestHeaderConfigurations: [{ headerName: 'Connection', headerValue: 'x' }] } },
          { name: 're', conditions: [{ variable: 'var_uri_path', pattern: '(' }], actionSet: { requestHeaderConfigurations: [{ headerName: 'X', headerValue: 'y' }] } },
          { name: 'var', conditions: [{ variable: 'uri_path', pattern: 'x' }], actionSet: { requestHeaderConfigurations: [{ headerName: 'X', headerValue: 'y' }] } },
        ],
      },
    },
  ];
  const { diagnostics } = adapt(r as ArmResource);
  assert.deepEqual(diagnostics.errors.map((d) => d.path), [
    'properties.rewriteRuleSets[0].properties.rewriteRules[0].actionSet',
    'properties.rewriteRuleSets[0].properties.rewriteRules[1].actionSet.requestHeaderConfigurations[0].headerName',
    'properties.rewriteRuleSets[0].properties.rewriteRules[2].conditions[0].pattern',
    'properties.rewriteRuleSets[0].properties.rewriteRules[3].conditions[0].variable',
  ]);
});

test('sslProfile: ARM-sample casing (VerifyClientAuthMode) is read; Strict without trusted certificates is an error', () => {
  const r = base();
  const p = r.properties as Record<string, unknown>;
  p.sslProfiles = [
    { name: 'pass', properties: { clientAuthConfiguration: { VerifyClientCertIssuerDN: false, VerifyClientRevocation: 'None', VerifyClientAuthMode: 'Passthrough' } } },
    { name: 'strict', properties: { clientAuthConfiguration: { verifyClientCertIssuerDN: true } } },
  ];
  const { model, diagnostics } = adapt(r as ArmResource);
  assert.equal(model!.sslProfiles[0]!.clientAuthConfiguration!.verifyClientAuthMode, 'Passthrough');
  assert.equal(model!.sslProfiles[1]!.clientAuthConfiguration!.verifyClientAuthMode, 'Strict');
  assert.deepEqual(diagnostics.errors.map((d) => d.path), ['properties.sslProfiles[1].properties.trustedClientCertificates']);
});

test('predefined policy names set the minimum version; unknown names are errors', () => {
  const r = base();
  (r.properties as Record<string, unknown>).sslPolicy = { policyType: 'Predefined', policyName: 'AppGwSslPolicy20150501' };
  assert.equal(adapt(r as ArmResource).model!.sslPolicy.minProtocolVersion, 'TLSv1_0');
  (r.properties as Record<string, unknown>).sslPolicy = { policyType: 'Predefined', policyName: 'Nope' };
  assert.deepEqual(adapt(r as ArmResource).diagnostics.errors.map((d) => d.path), ['properties.sslPolicy.policyName']);
});

test('listener host names: hostName and hostNames exclude each other; wildcard rules of Azure', () => {
  assert.equal(wildcardProblem('*.contoso.com'), undefined);
  assert.equal(wildcardProblem('b?.example'), undefined);
  assert.match(wildcardProblem('**.x')!, /'\*\*'/);
  assert.match(wildcardProblem('*.*.*.x')!, /at most two/);
  assert.match(wildcardProblem('a*b*.x')!, /once per label/);
  assert.match(wildcardProblem('a_b.x')!, /A-Z/);
  const r = base();
  const l = (r.properties as Record<string, Record<string, unknown>[]>).httpListeners![0]!.properties as Record<string, unknown>;
  l.hostName = 'a.example';
  l.hostNames = ['b.example'];
  assert.deepEqual(adapt(r as ArmResource).diagnostics.errors.map((d) => d.path), ['properties.httpListeners[0].properties.hostNames']);
});

test('probes: status ranges parsed, defaults applied, bad ranges reported', () => {
  const r = base();
  (r.properties as Record<string, unknown>).probes = [{ name: 'pr', properties: { protocol: 'Https', path: '/status', match: { statusCodes: ['200-399', '401', 'abc'] } } }];
  const { model, diagnostics } = adapt(r as ArmResource);
  assert.deepEqual(model!.probes[0]!.match.statusCodes, [[200, 399], [401, 401]]);
  assert.equal(model!.probes[0]!.interval, 30);
  assert.deepEqual(diagnostics.errors.map((d) => d.path), ['properties.probes[0].properties.match.statusCodes[2]']);
});

test("Azure's limits: frontend ports 1-64999, 40 header configurations per rewrite set, 16 KB PFX", () => {
  const r = base();
  const p = r.properties as Record<string, unknown>;
  (p.frontendPorts as Record<string, Record<string, unknown>>[])[0]!.properties!.port = 65000;
  p.rewriteRuleSets = [{ name: 'big', properties: { rewriteRules: [{ name: 'x', actionSet: { requestHeaderConfigurations: Array.from({ length: 41 }, (_, i) => ({ headerName: `X-${i}`, headerValue: 'v' })) } }] } }];
  (p.sslCertificates as Record<string, Record<string, unknown>>[])[0]!.properties!.data = 'A'.repeat(22_000);
  const { diagnostics } = adapt(r as ArmResource);
  assert.deepEqual(diagnostics.errors.map((d) => [d.code, d.path]), [
    ['GH_AGW_INVALID_VALUE', 'properties.frontendPorts[0].properties.port'],
    ['GH_AGW_LIMIT', 'properties.rewriteRuleSets[0]'],
    ['GH_AGW_LIMIT', 'properties.sslCertificates[0].properties.data'],
  ]);
});
