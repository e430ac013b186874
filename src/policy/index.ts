/** The policy engine: reader, compiler, scope composition and the per-request runner. */
export { readPolicyXml, type PolicyElement, type PolicyAttribute, type ExpressionSource, type ReadResult, type ReadOptions } from './reader.js';
export { compilePolicyDocument, composeScopes, DEFAULT_GLOBAL_POLICY, type CompiledDocument, type ComposedPipeline, type CompileDocumentOptions } from './document.js';
export { PolicyValue, KNOWN_UNSUPPORTED, makeRegistry, type PolicyDefinition, type Registry, type PolicyEnvironment, CompileContext } from './compile.js';
export { runPipeline, runSteps, setErrorResponse, setLastError, errorBody, type PipelineOutcome } from './pipeline.js';
export { RequestContext, parseHostUrl, parseQuery, urlToString, queryString, cloneUrl } from './context.js';
export { createTrustCache, trustOf, buildTrust } from './trust.js';
export { defaultRegistry, POLICY_DEFINITIONS } from './policies/index.js';
export { PolicyCodes } from './errors.js';
export * from './runtime.js';
