/** Error codes of the API Management runtime. */
import { defineCodes } from '../core/errors.js';

export const ApimCodes = defineCodes({
  GH_APIM_CERTIFICATE: 'A certificate of the service (CA store, certificate entity or custom host name) could not be loaded.',
  GH_APIM_TLS: 'The gateway has no TLS certificate: give a platform CA or an explicit certificate and key.',
});
