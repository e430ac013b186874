// The seed's deployment (API Management Internal in a VNet behind an Application Gateway with an
// mTLS listener), split into modules, evaluated end to end from the Bicep files on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateDeployment, type EvaluatedResource } from '../../src/config/deployment.js';
import { formatDiagnostics } from '../../src/core/diagnostics.js';

const dir = join(import.meta.dirname, '../fixtures/bicep/apim-behind-agw');
const certs = join(import.meta.dirname, '../fixtures/bosma-certificates');
const RG = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/gatehouse-local/providers';

function one(rs: EvaluatedResource[], type: string, name: string): EvaluatedResource {
  const found = rs.filter((r) => r.type === type && r.name === name && !r.existing);
  assert.equal(found.length, 1, `one ${type} ${name} (got ${found.length})`);
  return found[0]!;
}

test('the seed deployment evaluates: resources, ids, names, properties, runtime values', async () => {
  const r = await evaluateDeployment(dir);
  assert.deepEqual(r.diagnostics, [], formatDiagnostics(r.diagnostics, { withSource: true }));

  const apim = one(r.resources, 'Microsoft.ApiManagement/service', 'apim-validate-client-cert');
  assert.equal(apim.id, `${RG}/Microsoft.ApiManagement/service/apim-validate-client-cert`);
  assert.equal(apim.location, 'westeurope');
  assert.equal(apim.apiVersion, '2022-08-01');
  const props = apim.properties as Record<string, any>;
  assert.equal(props.virtualNetworkType, 'Internal');
  assert.equal(props.virtualNetworkConfiguration.subnetResourceId, `${RG}/Microsoft.Network/virtualNetworks/vnet-validate-client-certificate/subnets/snet-api-management`);
  assert.equal(props.publicIpAddressId, `${RG}/Microsoft.Network/publicIPAddresses/pip-apim-validate-client-certificate`);
  assert.equal(props.certificates[0].encodedCertificate, readFileSync(join(certs, 'root-ca.without-markers.cer'), 'utf8'));
  assert.equal(apim.runtime?.gatewayUrl, 'https://apim-validate-client-cert.azure-api.net');
  assert.deepEqual(apim.runtime?.privateIPAddresses, ['10.0.1.4']);
  assert.equal(apim.origin.file, join(dir, 'api-management/api-management.bicep'));
  assert.equal(apim.origin.line, 25);
  assert.equal(apim.origin.column, 1);
  assert.equal(apim.symbolicName, 'apiManagementService');
  assert.equal(apim.existing, false);

  // nested child and parent: children appear as separate resources with full names
  const cert = one(r.resources, 'Microsoft.ApiManagement/service/certificates', 'apim-validate-client-cert/dev-client-01');
  assert.equal(cert.id, `${apim.id}/certificates/dev-client-01`);
  const policy = one(r.resources, 'Microsoft.ApiManagement/service/apis/operations/policies', 'apim-validate-client-cert/client-cert-api/validate-from-agw/policy');
  assert.equal(policy.id, `${apim.id}/apis/client-cert-api/operations/validate-from-agw/policies/policy`);
  assert.equal(policy.apiVersion, '2022-08-01');
  assert.equal((policy.properties as any).format, 'rawxml');
  assert.equal((policy.properties as any).value, readFileSync(join(dir, 'api-management/validate-from-agw.operation.cshtml'), 'utf8'));
  const crlf = one(r.resources, 'Microsoft.ApiManagement/service/apis/operations/policies', 'apim-validate-client-cert/client-cert-api/validate-using-policy/policy');
  assert.match((crlf.properties as any).value, /<policies>\r\n/, 'line endings of loaded files are kept');
  assert.equal(policy.symbolicName, 'validateFromAppGateway::policies');
  assert.equal(policy.policyFile, join(dir, 'api-management/validate-from-agw.operation.cshtml'), 'the policy knows the file it was loaded from');


  // the application gateway exactly as in the seed
  const agw = one(r.resources, 'Microsoft.Network/applicationGateways', 'agw-validate-client-certificate');
  const ap = agw.properties as Record<string, any>;
  const agwId = `${RG}/Microsoft.Network/applicationGateways/agw-validate-client-certificate`;
  assert.equal(agw.id, agwId);
  assert.equal(ap.backendAddressPools[0].properties.backendAddresses[0].ipAddress, '10.0.1.4');
  assert.equal(ap.backendHttpSettingsCollection[0].properties.hostName, 'apim-validate-client-cert.azure-api.net');
  assert.equal(ap.backendHttpSettingsCollection[0].properties.probe.id, `${agwId}/probes/apim-gateway-probe`);
  assert.equal(ap.gatewayIPConfigurations[0].properties.subnet.id, `${RG}/Microsoft.Network/virtualNetworks/vnet-validate-client-certificate/subnets/snet-app-gateway`);
  assert.equal(ap.frontendIPConfigurations[0].properties.publicIPAddress.id, `${RG}/Microsoft.Network/publicIPAddresses/pip-agw-validate-client-certificate`);
  assert.equal(ap.sslCertificates[0].properties.data, readFileSync(join(certs, 'ssl-cert.apim-sample.dev.pfx')).toString('base64'));
  assert.equal(ap.trustedClientCertificates[0].properties.data, readFileSync(join(certs, 'dev-intermediate-ca-with-root-ca.cer'), 'utf8'));
  assert.equal(ap.httpListeners[1].properties.sslProfile.id, `${agwId}/sslProfiles/mtls-ssl-profile`);
  assert.equal(ap.sslProfiles[0].properties.clientAuthConfiguration.verifyClientCertIssuerDN, true);
  assert.equal(ap.requestRoutingRules[1].properties.rewriteRuleSet.id, `${agwId}/rewriteRuleSets/mtls-rewrite-rules`);
  assert.equal(ap.rewriteRuleSets[1].properties.rewriteRules[0].actionSet.requestHeaderConfigurations[0].headerValue, '');
  assert.deepEqual(ap.frontendPorts.map((p: any) => p.properties.port), [443, 53029]);
  assert.equal(agw.policyFile, undefined);

  // existing references are listed as such, declared children of a vnet too
  assert.ok(r.resources.some((x) => x.existing && x.type === 'Microsoft.Network/virtualNetworks/subnets' && x.name === 'vnet-validate-client-certificate/snet-api-management'));
  assert.ok(r.resources.some((x) => x.existing && x.type === 'Microsoft.ApiManagement/service'));

  // outputs across modules
  assert.deepEqual(r.outputs, { gatewayUrl: 'https://apim-validate-client-cert.azure-api.net', apimPrivateIp: '10.0.1.4', agwPublicIp: r.network.publicAddresses.find((p) => p.resourceId.endsWith('pip-agw-validate-client-certificate'))!.address });

  // network model
  assert.deepEqual(r.network.privateAddresses, [
    { address: '10.0.1.4', ownerId: apim.id, subnetId: props.virtualNetworkConfiguration.subnetResourceId },
    // the application gateway's instances in its gatewayIPConfigurations subnet: where its backend connections come from
    { address: '10.0.0.4', ownerId: `${agwId}/gatewayIPConfigurations/${ap.gatewayIPConfigurations[0].name}`, subnetId: ap.gatewayIPConfigurations[0].properties.subnet.id },
  ]);
  assert.deepEqual(r.network.virtualNetworks?.map((v) => [v.id.split('/').pop(), v.addressPrefixes]), [['vnet-validate-client-certificate', ['10.0.0.0/16']]]);
  assert.deepEqual(
    r.network.publicAddresses.map((p) => p.address).sort(),
    ['127.0.0.1', '127.0.0.2'],
  );
  const pipAgw = one(r.resources, 'Microsoft.Network/publicIPAddresses', 'pip-agw-validate-client-certificate');
  assert.equal((pipAgw.properties as any).ipAddress, r.outputs.agwPublicIp, 'a GET-like view: the assigned address is in properties');
  assert.equal((apim.properties as any).privateIPAddresses[0], '10.0.1.4');
  const pipApim = r.network.publicAddresses.find((p) => p.resourceId.endsWith('pip-apim-validate-client-certificate'))!;
  assert.equal(pipApim.fqdn, 'apim-validate-client-cert.westeurope.cloudapp.azure.com');
  assert.deepEqual(r.network.subnets.map((s) => [s.id.split('/').pop(), s.prefix, s.nsgId?.split('/').pop()]), [
    ['snet-app-gateway', '10.0.0.0/24', undefined],
    ['snet-api-management', '10.0.1.0/24', 'nsg-apim-validate-client-certificate'],
  ]);
  assert.deepEqual(r.network.attachments?.map((a) => [a.resourceId.split('/').pop(), a.subnetId.split('/').pop()]), [
    ['apim-validate-client-cert', 'snet-api-management'],
    ['agw-validate-client-certificate', 'snet-app-gateway'],
  ]);
  assert.equal(r.network.securityRules.length, 1);
  assert.deepEqual(r.network.securityRules[0]!.subnetIds, [props.virtualNetworkConfiguration.subnetResourceId]);
  assert.deepEqual(r.network.securityRules[0]!.rules.map((x) => [x.name, x.priority, x.direction, x.destinationPortRanges[0]]), [
    ['management-endpoint-for-azure-portal-and-powershell', 110, 'Inbound', '3443'],
    ['azure-infrastructure-load-balancer', 120, 'Inbound', '6390'],
    ['dependency-on-azure-storage', 140, 'Outbound', '443'],
  ]);

  // every file read, for reload watching
  for (const f of ['main.bicep', 'network/network.bicep', 'api-management/api-management.bicep', 'application-gateway/application-gateway.bicep', 'api-management/validate-from-agw.operation.cshtml'])
    assert.ok(r.files.includes(join(dir, f)), f);
  assert.ok(r.files.includes(join(certs, 'ssl-cert.apim-sample.dev.pfx')));
});

test('parameters override defaults and flow into modules', async () => {
  const r = await evaluateDeployment(join(dir, 'main.bicep'), { params: { apiManagementServiceName: 'other-apim', location: 'northeurope' } });
  assert.deepEqual(r.diagnostics, []);
  const apim = one(r.resources, 'Microsoft.ApiManagement/service', 'other-apim');
  assert.equal(apim.location, 'northeurope');
  const agw = one(r.resources, 'Microsoft.Network/applicationGateways', 'agw-validate-client-certificate');
  assert.equal((agw.properties as any).backendHttpSettingsCollection[0].properties.hostName, 'other-apim.azure-api.net');
  assert.equal(r.outputs.gatewayUrl, 'https://other-apim.azure-api.net');
});

test('the context can be chosen: subscription, resource group, location', async () => {
  const r = await evaluateDeployment(dir, { subscriptionId: 'sub-1', resourceGroup: 'rg-1', location: 'swedencentral' });
  assert.deepEqual(r.diagnostics, []);
  const apim = one(r.resources, 'Microsoft.ApiManagement/service', 'apim-validate-client-cert');
  assert.equal(apim.id, '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ApiManagement/service/apim-validate-client-cert');
  assert.equal(apim.location, 'swedencentral');
  assert.equal(r.outputs.apimPrivateIp, '10.0.1.4');
});

test('an unknown parameter name is a diagnostic', async () => {
  const r = await evaluateDeployment(dir, { params: { nope: 1 } });
  assert.ok(r.diagnostics.some((d) => d.code === 'GH_BICEP_PARAM_UNKNOWN' && /nope/.test(d.message)));
});

test('the single-file form of the seed gives the same resources as the modular one', async () => {
  const single = await evaluateDeployment(join(import.meta.dirname, '../fixtures/bicep/seed-single-file'));
  const modular = await evaluateDeployment(dir);
  assert.deepEqual(single.diagnostics, []);
  const shape = (r: Awaited<ReturnType<typeof evaluateDeployment>>) =>
    r.resources
      .filter((x) => !x.existing)
      .map(({ origin: _o, symbolicName: _s, ...rest }) => rest)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  assert.deepEqual(shape(single), shape(modular));
  assert.deepEqual(single.network, modular.network);
  assert.equal(single.outputs.privateIP, '10.0.1.4');
});
