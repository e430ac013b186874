/**
 * The bench's own pieces: the profile summary and folded stacks on a hand-made profile, and the
 * edge resource the bench runs (scenarios a/b), adapted and served for real: a request with the DEV
 * client certificate reaches the upstream with X-ARR-ClientCert. Not in the default `npm test`
 * (bench/ is not walked); run with `npm test -- bench`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summariseProfile, foldedStacks } from './cpuprofile.js';
import { gatehouseEdgeResource, nginxEdgeConf, nginxTwoTierConf } from './configs.js';
import { createCertificateTree } from '../src/cli/commands/certs.js';
import { writePkcs12 } from '../src/pki/index.js';
import { DiagnosticBag } from '../src/core/diagnostics.js';
import { adaptApplicationGateway } from '../src/config/resources/applicationGateway.js';
import { startApplicationGateway } from '../src/edge/index.js';
import type { ArmResource } from '../src/model/resources.js';

const cf = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

test('summariseProfile: self, inclusive (once per stack) and idle time', () => {
  // (root) → a → b → a (recursion), (root) → (idle)
  const profile = {
    nodes: [
      { id: 1, callFrame: cf('(root)'), children: [2, 5] },
      { id: 2, callFrame: cf('a', 'node:x', 9), children: [3] },
      { id: 3, callFrame: cf('b', 'node:y', 1), children: [4] },
      { id: 4, callFrame: cf('a', 'node:x', 9) },
      { id: 5, callFrame: cf('(idle)') },
    ],
    // deltas are µs; sample i is charged timeDeltas[i + 1] (the last one its own delta): 1, 2, 3, 4, 4 ms
    samples: [2, 3, 4, 5, 4],
    timeDeltas: [0, 1000, 2000, 3000, 4000],
    startTime: 0,
    endTime: 10_000,
  };
  const s = summariseProfile(profile);
  assert.equal(s.totalMs, 14);
  assert.equal(s.busyMs, 14 - 4); // the (idle) sample took 4 ms
  const self = Object.fromEntries(s.self.map((r) => [r.name, r.ms]));
  assert.deepEqual(self, { 'a node:x:10': 1 + 3 + 4, 'b node:y:2': 2 });
  const incl = Object.fromEntries(s.inclusive.map((r) => [r.name, r.ms]));
  // a is on every busy stack, counted once (not again for the recursion); b under samples 2, 3 and 5
  assert.equal(incl['a node:x:10'], 10);
  assert.equal(incl['b node:y:2'], 2 + 3 + 4);
  assert.equal(s.inclusive[0]!.share, 1);
  const folded = foldedStacks(profile).trim().split('\n').sort();
  assert.deepEqual(folded, ['a_node:x:10 1', 'a_node:x:10;b_node:y:2 1', 'a_node:x:10;b_node:y:2;a_node:x:10 2']);
});

test('NGINX runs one worker process unless --workers asks for more, as Gatehouse does', () => {
  const tls = { cert: '/c.crt', key: '/c.key', devChain: '/dev-chain.cer' };
  assert.match(nginxEdgeConf({ prefix: '/p', asRoot: false, port: 1, upstreamPort: 2, tls }), /^worker_processes 1;$/m);
  assert.match(nginxEdgeConf({ prefix: '/p', asRoot: false, port: 1, upstreamPort: 2, tls, workers: 2 }), /^worker_processes 2;$/m);
  assert.match(nginxTwoTierConf({ prefix: '/p', asRoot: false, port: 1, innerPort: 3, tls, inner: { cert: '/i.crt', key: '/i.key', ca: '/ca.crt' }, workers: 2 }), /^worker_processes 2;$/m);
});

test('NGINX configurations ask for the client certificate and forward it as the seed does', () => {
  const tls = { cert: '/c.crt', key: '/c.key', devChain: '/dev-chain.cer' };
  for (const conf of [
    nginxEdgeConf({ prefix: '/p', asRoot: false, port: 1, upstreamPort: 2, tls }),
    nginxTwoTierConf({ prefix: '/p', asRoot: false, port: 1, innerPort: 3, tls, inner: { cert: '/i.crt', key: '/i.key', ca: '/ca.crt' } }),
  ]) {
    assert.match(conf, /ssl_verify_client on;/);
    assert.match(conf, /ssl_client_certificate \/dev-chain\.cer;/);
    assert.match(conf, /proxy_set_header X-ARR-ClientCert \$ssl_client_escaped_cert;/);
    assert.match(conf, /keepalive 32;/);
    assert.match(conf, /access_log \/p\/access\.log bench;/);
    assert.match(conf, /worker_processes 1;/);
    assert.doesNotMatch(conf, /user root/);
  }
});

test('the bench edge resource adapts without errors and forwards X-ARR-ClientCert to its upstream', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-test-'));
  const seen: IncomingHttpHeaders[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.headers);
    res.end('ok\n');
  });
  let edge: Awaited<ReturnType<typeof startApplicationGateway>> | undefined;
  try {
    const tree = await createCertificateTree(1);
    const get = (n: string) => tree.find((e) => e.name === n)!.issued;
    const server = get('ssl-cert.apim-sample.dev');
    const client = get('dev-client-01');
    const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
    writeFileSync(join(dir, 'server.pfx'), writePkcs12([server.certificate.der], server.privateKey, 'P@ssw0rd'));
    writeFileSync(join(dir, 'chain.cer'), pem(get('dev-intermediate-ca').certificate.der) + pem(get('root-ca').certificate.der));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamPort = (upstream.address() as { port: number }).port;
    const resource = gatehouseEdgeResource({ serverPfx: join(dir, 'server.pfx'), pfxPassword: 'P@ssw0rd', devChainPem: join(dir, 'chain.cer'), upstreamPort }) as ArmResource;
    const bag = new DiagnosticBag();
    const model = adaptApplicationGateway(resource, { resources: [resource], diagnostics: bag });
    assert.deepEqual(bag.items.filter((d) => d.severity === 'error').map((d) => d.message), []);
    assert.ok(model);
    edge = await startApplicationGateway(model, { bindAddress: '127.0.0.1', portMap: new Map([[53029, 0]]) });
    const port = edge.listeners[0]!.localPort;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/bench',
          servername: 'apim-sample.dev',
          headers: { host: `apim-sample.dev:${port}` },
          cert: pem(client.certificate.der),
          key: client.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
          rejectUnauthorized: false,
          agent: false,
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    const forwarded = seen.find((h) => h['x-arr-clientcert']);
    assert.ok(forwarded, 'the upstream got X-ARR-ClientCert');
    assert.match(String(forwarded['x-arr-clientcert']), /^-----BEGIN%20CERTIFICATE-----%0A/);
  } finally {
    await edge?.close();
    await new Promise<void>((r) => upstream.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
