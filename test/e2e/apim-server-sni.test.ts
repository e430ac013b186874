/**
 * Custom Proxy host names' certificates across reloads: a reload that removes a host name stops
 * serving its certificate (the name gets the default certificate, as any unknown name does), and
 * one that adds or changes a host name serves the new certificate. Read with a real TLS client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { startApiManagement } from '../../src/apim/index.js';
import { makeServerTls, modelOf, seedService, type ServerTls } from './apim-support.js';

const HOST = 'apim-sample.azure-api.net';
const CUSTOM = 'api.contoso.example';

/** The SHA-256 fingerprint of the leaf certificate the server sends for this server name. */
function servedFingerprint(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.destroy();
      resolve(fp);
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`TLS handshake with ${servername} timed out`)));
    socket.on('error', reject);
  });
}

const fingerprintOf = (t: ServerTls) => new X509Certificate(t.cert).fingerprint256;

function pfxOf(t: ServerTls): string {
  execFileSync('openssl', ['pkcs12', '-export', '-in', `${t.dir}/cert.pem`, '-inkey', `${t.dir}/key.pem`, '-out', `${t.dir}/c.pfx`, '-passout', 'pass:pw'], { stdio: 'ignore' });
  return readFileSync(`${t.dir}/c.pfx`).toString('base64');
}

const model = (custom: { hostName: string; pfx: string }[]) =>
  modelOf(
    seedService('apim-sample', {
      hostnameConfigurations: [
        { type: 'Proxy', hostName: HOST, certificateSource: 'BuiltIn', defaultSslBinding: true },
        ...custom.map((c) => ({ type: 'Proxy', hostName: c.hostName, encodedCertificate: c.pfx, certificatePassword: 'pw' })),
      ],
    }),
  );

test('a reload that removes a custom host name stops serving its certificate; one that adds it back or changes it serves the new one', async () => {
  const gatewayTls = makeServerTls([HOST]);
  const first = makeServerTls([CUSTOM]);
  const second = makeServerTls([CUSTOM]);
  const wild = makeServerTls(['*.wild.example']);
  const apim = await startApiManagement(model([{ hostName: CUSTOM, pfx: pfxOf(first) }, { hostName: '*.wild.example', pfx: pfxOf(wild) }]), { tls: gatewayTls, portMap: new Map([[443, 0]]) });
  const served = (name: string) => servedFingerprint(apim.localPort, name);
  try {
    assert.equal(await served(CUSTOM), fingerprintOf(first));
    assert.equal(await served('API.Contoso.Example'), fingerprintOf(first), 'server names match without regard to case');
    assert.equal(await served('a.wild.example'), fingerprintOf(wild));
    assert.equal(await served('a.b.wild.example'), fingerprintOf(gatewayTls), 'a wildcard stands for one label');
    assert.equal(await served(HOST), fingerprintOf(gatewayTls));
    assert.equal(await served('unknown.example'), fingerprintOf(gatewayTls));

    await apim.reload(model([]));
    assert.deepEqual(apim.hostNames, [HOST]);
    assert.equal(await served(CUSTOM), fingerprintOf(gatewayTls), 'the removed host name gets the default certificate');
    assert.equal(await served('a.wild.example'), fingerprintOf(gatewayTls), 'the removed wildcard host name too');
    assert.equal(await served(HOST), fingerprintOf(gatewayTls));

    await apim.reload(model([{ hostName: CUSTOM, pfx: pfxOf(second) }]));
    assert.equal(await served(CUSTOM), fingerprintOf(second), 'added back with another certificate');
    assert.equal(await served('a.wild.example'), fingerprintOf(gatewayTls));
  } finally {
    await apim.close();
    for (const t of [gatewayTls, first, second, wild]) t.cleanup();
  }
});
