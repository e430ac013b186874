/**
 * The `gatehouse` command: picks a subcommand by its words and runs it. Everything a user sees
 * on a usage error goes to stderr with exit code 2; a command's own failures return 1.
 */
import { readFileSync } from 'node:fs';
import { processIo, type CliIo, type Command } from './command.js';
import { commands as registered } from './commands/index.js';
import { formatDiagnostics, DiagnosticsError } from '../core/diagnostics.js';
import { isGatehouseError, messageOf } from '../core/errors.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.join(' ').length), 4);
  const lines = commands.map((c) => `  ${c.name.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'gatehouse — client-certificate (mTLS) security for APIs behind a gateway',
    '',
    'Usage: gatehouse <command> [options]',
    '',
    'Commands:',
    ...lines,
    `  ${'help'.padEnd(width)}  Show help for a command: gatehouse help <command>`,
    '',
    'Options:',
    '  --help, -h     Show help',
    '  --version, -v  Show the version',
    '',
  ].join('\n');
}

function find(commands: readonly Command[], words: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const c of commands) {
    if (c.name.length <= words.length && c.name.every((w, i) => words[i] === w)) {
      if (!best || c.name.length > best.command.name.length) best = { command: c, rest: words.slice(c.name.length) };
    }
  }
  return best;
}

export async function main(argv: string[], io: CliIo = processIo(), commands: readonly Command[] = registered): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    io.stdout.write(helpText(commands));
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`gatehouse ${version()}\n`);
    return 0;
  }
  if (first === 'help') {
    const target = find(commands, argv.slice(1));
    if (argv.length === 1 || !target) {
      io.stdout.write(helpText(commands));
      return argv.length === 1 ? 0 : 2;
    }
    io.stdout.write(target.command.help.endsWith('\n') ? target.command.help : target.command.help + '\n');
    return 0;
  }
  const found = find(commands, argv);
  if (!found) {
    const group = commands.filter((c) => c.name[0] === first);
    io.stderr.write(`gatehouse: unknown command '${argv.slice(0, group.length ? 2 : 1).join(' ')}'\n`);
    if (group.length) io.stderr.write(`Did you mean: ${group.map((c) => 'gatehouse ' + c.name.join(' ')).join(', ')}\n`);
    io.stderr.write(`Run 'gatehouse --help' for the list of commands.\n`);
    return 2;
  }
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    io.stdout.write(found.command.help.endsWith('\n') ? found.command.help : found.command.help + '\n');
    return 0;
  }
  try {
    return await found.command.run(found.rest, io);
  } catch (e) {
    if (e instanceof DiagnosticsError) {
      io.stderr.write(formatDiagnostics(e.diagnostics, { withSource: true }) + '\n');
      return 1;
    }
    if (isGatehouseError(e)) {
      io.stderr.write(`gatehouse: ${e.code}: ${e.message}\n`);
      return e.code === 'GH_USAGE' ? 2 : 1;
    }
    io.stderr.write(`gatehouse: internal error: ${messageOf(e)}\n${(e as Error)?.stack ?? ''}\n`);
    return 70;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
