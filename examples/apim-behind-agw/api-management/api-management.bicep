// API Management in Internal mode inside the virtual network, with the CA certificates in its
// certificate stores, dev-client-01 uploaded as a client certificate, and the client-cert API.

param apiManagementServiceName string
param location string
param publisherEmail string
param publisherName string
param subnetId string

// API Management Public IP address (only used for management operations in Internal mode)
resource apimPublicIPAddress 'Microsoft.Network/publicIPAddresses@2023-05-01' = {
  name: 'pip-apim-validate-client-certificate'
  location: location
  sku: {
    name: 'Standard'
  }
  properties: {
    publicIPAddressVersion: 'IPv4'
    publicIPAllocationMethod: 'Static'
    idleTimeoutInMinutes: 4
    dnsSettings: {
      // The label you choose to use does not matter but a label is required if this resource will be assigned to an API Management service.
      domainNameLabel: apiManagementServiceName
    }
  }
}

resource apiManagementService 'Microsoft.ApiManagement/service@2022-08-01' = {
  name: apiManagementServiceName
  location: location
  sku: {
    name: 'Developer'
    capacity: 1
  }
  properties: {
    publisherEmail: publisherEmail
    publisherName: publisherName

    // Ask callers that connect directly for a client certificate (the first post of the series).
    hostnameConfigurations: [
      {
        type: 'Proxy'
        hostName: '${apiManagementServiceName}.azure-api.net'
        certificateSource: 'BuiltIn'
        negotiateClientCertificate: true
        defaultSslBinding: true
      }
    ]

    // The CA certificates used to validate client certificates
    certificates: [
      {
        encodedCertificate: loadTextContent('../certificates/root-ca.without-markers.cer')
        storeName: 'Root'
      }
      {
        encodedCertificate: loadTextContent('../certificates/dev-intermediate-ca.without-markers.cer')
        storeName: 'CertificateAuthority'
      }
    ]

    virtualNetworkType: 'Internal'
    virtualNetworkConfiguration: {
      subnetResourceId: subnetId
    }
    publicIpAddressId: apimPublicIPAddress.id
  }

  // Upload the client certificate that is allowed to call the API
  resource devClient01Certificate 'certificates' = {
    name: 'dev-client-01'
    properties: {
      data: loadTextContent('../certificates/dev-client-01.without-markers.cer')
    }
  }
}

// API to test client certificates
resource clientCertApi 'Microsoft.ApiManagement/service/apis@2022-08-01' = {
  name: 'client-cert-api'
  parent: apiManagementService
  properties: {
    displayName: 'Client Cert API'
    path: 'client-cert'
    protocols: [
      'https'
    ]
    subscriptionRequired: false
  }

  // Validates the client certificate with the validate-client-certificate policy
  resource validateUsingPolicy 'operations' = {
    name: 'validate-using-policy'
    properties: {
      displayName: 'Validate (using policy)'
      description: 'Validates client certificate using validate-client-certificate policy'
      method: 'GET'
      urlTemplate: '/validate-using-policy'
    }

    resource policies 'policies' = {
      name: 'policy'
      properties: {
        format: 'rawxml'
        value: loadTextContent('./validate-using-policy.operation.cshtml')
      }
    }
  }

  // Validates the client certificate with the context.Request.Certificate property
  resource validateUsingContext 'operations' = {
    name: 'validate-using-context'
    properties: {
      displayName: 'Validate (using context)'
      description: 'Validates client certificate using the context.Request.Certificate property'
      method: 'GET'
      urlTemplate: '/validate-using-context'
    }

    resource policies 'policies' = {
      name: 'policy'
      properties: {
        format: 'rawxml'
        value: loadTextContent('./validate-using-context.operation.cshtml')
      }
    }
  }
}

// Operation to validate client certificate received from Application Gateway
resource validateFromAppGateway 'Microsoft.ApiManagement/service/apis/operations@2022-08-01' = {
  name: 'validate-from-agw'
  parent: clientCertApi
  properties: {
    displayName: 'Validate (from AGW)'
    description: 'Validates client certificate received from Application Gateway'
    method: 'GET'
    urlTemplate: '/validate-from-agw'
  }

  resource policies 'policies' = {
    name: 'policy'
    properties: {
      format: 'rawxml'
      value: loadTextContent('./validate-from-agw.operation.cshtml')
    }
  }
}

output privateIPAddress string = apiManagementService.properties.privateIPAddresses[0]
output gatewayUrl string = apiManagementService.properties.gatewayUrl
