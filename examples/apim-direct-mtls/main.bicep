// The series' first post: "Validate client certificates in API Management" (Ronald Bosma, 2024).
// API Management answers mTLS itself: negotiateClientCertificate asks callers for a certificate,
// and two operations validate it — one with the validate-client-certificate policy, one with
// context.Request.Certificate. Certificates come from `gatehouse certs create --out certificates`.

@description('The name of the API Management Service that will be created')
param apiManagementServiceName string = 'apim-sample'

@description('Location to use for all resources')
param location string = resourceGroup().location

@description('The email address of the owner of the API Management service')
param publisherEmail string = 'admin@apim-sample.dev'

@description('The name of the owner of the API Management service')
param publisherName string = 'APIM Sample'

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

    hostnameConfigurations: [
      {
        type: 'Proxy'
        hostName: '${apiManagementServiceName}.azure-api.net'
        certificateSource: 'BuiltIn'
        negotiateClientCertificate: true
        defaultSslBinding: true
      }
    ]

    certificates: [
      {
        encodedCertificate: loadTextContent('certificates/root-ca.without-markers.cer')
        storeName: 'Root'
      }
      {
        encodedCertificate: loadTextContent('certificates/dev-intermediate-ca.without-markers.cer')
        storeName: 'CertificateAuthority'
      }
    ]
  }

  resource devClient01Certificate 'certificates' = {
    name: 'dev-client-01'
    properties: {
      data: loadTextContent('certificates/dev-client-01.without-markers.cer')
    }
  }
}

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

  resource validateUsingPolicy 'operations' = {
    name: 'validate-using-policy'
    properties: {
      displayName: 'Validate (using policy)'
      method: 'GET'
      urlTemplate: '/validate-using-policy'
    }

    resource policies 'policies' = {
      name: 'policy'
      properties: {
        format: 'rawxml'
        value: loadTextContent('validate-using-policy.operation.cshtml')
      }
    }
  }

  resource validateUsingContext 'operations' = {
    name: 'validate-using-context'
    properties: {
      displayName: 'Validate (using context)'
      method: 'GET'
      urlTemplate: '/validate-using-context'
    }

    resource policies 'policies' = {
      name: 'policy'
      properties: {
        format: 'rawxml'
        value: loadTextContent('validate-using-context.operation.cshtml')
      }
    }
  }
}

output gatewayUrl string = apiManagementService.properties.gatewayUrl
