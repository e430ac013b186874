/**
 * `gatehouse policy lint FILE…`: reads API Management policy files as Gatehouse loads them and
 * prints every diagnostic as FILE:LINE:COLUMN: error|warning CODE message.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import type { Diagnostic } from '../../core/diagnostics.js';
import { formatDiagnostic } from '../../core/diagnostics.js';
import { GatehouseError } from '../../core/errors.js';
import { compilePolicyDocument, defaultRegistry } from '../../policy/index.js';

const help = `Usage: gatehouse policy lint FILE… [options]

Checks API Management policy documents (<policies> or <fragment>, as .xml or .cshtml) the way
'gatehouse up' loads them: the XML with its @(…) and @{…} expressions, every element and attribute,
the sections policies may stand in, and the C# of each expression. Prints one line per problem:

  FILE:LINE:COLUMN: error|warning CODE message

An element that is no API Management policy, an unknown attribute, a malformed document or a bad
expression is an error. A real API Management policy that Gatehouse does not run yet is a warning
(it is an error at 'gatehouse up'). The exit code is 1 when there is an error, 0 otherwise.

Options:
  --scope global|product|api|operation   the scope the documents are for (default operation)
  --named-value NAME=VALUE               a named value for {{NAME}} (repeatable); without any,
                                         {{…}} references are left as written
  --source                               show the offending line under each diagnostic
  -h, --help                             show this help
`;

export const policyLintCommand: Command = {
  name: ['policy', 'lint'],
  summary: 'Check API Management policy files and print FILE:LINE:COLUMN diagnostics',
  help,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('policy lint', args, {
      scope: { type: 'string' },
      'named-value': { type: 'string', multiple: true },
      source: { type: 'boolean' },
    });
    if (positionals.length === 0) throw new GatehouseError('GH_USAGE', "policy lint takes one or more policy files; run 'gatehouse policy lint --help'");
    const scope = values.scope ?? 'operation';
    if (scope !== 'global' && scope !== 'product' && scope !== 'api' && scope !== 'operation') throw new GatehouseError('GH_USAGE', `--scope must be global, product, api or operation, got '${scope}'`);
    let namedValues: Map<string, string> | undefined;
    for (const nv of values['named-value'] ?? []) {
      const eq = nv.indexOf('=');
      if (eq <= 0) throw new GatehouseError('GH_USAGE', `--named-value takes NAME=VALUE, got '${nv}'`);
      (namedValues ??= new Map()).set(nv.slice(0, eq), nv.slice(eq + 1));
    }
    const registry = defaultRegistry();
    let errors = 0;
    let warnings = 0;
    for (const file of positionals) {
      let text: string;
      try {
        text = await readFile(resolve(io.cwd, file), 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        io.stderr.write(`${file}: error ${code === 'ENOENT' ? 'GH_FILE_NOT_FOUND' : 'GH_FILE_UNREADABLE'} ${code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
        errors++;
        continue;
      }
      const r = compilePolicyDocument(file, text.replace(/^\uFEFF/, ''), { scope, mode: 'lint', registry, ...(namedValues ? { namedValues, unknownNamedValue: 'warning' as const } : {}) });
      const ds: Diagnostic[] = [...r.diagnostics].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
      for (const d of ds) {
        if (d.severity === 'info') continue;
        if (d.severity === 'error') errors++;
        else warnings++;
        io.stdout.write(formatDiagnostic({ ...d, file: d.file ?? file }, { withSource: values.source ?? false }) + '\n');
      }
    }
    io.stderr.write(`${positionals.length} file${positionals.length === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`);
    return errors ? 1 : 0;
  },
};
