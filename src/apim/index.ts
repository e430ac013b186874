/** The API Management runtime: start a service from the model. */
export { startApiManagement, checkApiManagement, type ApimOptions, type RunningApim } from './server.js';
export type { ManagedIdentityEndpoint } from '../policy/runtime.js';
export { ApimGateway, loadServiceCertificates, STATUS_PATH, type IncomingApimRequest, type ApimAnswer } from './gateway.js';
export { MemoryRateLimitStore } from './rate-limit-store.js';
export { NodeBackendClient } from './backend-client.js';
export { ApimCodes } from './errors.js';
