/** Building backend requests (forward-request, send-request) from the request state. */
import { HeaderMap } from '../core/headers.js';
import type { HostUrl } from '../expr/host.js';
import type { BackendRequest, RequestState } from './runtime.js';

/** Headers that belong to one hop and are not forwarded. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

export function backendRequestOf(st: RequestState, method: string, url: HostUrl, headers: HeaderMap, body: Buffer | undefined, timeoutSeconds: number, followRedirects: boolean): BackendRequest {
  const h = new HeaderMap();
  for (const [n, vs] of headers.entries()) if (!HOP.has(n.toLowerCase())) h.set(n, vs);
  if (st.ctx.request.ipAddress) h.append('X-Forwarded-For', st.ctx.request.ipAddress);
  const backend = st.target.backendId ? st.services.backends.get(st.target.backendId) : undefined;
  let clientCertificate = st.clientCertificate;
  if (!clientCertificate && backend) {
    for (const id of backend.certificateIds) {
      const c = st.services.certificateStore.clientCredential(id);
      if (c) {
        clientCertificate = { certPem: c.certPem, keyPem: c.keyPem };
        break;
      }
    }
  }
  return {
    method,
    url: { ...url, query: url.query.slice() },
    headers: h,
    body: body && body.length ? body : undefined,
    timeoutSeconds,
    ...(clientCertificate ? { clientCertificate } : {}),
    validateCertificateChain: backend ? backend.validateCertificateChain : false,
    validateCertificateName: backend ? backend.validateCertificateName : false,
    followRedirects,
  };
}
