/**
 * The responses the gateway makes itself, byte for byte as Application Gateway v2 sends them:
 * NGINX's special pages with the version replaced by Microsoft-Azure-Application-Gateway/v2,
 * CRLF line endings (spec 1.6, 5.5). Built once at module load; answering costs one write.
 */
export const SERVER_HEADER = 'Microsoft-Azure-Application-Gateway/v2';

/** Why the gateway answered itself: the `reason` field of its access-log record. */
export type GatewayReason =
  | 'no_client_cert'
  | 'client_cert_untrusted'
  | 'client_cert_expired'
  | 'client_cert_issuer_dn_mismatch'
  | 'client_cert_revoked'
  | 'client_cert_ocsp_failed'
  | 'no_listener_for_host'
  | 'plain_http_to_https_port'
  | 'bad_request'
  | 'header_too_large'
  | 'request_timeout'
  | 'h2c_upgrade'
  | 'backend_unhealthy'
  | 'backend_error'
  | 'backend_timeout'
  | 'redirect'
  | 'rewrite_error';

function page(title: string, h1: string, detail?: string): Buffer {
  const lines = ['<html>', `<head><title>${title}</title></head>`, '<body>', `<center><h1>${h1}</h1></center>`];
  if (detail !== undefined) lines.push(`<center>${detail}</center>`);
  lines.push(`<hr><center>${SERVER_HEADER}</center>`, '</body>', '</html>', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

export interface Page {
  readonly status: number;
  readonly statusText: string;
  readonly body: Buffer;
  /** NGINX clears keep-alive for 400/495/496/497. */
  readonly close: boolean;
}

const mk = (status: number, statusText: string, body: Buffer, close = false): Page => ({ status, statusText, body, close });

export const PAGES = {
  noClientCert: mk(400, 'Bad Request', page('400 No required SSL certificate was sent', '400 Bad Request', 'No required SSL certificate was sent'), true),
  certError: mk(400, 'Bad Request', page('400 The SSL certificate error', '400 Bad Request', 'The SSL certificate error'), true),
  plainHttpToHttps: mk(400, 'Bad Request', page('400 The plain HTTP request was sent to HTTPS port', '400 Bad Request', 'The plain HTTP request was sent to HTTPS port'), true),
  badRequest: mk(400, 'Bad Request', page('400 Bad Request', '400 Bad Request'), true),
  /** NGINX's 494 page, sent as 400. */
  headerTooLarge: mk(400, 'Bad Request', page('400 Request Header Or Cookie Too Large', '400 Bad Request', 'Request Header Or Cookie Too Large'), true),
  requestTimeout: mk(408, 'Request Time-out', page('408 Request Time-out', '408 Request Time-out'), true),
  forbidden: mk(403, 'Forbidden', page('403 Forbidden', '403 Forbidden')),
  notFound: mk(404, 'Not Found', page('404 Not Found', '404 Not Found')),
  internalError: mk(500, 'Internal Server Error', page('500 Internal Server Error', '500 Internal Server Error')),
  badGateway: mk(502, 'Bad Gateway', page('502 Bad Gateway', '502 Bad Gateway')),
  gatewayTimeout: mk(504, 'Gateway Time-out', page('504 Gateway Time-out', '504 Gateway Time-out')),
} as const;

/** The whole HTTP/1.1 response for a page, for writing on a raw socket (parse errors). */
export function rawPageResponse(p: Page, date = new Date()): Buffer {
  const head =
    `HTTP/1.1 ${p.status} ${p.statusText}\r\n` +
    `Server: ${SERVER_HEADER}\r\n` +
    `Date: ${date.toUTCString()}\r\n` +
    'Content-Type: text/html\r\n' +
    `Content-Length: ${p.body.length}\r\n` +
    `Connection: ${p.close ? 'close' : 'keep-alive'}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), p.body]);
}
