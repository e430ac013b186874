/** The edge: Azure Application Gateway semantics, run locally. See docs/edge.md. */
export { startApplicationGateway, compileGateway, validateApplicationGateway } from './gateway.js';
export type { EdgeOptions, RunningEdge, RunningListener } from './gateway.js';
export { EDGE_CODES } from './errors.js';
export { PAGES, SERVER_HEADER } from './pages.js';
export type { GatewayReason } from './pages.js';
export type { ApplicationGatewayModel } from '../model/applicationGateway.js';
export { startApplicationGatewayCluster, workerCount } from './cluster.js';
export type { ClusterOptions } from './cluster.js';
