// The seed's deployment: API Management (Internal, in a virtual network) behind an Application
// Gateway with an HTTPS listener on 443 and an mTLS listener on 53029 that forwards the client
// certificate in X-ARR-ClientCert. Written from "Validate client certificates in API Management
// when it's behind an Application Gateway" (Ronald Bosma, 2024), split into modules as the post
// suggests. Certificates come from `gatehouse certs create --out certificates` (npm start makes them).

//=============================================================================
// Parameters
//=============================================================================

@description('The name of the API Management Service that will be created')
param apiManagementServiceName string = 'apim-sample'

@description('Location to use for all resources')
param location string = resourceGroup().location

@description('The email address of the owner of the API Management service')
param publisherEmail string = 'admin@apim-sample.dev'

@description('The name of the owner of the API Management service')
param publisherName string = 'APIM Sample'

@description('The host name clients use to reach the Application Gateway')
param applicationGatewayHostName string = 'apim-sample.dev'

@description('Remove X-ARR-ClientCert on the HTTPS listener ("Plugging the security hole"). false reproduces the hole.')
param removeClientCertHeaderOnHttpsListener bool = true

//=============================================================================
// Resources
//=============================================================================

module virtualNetwork 'virtual-network/virtual-network.bicep' = {
  name: 'virtualNetwork'
  params: {
    location: location
  }
}

module apiManagement 'api-management/api-management.bicep' = {
  name: 'apiManagement'
  params: {
    apiManagementServiceName: apiManagementServiceName
    location: location
    publisherEmail: publisherEmail
    publisherName: publisherName
    subnetId: virtualNetwork.outputs.apimSubnetId
  }
}

module applicationGateway 'application-gateway/application-gateway.bicep' = {
  name: 'applicationGateway'
  params: {
    location: location
    hostName: applicationGatewayHostName
    subnetId: virtualNetwork.outputs.agwSubnetId
    apiManagementServiceName: apiManagementServiceName
    apiManagementPrivateIPAddress: apiManagement.outputs.privateIPAddress
    removeClientCertHeaderOnHttpsListener: removeClientCertHeaderOnHttpsListener
  }
}

output apiManagementGatewayUrl string = apiManagement.outputs.gatewayUrl
output applicationGatewayPublicIPAddress string = applicationGateway.outputs.publicIPAddress
