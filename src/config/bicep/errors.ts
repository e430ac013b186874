/** Error codes of the Bicep and ARM front-ends (src/config/bicep, src/config/arm, deployment). */
import { defineCodes } from '../../core/errors.js';

export const BICEP_CODES = defineCodes({
  GH_BICEP_SYNTAX: 'The Bicep text does not parse: an unexpected token, an unterminated string or comment, a bad escape.',
  GH_BICEP_DUPLICATE_RESOURCE: 'Two resources of one template have the same resource id (Azure rejects a resource defined twice).',
  GH_BICEP_UNKNOWN_FUNCTION: 'A function name that neither Bicep nor the file defines.',
  GH_BICEP_UNDEFINED_SYMBOL: 'A name that no param, var, resource, module, function, import or loop variable declares.',
  GH_BICEP_DUPLICATE_SYMBOL: 'Two declarations in one file use the same name.',
  GH_BICEP_CYCLE: 'A declaration depends on itself (directly or through others).',
  GH_BICEP_TYPE: 'A value has the wrong type for the operator, function or declared type.',
  GH_BICEP_ARGUMENTS: 'A function was called with the wrong number of arguments.',
  GH_BICEP_EVAL: 'An expression failed at evaluation (index out of range, missing property, division by zero …).',
  GH_BICEP_FAIL: 'The template called fail().',
  GH_BICEP_RESOURCE_ID: 'resourceId() and its relatives got a type and names that do not fit.',
  GH_BICEP_PARAM_MISSING: 'A parameter has neither a value nor a default.',
  GH_BICEP_PARAM_INVALID: 'A parameter value breaks its decorators (@allowed, @minValue, @maxLength …) or type.',
  GH_BICEP_PARAM_UNKNOWN: 'A value was given for a parameter the template does not declare.',
  GH_BICEP_FILE: 'A file named by a module, import, using or load function cannot be read.',
  GH_BICEP_UNSUPPORTED: 'A construct Gatehouse does not evaluate locally (registry modules, extensions …).',
  GH_BICEP_UNKNOWN_CONDITION: 'A resource condition or loop depends on a value known only after deployment.',
  GH_BICEP_UNKNOWN_VALUE: 'A resource property depends on a value known only after a deployment in Azure (a secret, a property the provider adds); it stays unknown locally.',
  GH_ARM_TEMPLATE: 'An ARM JSON template or parameters file is malformed.',
  GH_ARM_EXPRESSION: 'An ARM template expression ("[...]") does not parse.',
});
