/**
 * verifyClientRevocation OCSP against a local OCSP responder (pkijs builds the signed responses):
 * good → forwarded; revoked, unknown, no responder in the certificate, responder down → 400
 * "The SSL certificate error". Client certificates carry the responder URL in their AIA extension.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import { randomBytes, webcrypto } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as pkijs from 'pkijs';
import * as asn1js from 'asn1js';
import type { RunningEdge } from '../../src/edge/index.js';
import { memoryLogger } from '../../src/core/logger.js';
import { FRONT_HOST, generate, makeTestPki, request, seedGateway, startBackend, startSeed, type Backend, type GeneratedCert, type TestPki } from './edge-support.js';

const engine = new pkijs.CryptoEngine({ name: 'ocsp-test', crypto: webcrypto as never });
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

async function cryptoKeyOf(ca: GeneratedCert): Promise<webcrypto.CryptoKey> {
  const der = ca.generated.privateKey.export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']) as Promise<webcrypto.CryptoKey>;
}

/** A client certificate issued by `issuer`, with an AIA OCSP URL when given. */
async function clientWithAia(cn: string, issuer: GeneratedCert, ocspUrl: string | undefined): Promise<{ certPem: string; keyPem: string; serialHex: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = randomBytes(12);
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.issuer = pkijs.Certificate.fromBER(issuer.generated.certificate.der).subject;
  cert.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) }));
  cert.notBefore.value = new Date(Date.now() - 3600_000);
  cert.notAfter.value = new Date(Date.now() + 86400_000);
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  cert.extensions = [
    new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: '2.5.29.37', critical: false, extnValue: new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.2'] }).toSchema().toBER(false) }),
  ];
  if (ocspUrl) {
    const aia = new pkijs.InfoAccess({ accessDescriptions: [new pkijs.AccessDescription({ accessMethod: '1.3.6.1.5.5.7.48.1', accessLocation: new pkijs.GeneralName({ type: 6, value: ocspUrl }) })] });
    cert.extensions.push(new pkijs.Extension({ extnID: '1.3.6.1.5.5.7.1.1', critical: false, extnValue: aia.toSchema().toBER(false) }));
  }
  await cert.sign(await cryptoKeyOf(issuer), 'SHA-256', engine);
  const der = Buffer.from(cert.toSchema(true).toBER(false));
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const pem = (label: string, b: Buffer) => `-----BEGIN ${label}-----\n${b.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
  return { certPem: pem('CERTIFICATE', der), keyPem: pem('PRIVATE KEY', pkcs8), serialHex: serial.toString('hex') };
}

interface Responder {
  readonly url: string;
  readonly revoked: Set<string>;
  readonly unknown: Set<string>;
  hits: number;
  /** How long each answer waits. */
  delayMs: number;
  close(): Promise<void>;
}

/** An OCSP responder signing with the issuing CA's own key. */
async function startResponder(issuer: GeneratedCert): Promise<Responder> {
  const key = await cryptoKeyOf(issuer);
  const issuerP = pkijs.Certificate.fromBER(issuer.generated.certificate.der);
  const state = { revoked: new Set<string>(), unknown: new Set<string>(), hits: 0, delayMs: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.hits++;
      void (async () => {
        if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
        const ocspReq = pkijs.OCSPRequest.fromBER(Buffer.concat(chunks));
        const certID = ocspReq.tbsRequest.requestList[0]!.reqCert;
        const serial = Buffer.from(certID.serialNumber.valueBlock.valueHexView).toString('hex');
        const basic = new pkijs.BasicOCSPResponse();
        basic.tbsResponseData.responderID = issuerP.subject;
        basic.tbsResponseData.producedAt = new Date();
        const single = new pkijs.SingleResponse();
        single.certID = certID;
        single.certStatus = state.revoked.has(serial)
          ? new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.GeneralizedTime({ valueDate: new Date(Date.now() - 60_000) })] })
          : state.unknown.has(serial)
            ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } })
            : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
        single.thisUpdate = new Date(Date.now() - 60_000);
        single.nextUpdate = new Date(Date.now() + 3600_000);
        basic.tbsResponseData.responses.push(single);
        await basic.sign(key, 'SHA-256', engine);
        const out = new pkijs.OCSPResponse();
        out.responseStatus.valueBlock.valueDec = 0;
        out.responseBytes = new pkijs.ResponseBytes({ responseType: '1.3.6.1.5.5.7.48.1.1', response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }) });
        const body = Buffer.from(out.toSchema().toBER(false));
        res.writeHead(200, { 'Content-Type': 'application/ocsp-response', 'Content-Length': body.length });
        res.end(body);
      })().catch(() => {
        res.writeHead(500);
        res.end();
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ocsp`,
    ...state,
    get hits() {
      return state.hits;
    },
    set hits(v: number) {
      state.hits = v;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    revoked: state.revoked,
    unknown: state.unknown,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('verifyClientRevocation OCSP', () => {
  let pki: TestPki;
  let backend: Backend;
  let edge: RunningEdge;
  let responder: Responder;
  let root: GeneratedCert;
  let intermediate: GeneratedCert;
  let port: number;
  const logger = memoryLogger();

  before(async () => {
    pki = await makeTestPki();
    root = await generate('CN=OCSP Root', { ca: true });
    intermediate = await generate('CN=OCSP Intermediate', { ca: true, issuer: root });
    responder = await startResponder(intermediate);
    const resource = seedGateway(pki, { trustedChain: intermediate.certPem + root.certPem });
    const profile = (resource.properties as Record<string, Record<string, Record<string, Record<string, unknown>>>[]>).sslProfiles![0]!;
    profile.properties!.clientAuthConfiguration!.verifyClientRevocation = 'OCSP';
    backend = await startBackend(pki);
    edge = await startSeed(pki, backend, resource, logger);
    port = edge.listeners.find((l) => l.name === 'mtls-listener')!.localPort;
  });
  after(async () => {
    await edge?.close();
    await backend?.close();
    await responder?.close();
  });

  const call = (c: { certPem: string; keyPem: string }) => request({ port, ca: pki.frontendCa.certPem, key: c.keyPem, cert: c.certPem + intermediate.certPem });

  test('good: forwarded; the answer is cached (one responder hit for several connections)', async () => {
    const c = await clientWithAia('Good Client', intermediate, responder.url);
    const before = responder.hits;
    for (let i = 0; i < 3; i++) assert.equal((await call(c)).status, 200, String(logger.records.filter((x) => x.msg === 'access').at(-1)?.sslClientVerify));
    assert.equal(responder.hits, before + 1);
    assert.equal(backend.header('X-ARR-ClientCert').length, 1);
  });

  test('revoked: 400 The SSL certificate error, reason client_cert_revoked', async () => {
    const c = await clientWithAia('Revoked Client', intermediate, responder.url);
    responder.revoked.add(c.serialHex);
    const before = backend.requests.length;
    const r = await call(c);
    assert.equal(r.status, 400);
    assert.match(r.body, /The SSL certificate error/);
    assert.equal(backend.requests.length, before);
    const rec = logger.records.filter((x) => x.msg === 'access').at(-1)!;
    assert.equal(rec.reason, 'client_cert_revoked');
    assert.equal(rec.sslClientVerify, 'FAILED:certificate revoked');
  });

  test('unknown to the responder: 400', async () => {
    const c = await clientWithAia('Unknown Client', intermediate, responder.url);
    responder.unknown.add(c.serialHex);
    assert.equal((await call(c)).status, 400);
  });

  test('no OCSP responder in the certificate: 400', async () => {
    const c = await clientWithAia('No AIA Client', intermediate, undefined);
    const r = await call(c);
    assert.equal(r.status, 400);
    assert.match(String(logger.records.filter((x) => x.msg === 'access').at(-1)!.sslClientVerify), /OCSP responder URL not found/);
  });

  test('a response signed by someone other than the issuing CA: 400', async () => {
    const impostor = await startResponder(await generate('CN=OCSP Impostor', { ca: true }));
    try {
      const c = await clientWithAia('Impostor Client', intermediate, impostor.url);
      assert.equal((await call(c)).status, 400);
      assert.equal(impostor.hits, 1);
      assert.match(String(logger.records.filter((x) => x.msg === 'access').at(-1)!.sslClientVerify), /signature is not valid/);
    } finally {
      await impostor.close();
    }
  });

  test('a client that leaves while its certificate is being checked: its request is not forwarded afterwards', async () => {
    const c = await clientWithAia('Impatient Client', intermediate, responder.url);
    const before = backend.requests.length;
    responder.delayMs = 400;
    try {
      await new Promise<void>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: FRONT_HOST, ca: pki.frontendCa.certPem, key: c.keyPem, cert: c.certPem + intermediate.certPem }, () => {
          s.write(`GET /leaving HTTP/1.1\r\nHost: ${FRONT_HOST}\r\n\r\n`);
          setTimeout(() => s.destroy(), 100);
        });
        s.on('error', () => undefined);
        s.on('close', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(responder.hits > 0, true);
      assert.equal(backend.requests.length, before);
    } finally {
      responder.delayMs = 0;
    }
  });

  test('responder unreachable: 400', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/`;
    await new Promise<void>((r) => dead.close(() => r()));
    const c = await clientWithAia('Lonely Client', intermediate, url);
    assert.equal((await call(c)).status, 400);
  });
});
