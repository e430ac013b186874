/**
 * A real HTTPS client for end-to-end tests: node's https with SNI, an optional client certificate
 * (PFX + password, as the post's clients use) and a CA to verify the server.
 */
import https from 'node:https';
import { spawn } from 'node:child_process';

export interface HttpsResult {
  status: number;
  statusMessage: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpsRequest {
  port: number;
  path: string;
  host?: string; // the name sent as SNI and Host
  address?: string; // where to connect (default 127.0.0.1)
  method?: string;
  headers?: Record<string, string>;
  pfx?: Buffer;
  passphrase?: string;
  ca?: Buffer | string;
  body?: string;
}

export function httpsRequest(r: HttpsRequest): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const host = r.host ?? 'apim-sample.dev';
    const req = https.request(
      {
        host: r.address ?? '127.0.0.1',
        port: r.port,
        path: r.path,
        method: r.method ?? 'GET',
        servername: host,
        headers: { host: `${host}:${r.port}`, ...r.headers },
        ...(r.pfx ? { pfx: r.pfx, passphrase: r.passphrase ?? 'P@ssw0rd' } : {}),
        ...(r.ca ? { ca: r.ca } : { rejectUnauthorized: false }),
        agent: false,
        timeout: 15000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, statusMessage: res.statusMessage ?? '', headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${host}:${r.port}${r.path} timed out`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

export interface CurlResult {
  code: number | null;
  status: number;
  body: string;
  stderr: string;
}

/** curl as the README tells users to call the gateway: --resolve and a PKCS#12 client certificate. */
export function curl(args: { url: string; resolve: string; pfx?: string; cacert?: string; headers?: string[] }): Promise<CurlResult> {
  const argv = ['-sS', '--max-time', '15', '--resolve', args.resolve, '-w', '\n%{http_code}', args.url];
  if (args.pfx) argv.push('--cert-type', 'P12', '--cert', `${args.pfx}:P@ssw0rd`);
  if (args.cacert) argv.push('--cacert', args.cacert);
  else argv.push('-k');
  for (const h of args.headers ?? []) argv.push('-H', h);
  return new Promise((resolve, reject) => {
    const child = spawn('curl', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const i = out.lastIndexOf('\n');
      resolve({ code, status: Number(out.slice(i + 1)), body: out.slice(0, i), stderr: err });
    });
  });
}
