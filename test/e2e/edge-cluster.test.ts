/**
 * Worker processes (node:cluster): the seed gateway as two instances sharing its ports, each
 * probing on its own, access-log records reaching the primary's logger.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticBag } from '../../src/core/diagnostics.js';
import { memoryLogger } from '../../src/core/logger.js';
import { parseCertificates } from '../../src/pki/index.js';
import { adaptApplicationGateway } from '../../src/config/resources/applicationGateway.js';
import { startApplicationGatewayCluster, workerCount } from '../../src/edge/cluster.js';
import type { RunningEdge } from '../../src/edge/index.js';
import { fixture, fixtures, makeTestPki, request, seedGateway, startBackend, type Backend, type TestPki } from './edge-support.js';

describe('the seed gateway in two worker processes', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge & { workers: number };
  const logger = memoryLogger();

  before(async () => {
    pki = await makeTestPki();
    backend = await startBackend(pki);
    const resource = seedGateway(pki);
    const model = adaptApplicationGateway(resource, { resources: [resource], diagnostics: new DiagnosticBag() })!;
    edge = await startApplicationGatewayCluster(model, {
      workers: 4,
      portMap: new Map([[443, 0], [53029, 0]]),
      addressBookEntries: [['10.0.1.4:443', { host: '127.0.0.1', port: backend.port }]],
      extraTrustedRoots: parseCertificates(pki.platformCa.certPem, { origin: 'platform' }),
      logger,
    });
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
  });

  test('worker count is bounded by autoscaleConfiguration.maxCapacity (2 in the seed)', () => {
    assert.equal(edge.workers, 2);
    assert.equal(workerCount({ autoscaleConfiguration: { minCapacity: 0 } } as never, 3), 3);
  });

  test('both listeners answer; requests are spread over the workers; records reach the primary', async () => {
    const https = edge.listeners.find((l) => l.name === 'https-listener')!.localPort;
    const mtls = edge.listeners.find((l) => l.name === 'mtls-listener')!.localPort;
    for (let i = 0; i < 8; i++) assert.equal((await request({ port: https, ca: pki.frontendCa.certPem })).status, 200);
    const r = await request({ port: mtls, ca: pki.frontendCa.certPem, pfx: fixture('dev-client-01.pfx') });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.header('X-ARR-ClientCert'), [readFileSync(join(fixtures, 'dev-client-01.nginx-escaped-cert.txt'), 'utf8')]);
    const deadline = Date.now() + 3000;
    while (logger.records.filter((x) => x.msg === 'access').length < 9 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    const workers = new Set(logger.records.filter((x) => x.msg === 'access').map((x) => x.worker));
    assert.equal(logger.records.filter((x) => x.msg === 'access').length, 9);
    assert.equal(workers.size, 2);
  });
});
