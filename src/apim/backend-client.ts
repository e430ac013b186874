/**
 * The HTTP client of forward-request and send-request: node:http/https with keep-alive agents (one
 * per client certificate), timeouts on response headers, and the address book for Azure names.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { HeaderMap } from '../core/headers.js';
import type { AddressBook } from '../model/network.js';
import { queryString } from '../policy/context.js';
import { PolicyFailure, type BackendClient, type BackendRequest, type BackendResponse } from '../policy/runtime.js';

export class NodeBackendClient implements BackendClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly httpsAgents = new Map<string, https.Agent>();
  private readonly addressBook: AddressBook | undefined;
  private readonly trustedRoots: readonly string[] | undefined;

  constructor(options: { addressBook?: AddressBook; trustedRootsPem?: readonly string[] } = {}) {
    this.addressBook = options.addressBook;
    this.trustedRoots = options.trustedRootsPem;
  }

  private agentFor(req: BackendRequest): https.Agent {
    const key = `${req.clientCertificate?.certPem ?? ''}|${req.validateCertificateChain}|${req.validateCertificateName}`;
    let a = this.httpsAgents.get(key);
    if (!a) {
      a = new https.Agent({
        keepAlive: true,
        maxSockets: 256,
        rejectUnauthorized: req.validateCertificateChain,
        ...(req.validateCertificateName ? {} : { checkServerIdentity: () => undefined }),
        // Node's roots plus the extra ones (a `ca` option alone would replace Node's list).
        ...(this.trustedRoots && this.trustedRoots.length ? { ca: [...tls.rootCertificates, ...this.trustedRoots] } : {}),
        ...(req.clientCertificate ? { cert: req.clientCertificate.certPem, key: req.clientCertificate.keyPem } : {}),
      });
      this.httpsAgents.set(key, a);
    }
    return a;
  }

  send(req: BackendRequest, redirects = 0): Promise<BackendResponse> {
    const u = req.url;
    const secure = u.scheme === 'https';
    const mapped = this.addressBook?.lookup(u.host, u.port);
    const headers = req.headers.clone();
    if (!headers.has('Host')) headers.set('Host', (secure && u.port === 443) || (!secure && u.port === 80) ? u.host : `${u.host}:${u.port}`);
    if (req.body) headers.set('Content-Length', String(req.body.length));
    const options: https.RequestOptions = {
      method: req.method,
      host: mapped?.host ?? u.host,
      port: mapped?.port ?? u.port,
      path: encodePath(u.path) + queryString(u.query),
      headers: headers.toRaw() as unknown as http.OutgoingHttpHeaders,
      ...(secure ? { agent: this.agentFor(req), servername: isIp(u.host) ? '' : u.host } : { agent: this.httpAgent }),
    };
    return new Promise<BackendResponse>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const r = (secure ? https : http).request(options, (res) => {
        if (timer) clearTimeout(timer);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(connFailure(e, u.host)));
        res.on('end', () => {
          const h = HeaderMap.fromRaw(res.rawHeaders);
          for (const n of ['connection', 'keep-alive', 'transfer-encoding']) h.delete(n);
          const status = res.statusCode ?? 502;
          const location = h.get('location');
          if (req.followRedirects && location && [301, 302, 303, 307, 308].includes(status) && redirects < 10) {
            try {
              const next = new URL(location, `${u.scheme}://${u.host}:${u.port}${u.path}`);
              const scheme = next.protocol.replace(/:$/, '');
              const method = status === 303 ? 'GET' : req.method;
              resolve(
                this.send(
                  {
                    ...req,
                    method,
                    body: status === 303 ? undefined : req.body,
                    headers: (() => {
                      const x = req.headers.clone();
                      x.delete('Host');
                      return x;
                    })(),
                    url: { scheme, host: next.hostname, port: next.port ? Number(next.port) : scheme === 'https' ? 443 : 80, path: next.pathname, query: [...next.searchParams] },
                  },
                  redirects + 1,
                ),
              );
              return;
            } catch {
              /* answer with the redirect itself */
            }
          }
          resolve({ statusCode: status, statusReason: res.statusMessage ?? '', headers: h, body: Buffer.concat(chunks) });
        });
      });
      if (req.timeoutSeconds > 0) {
        timer = setTimeout(() => {
          r.destroy(new PolicyFailure({ source: 'forward-request', reason: 'Timeout', message: `Request to the backend timed out after ${req.timeoutSeconds} seconds.`, status: 504, statusReason: 'Gateway Timeout', bodyMessage: 'Gateway timeout', logReason: 'backend_timeout' }));
        }, req.timeoutSeconds * 1000);
        timer.unref();
      }
      r.on('error', (e) => {
        if (timer) clearTimeout(timer);
        reject(e instanceof PolicyFailure ? e : connFailure(e, u.host));
      });
      r.end(req.body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    for (const a of this.httpsAgents.values()) a.destroy();
  }
}

function connFailure(e: Error, host: string): PolicyFailure {
  return new PolicyFailure({ source: 'forward-request', reason: 'BackendConnectionFailure', message: `Error occured while calling backend service. ${host}: ${e.message}`, status: 500, logReason: 'backend_unreachable', cause: e });
}

function isIp(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(':');
}

function encodePath(p: string): string {
  return p.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/g, (c) => encodeURIComponent(c));
}
