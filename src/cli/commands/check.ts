/**
 * `gatehouse check`: find the seed's security hole and its relatives before deploying.
 */
import { relative } from 'node:path';
import type { Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { loadDeployment } from '../deployment.js';
import { deploymentOptionsFrom } from './up.js';
import { checkDeployment } from '../../check/index.js';
import { formatDiagnostics } from '../../core/diagnostics.js';
import { GatehouseError } from '../../core/errors.js';

const help = `Usage: gatehouse check <main.bicep | folder | file.json> [options]

Finds what lets a caller pretend to hold a client certificate, before you deploy:
  GH_CHECK_FORGEABLE_HEADER         a listener routes to an API that trusts X-ARR-ClientCert (or any header a
                                    policy turns into a certificate) and neither sets nor removes that header
  GH_CHECK_ISSUER_DN_NOT_PINNED     an ssl profile uploads an intermediate CA without verifyClientCertIssuerDN,
                                    so certificates from every other intermediate under the root are accepted
  GH_CHECK_APIM_REACHABLE_DIRECTLY  API Management trusts the header but can be called without the gateway
  GH_CHECK_UNVALIDATED_CERT_HEADER  a policy trusts a certificate from a header without checking chain or thumbprint
Each finding names the resource, FILE:LINE:COLUMN, why it matters and how to fix it. The exit code is 1
when a finding is an error, 0 otherwise. Parameters without a value are treated as unknown.

Options:
  --param NAME=VALUE   set a parameter (repeatable)
  --parameters FILE    a .bicepparam or ARM parameters .json file
  -h, --help           show this help
`;

export const checkCommand: Command = {
  name: ['check'],
  summary: 'Find forgeable client-certificate headers and related holes before deploying',
  help,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('check', args, {
      param: { type: 'string', multiple: true },
      parameters: { type: 'string' },
    });
    if (positionals.length !== 1) throw new GatehouseError('GH_USAGE', `check takes one deployment (main.bicep, a folder or a .json file); run 'gatehouse check --help'`);
    const loaded = await loadDeployment({ ...deploymentOptionsFrom(values, positionals[0]!), unknownParamsAllowed: true });
    const findings = loaded.hasErrors ? [] : checkDeployment(loaded, { files: loaded.files });
    const all = [...loaded.diagnostics, ...findings].map((d) => (d.file ? { ...d, file: relative(io.cwd, d.file) || d.file } : d));
    if (all.length) io.stdout.write(formatDiagnostics(all, { withSource: true }) + '\n');
    const errors = all.filter((d) => d.severity === 'error').length;
    const warnings = all.filter((d) => d.severity === 'warning').length;
    const name = relative(io.cwd, loaded.entry) || loaded.entry;
    if (loaded.hasErrors) {
      io.stdout.write(`${name}: the deployment has errors; fix them before it can be checked\n`);
      return 1;
    }
    io.stdout.write(all.length ? `${name}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n` : `${name}: no findings\n`);
    return errors ? 1 : 0;
  },
};
