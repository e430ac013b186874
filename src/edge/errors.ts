/** Error codes of the edge (the Application Gateway runtime). */
import { defineCodes } from '../core/errors.js';

export const EDGE_CODES = defineCodes({
  GH_EDGE_SSL_CERTIFICATE: 'A listener sslCertificate (PFX data + password) could not be loaded: wrong password, truncated or unsupported PFX.',
  GH_EDGE_TRUSTED_CLIENT_CERTIFICATE: "A trustedClientCertificates entry breaks Azure's upload rules (one root CA, CA certificates only, no private key, PEM).",
  GH_EDGE_TRUSTED_ROOT_CERTIFICATE: 'A trustedRootCertificates entry (for HTTPS backends) is not a certificate.',
  GH_EDGE_UNSUPPORTED: 'The configuration uses an application gateway feature the edge does not run.',
  GH_EDGE_BIND: 'A frontend port could not be bound on the local address.',
  GH_EDGE_RELOAD: 'A configuration reload was refused (the gateway is closing); the running configuration stays.',
  GH_EDGE_PKI_UNAVAILABLE: 'Certificate parsing or chain validation (src/pki) is not available; the configuration could not be checked.',
});
