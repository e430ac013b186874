/**
 * Custom Proxy host names' certificates across reloads: a reload that removes a host name stops
 * serving its certificate (the name gets the default certificate, as any unknown name does), and
 * one that adds or changes a host name serves the new certificate; with host names that differ in
 * negotiateClientCertificate, a removed name is no longer asked for a client certificate. Read with
 * real TLS clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { startApiManagement } from '../../src/apim/index.js';
import { httpsRequest } from '../helpers/https.js';
import { fixture, makeServerTls, modelOf, res, seedService, type ServerTls } from './apim-support.js';

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

test('host names that differ in negotiateClientCertificate: a reload that removes the one that asks stops asking for it', async () => {
  const MTLS = 'mtls.contoso.example';
  const gatewayTls = makeServerTls([HOST, MTLS, CUSTOM]);
  const policy = `<policies><inbound><base /><return-response><set-body>@(context.Request.Certificate == null ? "none" : "cert")</set-body></return-response></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
  const withNames = (mtls: boolean) =>
    modelOf([
      ...seedService('apim-sample', {
        hostnameConfigurations: [
          { type: 'Proxy', hostName: HOST, certificateSource: 'BuiltIn', negotiateClientCertificate: false, defaultSslBinding: true },
          { type: 'Proxy', hostName: CUSTOM, certificateSource: 'BuiltIn', negotiateClientCertificate: false },
          ...(mtls ? [{ type: 'Proxy', hostName: MTLS, certificateSource: 'BuiltIn', negotiateClientCertificate: true }] : []),
        ],
      }),
      res('apis/operations', 'apim-sample/client-cert-api/who', { method: 'GET', urlTemplate: '/who' }),
      res('apis/operations/policies', 'apim-sample/client-cert-api/who/policy', { format: 'rawxml', value: policy }),
    ]);
  const apim = await startApiManagement(withNames(true), { tls: gatewayTls, portMap: new Map([[443, 0]]) });
  const who = async (host: string) => {
    const r = await httpsRequest({ port: apim.localPort, path: '/client-cert/who', host, ca: gatewayTls.cert, pfx: fixture('dev-client-01.pfx') });
    assert.equal(r.status, 200, r.body);
    return r.body;
  };
  try {
    assert.equal(await who(MTLS), 'cert');
    assert.equal(await who(HOST), 'none');
    await apim.reload(withNames(false));
    assert.equal(await who(MTLS), 'none', 'a removed host name is asked as any unknown name: not at all');
    assert.equal(await who(HOST), 'none');
    await apim.reload(withNames(true));
    assert.equal(await who(MTLS), 'cert');
  } finally {
    await apim.close();
    gatewayTls.cleanup();
  }
});
