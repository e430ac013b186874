/**
 * Small deployments (ARM JSON resources) that several `gatehouse up` tests run: an API Management
 * service answering a fixed body on GET /hello/, and a gateway in front of it.
 */

/** An operation policy that answers 200 with `body`. */
export const returnPolicy = (body: string): string =>
  `<policies><inbound><base /><return-response><set-status code="200" /><set-body>${body}</set-body></return-response></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

/** The id of a child of application gateway `gateway`, as `{ id }`. */
export const gatewayChild = (gateway: string, type: string, name: string) => ({
  id: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/gatehouse-local/providers/Microsoft.Network/applicationGateways/${gateway}/${type}/${name}`,
});

/** An API Management service `name` (Internal at 10.0.1.4 when `internal`) whose GET /hello/ answers `body`. */
export function helloService(name: string, body: string, internal: boolean): object[] {
  return [
    { type: 'Microsoft.ApiManagement/service', name, properties: { publisherEmail: 'a@b.c', publisherName: 'T', ...(internal ? { virtualNetworkType: 'Internal', privateIPAddresses: ['10.0.1.4'] } : {}) }, sku: { name: 'Developer', capacity: 1 } },
    { type: 'Microsoft.ApiManagement/service/apis', name: `${name}/hello`, properties: { displayName: 'Hello', path: 'hello', protocols: ['https'], subscriptionRequired: false } },
    { type: 'Microsoft.ApiManagement/service/apis/operations', name: `${name}/hello/get`, properties: { displayName: 'Get', method: 'GET', urlTemplate: '/' } },
    { type: 'Microsoft.ApiManagement/service/apis/operations/policies', name: `${name}/hello/get/policy`, properties: { format: 'rawxml', value: returnPolicy(body) } },
  ];
}

/**
 * `helloService` (Internal) behind application gateway `gateway`: an Http listener on declared port
 * 80, HTTPS to `<service>.azure-api.net` at 10.0.1.4, probing the service's status endpoint (its
 * default probe would ask for '/', which API Management answers with 404), up to two instances.
 */
export function helloBehindGateway(gateway: string, service: string, body: string): string {
  const sub = (type: string, n: string) => gatewayChild(gateway, type, n);
  return JSON.stringify([
    ...helloService(service, body, true),
    {
      type: 'Microsoft.Network/applicationGateways',
      name: gateway,
      properties: {
        autoscaleConfiguration: { minCapacity: 0, maxCapacity: 2 },
        frontendIPConfigurations: [{ name: 'fe', properties: {} }],
        frontendPorts: [{ name: 'p80', properties: { port: 80 } }],
        httpListeners: [{ name: 'l', properties: { protocol: 'Http', frontendIPConfiguration: sub('frontendIPConfigurations', 'fe'), frontendPort: sub('frontendPorts', 'p80') } }],
        backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ ipAddress: '10.0.1.4' }] } }],
        probes: [{ name: 'probe', properties: { protocol: 'Https', path: '/status-0123456789abcdef', interval: 30, timeout: 5, unhealthyThreshold: 3, pickHostNameFromBackendHttpSettings: true } }],
        backendHttpSettingsCollection: [{ name: 's', properties: { port: 443, protocol: 'Https', hostName: `${service}.azure-api.net`, requestTimeout: 5, probe: sub('probes', 'probe') } }],
        requestRoutingRules: [{ name: 'r', properties: { priority: 1, ruleType: 'Basic', httpListener: sub('httpListeners', 'l'), backendAddressPool: sub('backendAddressPools', 'pool'), backendHttpSettings: sub('backendHttpSettingsCollection', 's') } }],
      },
    },
  ]);
}
