/**
 * Issue 3 item 7 at the runtime's door: problems only the edge can see (PFX password, trusted
 * client CA rules, unknown server variables, OCSP not run, a port in use) are all reported before
 * anything listens, and a failed start leaves nothing bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { DiagnosticBag, DiagnosticsError } from '../../src/core/diagnostics.js';
import { isGatehouseError } from '../../src/core/errors.js';
import { adaptApplicationGateway } from '../../src/config/resources/applicationGateway.js';
import { startApplicationGateway } from '../../src/edge/index.js';
import { FRONT_HOST, makeTestPki, seedGateway, startBackend, startSeed } from './edge-support.js';

test('wrong PFX password, a trusted chain without a root, an unknown server variable: all reported, nothing listens', async () => {
  const pki = await makeTestPki();
  const resource = seedGateway(pki, { trustedChain: pki.otherClient.certPem });
  const p = resource.properties as Record<string, Record<string, Record<string, unknown>>[]>;
  p.sslCertificates![0]!.properties!.password = 'wrong';
  const rr = ((p.rewriteRuleSets![0]!.properties!.rewriteRules as Record<string, Record<string, Record<string, string>[]>>[])[0]!.actionSet!.requestHeaderConfigurations!)[0]!;
  rr.headerValue = '{var_client_certificat}';
  const diagnostics = new DiagnosticBag();
  const model = adaptApplicationGateway(resource, { resources: [resource], diagnostics, origin: { file: 'main.json' } });
  assert.deepEqual(diagnostics.errors, []);
  const err = await startApplicationGateway(model!, { portMap: new Map([[443, 0], [53029, 0]]) }).then(
    () => assert.fail('started'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DiagnosticsError);
  const got = err.diagnostics.map((d) => [d.code, d.path]);
  assert.deepEqual(got.sort(), [
    ['GH_AGW_INVALID_VALUE', 'properties.rewriteRuleSets[0]'],
    ['GH_EDGE_SSL_CERTIFICATE', 'properties.sslCertificates[0].properties.data'],
    ['GH_EDGE_TRUSTED_CLIENT_CERTIFICATE', 'properties.trustedClientCertificates[0].properties.data'],
  ].sort());
  assert.match(err.message, /PFX password is wrong/);
  assert.match(err.message, /ApplicationGatewayTrustedClientCertificateDoesNotContainAnyCACertificate/);
  assert.match(err.message, /unknown server variable 'var_client_certificat'/);
  assert.equal(err.diagnostics[0]!.file, 'main.json');
});

test('a frontend port in use: GH_PORT_IN_USE, and the other port is released again', async () => {
  const pki = await makeTestPki();
  const backend = await startBackend(pki);
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const busy = (blocker.address() as net.AddressInfo).port;
  const free = net.createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
  const freePort = (free.address() as net.AddressInfo).port;
  await new Promise<void>((r) => free.close(() => r()));
  try {
    const err = await startSeed(pki, backend, seedGateway(pki), undefined, { portMap: new Map([[443, freePort], [53029, busy]]) }).then(
      () => assert.fail('started'),
      (e: unknown) => e,
    );
    assert.ok(isGatehouseError(err, 'GH_PORT_IN_USE'));
    assert.match((err as Error).message, /--port-map 53029=PORT/);
    // The port that did bind was closed again.
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(freePort, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => again.close(() => r()));
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
    await backend.close();
  }
});

test('close() drains: an in-flight request completes, then the port is free', async () => {
  const pki = await makeTestPki();
  const backend = await startBackend(pki, { delayMs: 300 });
  const edge = await startSeed(pki, backend, seedGateway(pki));
  const port = edge.listeners[0]!.localPort;
  const { request } = await import('./edge-support.js');
  const inflight = request({ port, ca: pki.frontendCa.certPem, path: '/slow' });
  await new Promise((r) => setTimeout(r, 100));
  const closed = edge.close();
  const r = await inflight;
  assert.equal(r.status, 200);
  await closed;
  await assert.rejects(request({ port, ca: pki.frontendCa.certPem }));
  await backend.close();
});

test('validateApplicationGateway: the same diagnostics as a failed start, nothing left running', async () => {
  const { validateApplicationGateway } = await import('../../src/edge/index.js');
  const pki = await makeTestPki();
  const good = seedGateway(pki);
  const bad = seedGateway(pki);
  ((bad.properties as Record<string, { properties: Record<string, unknown> }[]>).sslCertificates![0]!.properties).password = 'wrong';
  const adapt = (r: typeof good) => adaptApplicationGateway(r, { resources: [r], diagnostics: new DiagnosticBag() })!;
  assert.deepEqual(validateApplicationGateway(adapt(good)), []);
  assert.deepEqual(validateApplicationGateway(adapt(bad)).map((d) => d.code), ['GH_EDGE_SSL_CERTIFICATE']);
  // A model whose listener names an sslProfile that is not there: refused, never run without mTLS.
  const noProfile = { ...adapt(good), sslProfiles: [] };
  assert.deepEqual(validateApplicationGateway(noProfile).map((d) => d.code), ['GH_AGW_DANGLING_ID']);
  // … and one whose rule names a rewrite set that is not there (the set that removes a forged X-ARR-ClientCert).
  const noRewrite = { ...adapt(good), rewriteRuleSets: [] };
  assert.ok(adapt(good).requestRoutingRules.some((r) => r.rewriteRuleSet));
  assert.deepEqual([...new Set(validateApplicationGateway(noRewrite).map((d) => d.code))], ['GH_AGW_DANGLING_ID']);
});

test('close(): an idle keep-alive connection and one without a ClientHello yet are closed at once, not after drainTimeoutMs', async () => {
  const pki = await makeTestPki();
  const backend = await startBackend(pki);
  const edge = await startSeed(pki, backend, seedGateway(pki), undefined, { portMap: new Map([[443, 0], [53029, 0]]), drainTimeoutMs: 3000 });
  const port = edge.listeners.find((l) => l.name === 'https-listener')!.localPort;
  const agent = new https.Agent({ keepAlive: true });
  try {
    await new Promise<void>((resolve, reject) =>
      https.get({ host: '127.0.0.1', port, servername: FRONT_HOST, ca: pki.frontendCa.certPem, agent, headers: { Host: FRONT_HOST } }, (r) => r.resume().on('end', () => resolve())).on('error', reject),
    );
    // … and so is a connection that has not sent its ClientHello yet.
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const t = Date.now();
    await edge.close();
    silent.destroy();
    assert.ok(Date.now() - t < 1000, `close took ${Date.now() - t} ms`);
  } finally {
    agent.destroy();
    await backend.close();
  }
});
