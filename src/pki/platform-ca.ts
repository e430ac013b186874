/**
 * Gatehouse's local platform CA: the stand-in for the public CAs that sign *.azure-api.net.
 * Made once under <stateDir>/platform-ca (ECDSA P-256: fast to make and to use) and reused, so a
 * user can trust root.cer once. Creation is atomic (a temporary directory renamed into place), so
 * two processes starting together agree on one CA.
 */
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { GatehouseError } from '../core/errors.js';
import { certificateFromDer, type ParsedCertificate } from './certificate.js';
import { generateCertificate } from './generate.js';
import type { IssuedCertificate, PlatformCa } from './index.js';
import { parseCertificates } from './load.js';

const ROOT_NAME = 'CN=Gatehouse Local Platform CA, O=Gatehouse';
const DAY = 86_400_000;

async function load(dir: string): Promise<{ root: ParsedCertificate; key: KeyObject } | undefined> {
  let pem: string;
  let keyPem: string;
  try {
    pem = await readFile(join(dir, 'root.cer'), 'utf8');
    keyPem = await readFile(join(dir, 'root.key'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const root = certificateFromDer(parseCertificates(pem, { origin: join(dir, 'root.cer') })[0]!.der);
  const key = createPrivateKey(keyPem);
  return { root, key };
}

async function create(stateDir: string, dir: string): Promise<void> {
  const tmp = join(stateDir, `.platform-ca-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true });
  try {
    const now = Date.now();
    const ca = await generateCertificate({
      subject: ROOT_NAME,
      keyAlgorithm: 'ec-p256',
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 3650 * DAY),
      ca: { pathLen: 0 },
    });
    await writeFile(join(tmp, 'root.key'), ca.privateKeyPem, { mode: 0o600 });
    await writeFile(join(tmp, 'root.cer'), ca.certificate.toPem());
    try {
      await rename(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e; // another process won the race: use its CA
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function openPlatformCa(stateDir: string): Promise<PlatformCa> {
  const dir = join(stateDir, 'platform-ca');
  try {
    await mkdir(stateDir, { recursive: true });
    let loaded = await load(dir);
    if (!loaded) {
      await create(stateDir, dir);
      loaded = await load(dir);
    }
    if (!loaded) throw new Error('the CA files vanished after creation');
    const { root, key } = loaded;
    return {
      root,
      async issueServerCertificate(hostNames: readonly string[]): Promise<IssuedCertificate> {
        if (hostNames.length === 0) throw new GatehouseError('GH_USAGE', 'issueServerCertificate needs at least one host name');
        const now = Date.now();
        const issued = await generateCertificate({
          subject: [['CN', hostNames[0]!]],
          issuer: { certificate: root, privateKey: key },
          keyAlgorithm: 'ec-p256',
          notBefore: new Date(now - 3_600_000),
          notAfter: new Date(Math.min(now + 90 * DAY, root.notAfter.getTime())),
          extendedKeyUsage: ['serverAuth'],
          dnsNames: hostNames.filter((h) => isIP(h) === 0),
          ipAddresses: hostNames.filter((h) => isIP(h) !== 0),
        });
        return { certificate: issued.certificate, privateKeyPem: issued.privateKeyPem, chain: [root] };
      },
    };
  } catch (e) {
    if (e instanceof GatehouseError) throw e;
    throw new GatehouseError('GH_PKI_PLATFORM_CA', `platform CA under ${dir}: ${(e as Error).message}`, { cause: e });
  }
}
