/** The policies Gatehouse runs, as a registry value (no module-level state: build one per gateway or reuse). */
import { makeRegistry, type PolicyDefinition, type Registry } from '../compile.js';
import { authenticationBasic } from './authentication-basic.js';
import { authenticationCertificate } from './authentication-certificate.js';
import { authenticationManagedIdentity } from './authentication-managed-identity.js';
import { cacheLookup, cacheStore } from './cache-response.js';
import { cacheLookupValue, cacheRemoveValue, cacheStoreValue } from './cache-value.js';
import { checkHeader } from './check-header.js';
import { cors } from './cors.js';
import { includeFragment } from './include-fragment.js';
import { ipFilter } from './ip-filter.js';
import { quota, quotaByKey } from './quota.js';
import { rateLimit, rateLimitByKey } from './rate-limit.js';
import { sendOneWayRequest, sendRequest } from './send-request.js';
import { trace } from './trace.js';
import { choose } from './choose.js';
import { findAndReplace } from './find-and-replace.js';
import { forwardRequest } from './forward-request.js';
import { jsonToXmlPolicy, xmlToJsonPolicy } from './json-xml.js';
import { limitConcurrency } from './limit-concurrency.js';
import { mockResponse } from './mock-response.js';
import { retry } from './retry.js';
import { returnResponse } from './return-response.js';
import { rewriteUri } from './rewrite-uri.js';
import { setBackendService } from './set-backend-service.js';
import { setBody } from './set-body.js';
import { setMethod } from './set-method.js';
import { setQueryParameter } from './set-query-parameter.js';
import { setHeader } from './set-header.js';
import { setStatus } from './set-status.js';
import { setVariable } from './set-variable.js';
import { validateClientCertificate } from './validate-client-certificate.js';
import { validateJwt } from './validate-jwt.js';
import { wait } from './wait.js';

export const POLICY_DEFINITIONS: readonly PolicyDefinition[] = [
  authenticationBasic,
  authenticationCertificate,
  authenticationManagedIdentity,
  cacheLookup,
  cacheLookupValue,
  cacheStore,
  cacheRemoveValue,
  cacheStoreValue,
  checkHeader,
  choose,
  cors,
  includeFragment,
  ipFilter,
  quota,
  quotaByKey,
  rateLimit,
  rateLimitByKey,
  sendOneWayRequest,
  sendRequest,
  trace,
  findAndReplace,
  forwardRequest,
  jsonToXmlPolicy,
  limitConcurrency,
  mockResponse,
  retry,
  returnResponse,
  rewriteUri,
  setBackendService,
  setBody,
  setMethod,
  setQueryParameter,
  setHeader,
  setStatus,
  setVariable,
  validateClientCertificate,
  validateJwt,
  wait,
  xmlToJsonPolicy,
];

export function defaultRegistry(): Registry {
  return makeRegistry(POLICY_DEFINITIONS);
}
