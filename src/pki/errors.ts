/**
 * Error codes raised by src/pki beyond the GH_PKI_* codes in src/core/errors.ts.
 */
import { defineCodes } from '../core/errors.js';

export const PKI_CODES = defineCodes({
  GH_PKI_TRUNCATED: 'The certificate or PKCS#12 data ends before its declared length (a truncated file or copy).',
  GH_PKI_KEY_MISMATCH: 'The private key does not belong to the certificate it was stored with.',
  GH_PKI_PLATFORM_CA: 'The local platform CA under the state directory could not be created or read.',
});
