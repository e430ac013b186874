/** Error codes of the policy reader, compiler and pipeline. */
import { defineCodes } from '../core/errors.js';

export const PolicyCodes = defineCodes({
  GH_POLICY_XML: 'A policy document is not well-formed XML (after its expressions are set aside).',
  GH_POLICY_EXPRESSION_UNBALANCED: 'A policy expression @(…) or @{…} has unbalanced brackets or an unterminated string or comment.',
  GH_POLICY_EXPRESSION_MIXED: 'An expression is mixed with literal text; it must be the whole attribute value or element text.',
  GH_POLICY_EXPRESSION_NOT_ALLOWED: 'An attribute that takes no expressions was given one.',
  GH_POLICY_TOO_LARGE: 'A policy document has more expressions than Gatehouse can place-hold.',
  GH_POLICY_NAMED_VALUE_UNKNOWN: 'A {{name}} reference names a named value that is not defined.',
  GH_POLICY_STRUCTURE: 'The document is not <policies> with inbound, backend, outbound and on-error sections (or a <fragment>).',
  GH_POLICY_UNKNOWN_ELEMENT: 'An element is not an API Management policy.',
  GH_POLICY_NOT_SUPPORTED: 'A real API Management policy that Gatehouse does not run yet.',
  GH_POLICY_WRONG_SECTION: 'A policy is placed in a section where API Management does not allow it.',
  GH_POLICY_UNKNOWN_ATTRIBUTE: 'An attribute is not one the policy takes.',
  GH_POLICY_MISSING_ATTRIBUTE: 'A required attribute or child element of a policy is missing.',
  GH_POLICY_INVALID_VALUE: 'An attribute or element value is not valid for the policy (not a number, not one of the allowed words …).',
  GH_POLICY_DUPLICATE_BASE: 'A section holds <base/> more than once.',
  GH_POLICY_REFERENCE: 'A policy refers to a certificate, backend or fragment that does not exist.',
});
