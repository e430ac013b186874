/**
 * Errors with stable codes. Every code Gatehouse can raise is listed in CODES with a one-line
 * meaning; docs/error-codes.md is checked against this list by a test, so add a code here first.
 * Retired codes stay in the list (marked retired) and are never reused.
 */

export const CODES = {
  // core / cli
  GH_USAGE: 'The command line was not understood.',
  GH_FILE_NOT_FOUND: 'A file named in the configuration or on the command line does not exist.',
  GH_FILE_UNREADABLE: 'A file exists but could not be read.',
  GH_CONFIG_INVALID: 'The configuration has errors; nothing was started.',
  GH_PORT_IN_USE: 'A port could not be bound because something else listens on it.',
  GH_PORT_PRIVILEGED: 'A port below 1024 could not be bound; use --port-map to move it.',
  GH_INTERNAL: 'A bug in Gatehouse: please report it with the message.',
  // pki
  GH_PKI_UNRECOGNISED_FORMAT: 'The data is not a certificate in any supported form (PEM, base64, DER, URL-escaped PEM, PKCS#12).',
  GH_PKI_MALFORMED_CERTIFICATE: 'The data looks like a certificate but does not decode as X.509.',
  GH_PKI_PFX_PASSWORD: 'The PKCS#12/PFX password is wrong or missing.',
  GH_PKI_PFX_MALFORMED: 'The PKCS#12/PFX file is truncated or malformed.',
  GH_PKI_PFX_UNSUPPORTED: 'The PKCS#12/PFX file uses an algorithm Gatehouse does not support.',
  GH_PKI_NO_PRIVATE_KEY: 'A private key was needed but the file holds none.',
  GH_PKI_FILE_EXISTS: 'An output file exists already; pass --force to overwrite.',
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof CODES | `GH_${string}`;

/** Registers codes that live next to the module that raises them (edge, apim, expr, bicep …). */
export function defineCodes<const T extends Record<`GH_${string}`, string>>(codes: T): { [K in keyof T]: K } {
  const out = {} as { [K in keyof T]: K };
  for (const key of Object.keys(codes) as (keyof T & string)[]) {
    if (key in registry && registry[key] !== codes[key]) throw new Error(`error code ${key} defined twice`);
    registry[key] = codes[key] as string;
    (out as Record<string, string>)[key] = key;
  }
  return out;
}

const registry: Record<string, string> = { ...CODES };

/** Every code known to the process after the modules that define codes were imported. */
export function knownCodes(): Readonly<Record<string, string>> {
  return registry;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isGatehouseError(e: unknown, code?: ErrorCode): e is GatehouseError {
  return e instanceof GatehouseError && (code === undefined || e.code === code);
}

/** The message of anything thrown, for logs and diagnostics. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
