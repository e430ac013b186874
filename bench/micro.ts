/**
 * Micro-benchmarks of the per-request and per-connection work the profiles of `npm run bench`
 * point at, each in µs per call (median of 5 rounds, each bounded in count and time), on the
 * seed's certificates generated at run time. Usage: node --import tsx bench/micro.ts [--apim]
 *
 * Not part of `npm test`; numbers go to docs/benchmarks.md.
 */
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import { openSync, closeSync, writeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateTree } from '../src/cli/commands/certs.js';
import { CertificateCache, certificateFromDer, verifyChain, generateCertificate, type Certificate } from '../src/pki/index.js';
import { batchedLines, createLogger } from '../src/core/logger.js';
import { HeaderMap } from '../src/core/headers.js';
import { DiagnosticBag } from '../src/core/diagnostics.js';
import { adaptApiManagement } from '../src/config/resources/apiManagement.js';
import { startApiManagement } from '../src/apim/index.js';
import { AccessRecord } from '../src/edge/accessLog.js';

interface Row {
  readonly name: string;
  readonly us: number;
}

function measure(name: string, fn: () => unknown, maxCalls = 20_000, maxMs = 400): Row {
  for (let i = 0; i < Math.min(200, maxCalls); i++) fn(); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    let n = 0;
    while (n < maxCalls && performance.now() - t0 < maxMs / 5) {
      fn();
      n++;
    }
    rounds.push(((performance.now() - t0) * 1000) / n);
  }
  rounds.sort((a, b) => a - b);
  return { name, us: rounds[2]! };
}

/** As measure, for a call that returns a promise: the calls of a round run one after the other. */
async function measureAsync(name: string, fn: () => Promise<unknown>, maxCalls = 20_000, maxMs = 400): Promise<Row> {
  for (let i = 0; i < Math.min(200, maxCalls); i++) await fn(); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    let n = 0;
    while (n < maxCalls && performance.now() - t0 < maxMs / 5) {
      await fn();
      n++;
    }
    rounds.push(((performance.now() - t0) * 1000) / n);
  }
  rounds.sort((a, b) => a - b);
  return { name, us: rounds[2]! };
}

/**
 * API Management's in-process hand-off (what `gatehouse up` runs per request of the seed chain
 * behind the edge), on an operation whose policy answers at once with a few headers: the
 * per-request cost of the handler itself (host header, request, match, pipeline, wire answer, log
 * record), without the policy expressions.
 */
async function apimRows(): Promise<Row[]> {
  const type = (t: string) => `Microsoft.ApiManagement/service${t ? '/' + t : ''}`;
  const id = (t: string, n: string) => `/subscriptions/0/resourceGroups/g/providers/${type(t)}/${n.split('/').join(`/${t.split('/')[0]}/`)}`;
  const r = (t: string, name: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: type(t), name, id: id(t, name), properties, ...extra });
  const policy = `<policies><inbound><base /><return-response><set-status code="200" reason="OK" /><set-header name="Content-Type" exists-action="override"><value>text/plain</value></set-header><set-header name="X-Answer" exists-action="override"><value>micro</value></set-header><set-body>ok</set-body></return-response></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
  const bag = new DiagnosticBag();
  const [model] = adaptApiManagement(
    [
      r('', 'apim-micro', { publisherEmail: 'a@b.c', publisherName: 'T' }, { sku: { name: 'Developer', capacity: 1 } }),
      r('apis', 'apim-micro/client-cert', { displayName: 'C', path: 'client-cert', protocols: ['https'], subscriptionRequired: false }),
      r('apis/operations', 'apim-micro/client-cert/validate', { displayName: 'V', method: 'GET', urlTemplate: '/validate-from-agw' }),
      r('apis/operations/policies', 'apim-micro/client-cert/validate/policy', { format: 'rawxml', value: policy }),
    ] as never,
    { diagnostics: bag, baseDir: process.cwd() },
  );
  if (bag.hasErrors || !model) throw new Error(`micro: the API Management model has errors: ${bag.items.map((d) => d.message).join('; ')}`);
  const tlsCert = await generateCertificate({ subject: 'CN=apim-micro.azure-api.net', dnsNames: ['apim-micro.azure-api.net'], keyAlgorithm: 'ec-p256', extendedKeyUsage: ['serverAuth'], notAfter: new Date(Date.now() + 86_400_000) });
  const pem = `-----BEGIN CERTIFICATE-----\n${tlsCert.certificate.der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  const rows: Row[] = [];
  const rawHeaders = [
    'Host', 'apim-micro.azure-api.net', 'User-Agent', 'wrk', 'Accept', '*/*', 'X-Forwarded-For', '127.0.0.1:40000', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Port', '53029',
    'X-Original-URL', '/client-cert/validate-from-agw', 'X-AppGW-Trace-Id', 'b326f98a77c24a5f0000000000000001', 'X-ARR-ClientCert', '-----BEGIN%20CERTIFICATE-----%0A' + 'A'.repeat(1600), 'Connection', 'keep-alive',
  ];
  const request = { method: 'GET', target: '/client-cert/validate-from-agw', rawHeaders, body: undefined, remoteAddress: '127.0.0.4', remotePort: 40000 };
  for (const [label, logger] of [
    ['no log', undefined],
    ['logging to a no-op writer', createLogger({ write: () => {} }).child({ resource: 'apim-micro' })],
  ] as const) {
    const apim = await startApiManagement(model, { tls: { cert: pem, key: tlsCert.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string }, portMap: new Map([[443, 0]]), ...(logger ? { logger } : {}) });
    try {
      const answer = await apim.inProcess.handle(request);
      if (answer.statusCode !== 200 || answer.body?.toString() !== 'ok') throw new Error(`micro: the API Management answer is ${answer.statusCode} ${answer.body?.toString()}`);
      rows.push(await measureAsync(`apim inProcess.handle (GET, return-response with 2 headers, ${label})`, () => apim.inProcess.handle(request), 20_000, 1000));
    } finally {
      await apim.close();
    }
  }
  const apimLog = createLogger({ write: () => {} }).child({ resource: 'apim-micro' });
  const apimRecord = { level: 'info' as const, msg: 'request', method: 'GET', path: '/client-cert/validate-from-agw', status: 200, api: 'client-cert', operation: 'validate', ms: 0.123 };
  rows.push(measure('logger.log(API Management request record) → JSON line, no write', () => apimLog.log(apimRecord)));
  return rows;
}

function print(rows: readonly Row[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`node ${process.version}; µs per call, median of 5 rounds\n`);
  for (const r of rows) process.stdout.write(`${r.name.padEnd(width)}  ${r.us.toFixed(2).padStart(9)} µs\n`);
}

async function main(): Promise<void> {
  // --apim: only API Management's per-request rows (and the logger rows they depend on).
  if (process.argv.includes('--apim')) {
    print(await apimRows());
    return;
  }
  const tree = await createCertificateTree(24);
  const get = (n: string) => tree.find((e) => e.name === n)!.issued;
  const root = get('root-ca');
  const dev = get('dev-intermediate-ca');
  const client = get('dev-client-01');
  const clientDer = client.certificate.der;
  const rows: Row[] = [];

  // pki: what the edge does once per TLS connection and the seed policy once per request
  rows.push(measure('pki certificateFromDer (client leaf)', () => certificateFromDer(clientDer), 5000));
  const leaf: Certificate = certificateFromDer(clientDer);
  const anchors = [certificateFromDer(root.certificate.der)];
  const intermediates = [certificateFromDer(dev.certificate.der)];
  const at = new Date();
  rows.push(measure('pki verifyChain (leaf → DEV → root, clientAuth)', () => verifyChain(leaf, { anchors, intermediates, at, requireClientAuth: true }), 3000));
  rows.push(
    measure('pki certificateFromDer + verifyChain, a fresh leaf each call (validate-from-agw per request)', () => verifyChain(certificateFromDer(clientDer), { anchors, intermediates, at, requireClientAuth: true }), 3000),
  );
  const certCache = new CertificateCache(1024);
  rows.push(measure('cache key: DER → latin1 string', () => clientDer.toString('latin1'), 20_000));
  rows.push(measure('cache key: DER → base64 string', () => clientDer.toString('base64'), 20_000));
  rows.push(
    measure('CertificateCache.fromDer + verifyChain, a fresh copy of the leaf bytes each call (validate-from-agw per request, cached)', () => verifyChain(certCache.fromDer(Buffer.from(clientDer)), { anchors, intermediates, at, requireClientAuth: true }), 3000),
  );
  rows.push(measure('pki certificateFromDer + Certificate.toEscapedPem()', () => certificateFromDer(clientDer).toEscapedPem(), 5000));
  rows.push(measure('sha256 of the client DER (a cache key)', () => createHash('sha256').update(clientDer).digest('base64'), 20_000));

  // logging: one access record through createLogger to a file with a synchronous write, as `gatehouse up` does to stderr
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-micro-'));
  const fd = openSync(join(dir, 'log'), 'a');
  const record = {
    level: 'info' as const, msg: 'access', category: 'ApplicationGatewayAccessLog', instanceId: 'appgw_1', clientIP: '127.0.0.1', clientPort: 40000,
    httpMethod: 'GET', originalRequestUriWithArgs: '/', requestUri: '/', userAgent: '', httpVersion: 'HTTP/1.1', originalHost: 'apim-sample.dev:53029',
    host: 'apim-sample.dev:53029', listenerName: 'mtls-listener', ruleName: 'mtls-rule', sslClientVerify: 'SUCCESS', backendPoolName: 'trivial',
    backendSettingName: 'trivial-http', httpStatus: 200, timeTaken: 0.002, receivedBytes: 1651, sentBytes: 1790, transactionId: 'b326f98a77c24a5f0000000000000001',
    sslEnabled: 'on', sslCipher: 'TLS_AES_256_GCM_SHA384', sslProtocol: 'TLSv1.3', sslClientCertificateFingerprint: '82602cd6ced1c42b81636c35aad21d3af12cff7c',
    sslClientCertificateIssuerName: 'CN=APIM Sample DEV Intermediate CA', serverRouted: '127.0.0.1:8080', serverStatus: '200', serverResponseLatency: 0.001, WAFEvaluationTime: '0', WAFMode: '-',
  };
  const toFile = createLogger({ write: (line) => writeSync(fd, line + '\n') }).child({ resource: 'agw' });
  const toNothing = createLogger({ write: () => {} }).child({ resource: 'agw' });
  rows.push(measure('logger.log(access record) → JSON line, no write', () => toNothing.log(record)));
  rows.push(measure('logger.log(access record) → writeSync to a file', () => toFile.log(record)));
  // The edge's own record (edge/accessLog.ts): the same fields, written by its own JSON writer.
  const access = new AccessRecord({ instanceId: 'appgw_1', clientIP: '127.0.0.1', clientPort: 40000, httpMethod: 'GET', requestUri: '/', userAgent: '', httpVersion: 'HTTP/1.1', host: 'apim-sample.dev:53029', transactionId: 'b326f98a77c24a5f0000000000000001' });
  Object.assign(access, { listenerName: 'mtls-listener', ruleName: 'mtls-rule', sslClientVerify: 'SUCCESS', backendPoolName: 'trivial', backendSettingName: 'trivial-http', httpStatus: 200, timeTaken: 0.002, receivedBytes: 1651, sentBytes: 1790 });
  Object.assign(access, { sslEnabled: 'on', sslCipher: 'TLS_AES_256_GCM_SHA384', sslProtocol: 'TLSv1.3', sslClientCertificateFingerprint: '82602cd6ced1c42b81636c35aad21d3af12cff7c', sslClientCertificateIssuerName: 'CN=APIM Sample DEV Intermediate CA', serverRouted: '127.0.0.1:8080', serverStatus: '200', serverResponseLatency: 0.001 });
  rows.push(measure('logger.log(AccessRecord) → JSON line by its own writer, no write (the edge since 2026-11-29)', () => toNothing.log(access)));
  const batched = batchedLines((chunk) => writeSync(fd, chunk));
  const toBatch = createLogger({ write: batched.write }).child({ resource: 'agw' });
  rows.push(measure('logger.log(access record) → batchedLines (one write per event-loop turn or 64 KB), as gatehouse up does', () => toBatch.log(record)));
  batched.flush();
  let batch = '';
  rows.push(
    measure('access record → JSON line appended to a batch (flushed per 64 KB)', () => {
      batch += JSON.stringify(record) + '\n';
      if (batch.length > 65536) {
        writeSync(fd, batch);
        batch = '';
      }
    }),
  );
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });

  // headers: what the edge builds per request
  const raw = ['Host', 'apim-sample.dev:53029', 'User-Agent', 'wrk', 'Accept', '*/*', 'X-Forwarded-For', '10.0.0.1'];
  rows.push(
    measure('HeaderMap from 4 raw headers + 6 set() + toRaw()', () => {
      const h = new HeaderMap();
      for (let i = 2; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
      h.set('X-Forwarded-For', '10.0.0.1, 127.0.0.1:40000');
      h.set('X-Forwarded-Proto', 'https');
      h.set('X-Forwarded-Port', '53029');
      h.set('X-Original-URL', '/');
      h.set('X-AppGW-Trace-Id', 'b326f98a77c24a5f0000000000000001');
      h.set('X-ARR-ClientCert', 'x');
      return h.toRaw();
    }),
  );

  // TLS: the peer-certificate calls on a real mTLS connection over loopback
  const server = await generateCertificate({ subject: 'CN=apim-sample.dev', dnsNames: ['apim-sample.dev'], keyAlgorithm: 'ec-p256', extendedKeyUsage: ['serverAuth'], notAfter: new Date(Date.now() + 86_400_000) });
  const pem = (c: { der: Buffer }) => `-----BEGIN CERTIFICATE-----\n${c.der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  const peerRows = await new Promise<Row[]>((resolve, reject) => {
    const s = createTlsServer({ cert: pem(server.certificate), key: server.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, requestCert: true, rejectUnauthorized: false }, (sock: TLSSocket) => {
      const out = [
        measure('TLSSocket.getPeerCertificate(true) (leaf + chain objects)', () => sock.getPeerCertificate(true), 3000),
        measure('TLSSocket.getPeerX509Certificate().raw', () => sock.getPeerX509Certificate()?.raw, 3000),
        measure('TLSSocket.getPeerX509Certificate() + the sent chain through issuerCertificate (what the edge does per connection)', () => {
          let c = sock.getPeerX509Certificate();
          for (let i = 0; c && i < 10; i++) {
            void c.raw;
            c = c.issuerCertificate;
          }
        }, 3000),
      ];
      sock.destroy();
      s.close();
      resolve(out);
    });
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      const c = tlsConnect({ port, host: '127.0.0.1', servername: 'apim-sample.dev', rejectUnauthorized: false, cert: pem(client.certificate) + pem(dev.certificate), key: client.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string });
      c.on('error', () => {});
      setTimeout(() => reject(new Error('TLS micro-benchmark timed out')), 20_000).unref();
    });
  });
  rows.push(...peerRows);
  rows.push(...(await apimRows()));

  print(rows);
}

await main();
