/**
 * `gatehouse certs create`: writes the seed author's certificate tree (root CA, DEV and TST
 * intermediates, two clients under each, an expired client, the gateway's server certificate) in
 * every form the series uses: .cer (PEM), .without-markers.cer (what API Management takes) and
 * .pfx (with key and chain).
 */
import { open, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { GatehouseError } from '../../core/errors.js';
import { generateCertificate, writePkcs12, type CertificateSpec, type GeneratedCertificate } from '../../pki/index.js';

const DEFAULT_PASSWORD = 'P@ssw0rd';
const DEFAULT_MONTHS = 24;

const help = `Usage: gatehouse certs create [--out DIR] [--password P] [--valid-months N] [--force]

Writes the certificate tree of the seed's blog series (ronaldbosma/blog-code-examples,
apim-client-certificate-series), freshly generated (RSA 2048, SHA-256):

  root-ca                      APIM Sample Root CA (self-signed CA)
  dev-intermediate-ca          APIM Sample DEV Intermediate CA (CA, pathlen 1, keyCertSign)
  tst-intermediate-ca          APIM Sample TST Intermediate CA (CA, pathlen 1, keyCertSign)
  dev-client-01, dev-client-02 Client 01 / Client 02 under DEV (EKU clientAuth, SAN DNS "Client 01" ...)
  tst-client-01, tst-client-02 Client 01 / Client 02 under TST
  dev-expired-client           Expired Client under DEV (expired yesterday)
  ssl-cert.apim-sample.dev     the gateway's server certificate for apim-sample.dev (self-signed)

each as NAME.cer (PEM), NAME.without-markers.cer (base64, as API Management takes it) and NAME.pfx
(key and chain, PBES2/AES-256-CBC with a SHA-256 MAC as OpenSSL 3 writes it), plus
dev-intermediate-ca-with-root-ca.cer and tst-intermediate-ca-with-root-ca.cer (PEM chains).

Options:
  --out DIR           where to write (default: ./certificates)
  --password P        the .pfx password (default: ${DEFAULT_PASSWORD}, as in the seed; a warning is printed)
  --valid-months N    validity of the certificates in months (default: ${DEFAULT_MONTHS})
  --force             overwrite existing files (without it, nothing is written when any file exists)
  -h, --help          show this help

Check the result:
  openssl verify -CAfile certificates/root-ca.cer -untrusted certificates/dev-intermediate-ca.cer certificates/dev-client-01.cer
  openssl pkcs12 -in certificates/dev-client-01.pfx -info -noout -passin pass:${DEFAULT_PASSWORD}
`;

interface Entry {
  readonly name: string;
  readonly issued: GeneratedCertificate;
}

function withoutMarkers(pem: string): string {
  return pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('\n') + '\n';
}

function addMonths(d: Date, months: number): Date {
  const r = new Date(d.getTime());
  r.setUTCMonth(r.getUTCMonth() + months);
  return r;
}

export async function createCertificateTree(validMonths: number, now = new Date()): Promise<Entry[]> {
  const notBefore = new Date(now.getTime() - 10 * 60_000);
  const notAfter = addMonths(now, validMonths);
  const base = { notBefore, notAfter, keyAlgorithm: 'rsa-2048' } as const;
  const root = await generateCertificate({ ...base, subject: 'CN=APIM Sample Root CA', ca: {}, keyUsage: ['keyCertSign'] });
  const issuer = (g: GeneratedCertificate) => ({ certificate: g.certificate, privateKey: g.privateKey, chain: g.chain });
  const intermediate = (env: string) =>
    generateCertificate({ ...base, subject: `CN=APIM Sample ${env} Intermediate CA`, issuer: issuer(root), ca: { pathLen: 1 }, keyUsage: ['keyCertSign'] });
  const [dev, tst] = await Promise.all([intermediate('DEV'), intermediate('TST')]);
  const client = (parent: GeneratedCertificate, cn: string, extra: Partial<CertificateSpec> = {}) =>
    generateCertificate({ ...base, subject: `CN=${cn}`, issuer: issuer(parent), extendedKeyUsage: ['clientAuth'], dnsNames: [cn], ...extra });
  const day = 86_400_000;
  const [dev01, dev02, tst01, tst02, expired, server] = await Promise.all([
    client(dev, 'Client 01'),
    client(dev, 'Client 02'),
    client(tst, 'Client 01'),
    client(tst, 'Client 02'),
    client(dev, 'Expired Client', { notBefore: new Date(now.getTime() - 31 * day), notAfter: new Date(now.getTime() - day) }),
    generateCertificate({ ...base, subject: 'CN=apim-sample.dev', dnsNames: ['apim-sample.dev'], extendedKeyUsage: ['clientAuth', 'serverAuth'] }),
  ]);
  return [
    { name: 'root-ca', issued: root },
    { name: 'dev-intermediate-ca', issued: dev },
    { name: 'tst-intermediate-ca', issued: tst },
    { name: 'dev-client-01', issued: dev01! },
    { name: 'dev-client-02', issued: dev02! },
    { name: 'tst-client-01', issued: tst01! },
    { name: 'tst-client-02', issued: tst02! },
    { name: 'dev-expired-client', issued: expired! },
    { name: 'ssl-cert.apim-sample.dev', issued: server! },
  ];
}

export const certsCreateCommand: Command = {
  name: ['certs', 'create'],
  summary: "Write the seed's certificate tree (root, DEV/TST intermediates, clients, server) as .cer/.pfx",
  help,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      'certs create',
      args,
      {
        out: { type: 'string' },
        password: { type: 'string' },
        'valid-months': { type: 'string' },
        force: { type: 'boolean' },
      },
      false,
    );
    void positionals;
    const months = values['valid-months'] === undefined ? DEFAULT_MONTHS : Number(values['valid-months']);
    if (!Number.isInteger(months) || months < 1 || months > 1200) {
      throw new GatehouseError('GH_USAGE', `certs create: --valid-months takes a whole number of months from 1 to 1200, got '${values['valid-months']}'`);
    }
    const out = resolve(io.cwd, values.out ?? 'certificates');
    const password = values.password ?? DEFAULT_PASSWORD;
    const force = values.force === true;
    const names = ['root-ca', 'dev-intermediate-ca', 'tst-intermediate-ca', 'dev-client-01', 'dev-client-02', 'tst-client-01', 'tst-client-02', 'dev-expired-client', 'ssl-cert.apim-sample.dev'];
    const files = [
      ...names.flatMap((n) => [`${n}.cer`, `${n}.without-markers.cer`, `${n}.pfx`]),
      'dev-intermediate-ca-with-root-ca.cer',
      'tst-intermediate-ca-with-root-ca.cer',
    ];
    const shown = relative(io.cwd, out) || '.';
    if (!force) {
      const existing = files.filter((f) => existsSync(join(out, f)));
      if (existing.length) {
        throw new GatehouseError(
          'GH_PKI_FILE_EXISTS',
          `certs create: ${existing.length} file(s) exist already in ${shown} (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', …' : ''}); nothing was written. Pass --force to overwrite.`,
        );
      }
    }
    if (values.password === undefined) {
      io.stderr.write(`warning: the .pfx files use the seed's well-known password '${DEFAULT_PASSWORD}'; pass --password for anything but local testing\n`);
    }
    const entries = await createCertificateTree(months);
    const content = new Map<string, string | Buffer>();
    const byName = new Map(entries.map((e) => [e.name, e.issued]));
    for (const { name, issued } of entries) {
      const pem = issued.certificate.toPem();
      content.set(`${name}.cer`, pem);
      content.set(`${name}.without-markers.cer`, withoutMarkers(pem));
      content.set(`${name}.pfx`, writePkcs12([issued.certificate.der, ...issued.chain.map((c) => c.der)], issued.privateKey, password, issued.certificate.subject.replace(/^CN=/, '')));
    }
    const rootPem = byName.get('root-ca')!.certificate.toPem();
    content.set('dev-intermediate-ca-with-root-ca.cer', byName.get('dev-intermediate-ca')!.certificate.toPem() + rootPem);
    content.set('tst-intermediate-ca-with-root-ca.cer', byName.get('tst-intermediate-ca')!.certificate.toPem() + rootPem);
    await mkdir(out, { recursive: true });
    for (const f of files) {
      const data = content.get(f)!;
      let handle;
      try {
        handle = await open(join(out, f), force ? 'w' : 'wx', f.endsWith('.pfx') ? 0o600 : 0o644);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new GatehouseError('GH_PKI_FILE_EXISTS', `certs create: ${join(shown, f)} appeared while writing; it was left as it is. Pass --force to overwrite.`);
        }
        throw new GatehouseError('GH_FILE_UNREADABLE', `certs create: cannot write ${join(shown, f)}: ${(e as Error).message}`, { cause: e });
      }
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
    }
    io.stdout.write(`Wrote ${files.length} files to ${shown}/ (valid ${months} months; dev-expired-client expired yesterday):\n`);
    for (const { name, issued } of entries) {
      io.stdout.write(`  ${name.padEnd(26)} ${issued.certificate.subject.padEnd(36)} ${issued.certificate.thumbprint}\n`);
    }
    io.stdout.write(`Verify: openssl verify -CAfile ${join(shown, 'root-ca.cer')} -untrusted ${join(shown, 'dev-intermediate-ca.cer')} ${join(shown, 'dev-client-01.cer')}\n`);
    return 0;
  },
};
