/**
 * `gatehouse up`: run a deployment on loopback until SIGINT/SIGTERM, reloading when a file changes.
 */
import { watch, type FSWatcher } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import type { Command, CliIo } from '../command.js';
import { parseCommandArgs, parsePortMap } from '../args.js';
import { loadDeployment, portInUseOf, portsOf, runDeployment, type LoadedDeployment, type RunningDeployment, type DeploymentOptions } from '../deployment.js';
import { formatDiagnostics } from '../../core/diagnostics.js';
import { GatehouseError, messageOf } from '../../core/errors.js';
import { batchedLines, createLogger, type LogLevel } from '../../core/logger.js';

const help = `Usage: gatehouse up <main.bicep | folder | file.json> [options]

Runs a deployment on loopback: every Application Gateway and API Management service it declares,
with their listeners, certificates, rewrites, routing and policies. Prints one line per listener,
then 'ready'. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM. An edited file reloads the deployment;
an edit with errors keeps the last good configuration serving and prints the diagnostics.

Input:
  main.bicep        a Bicep file with its modules
  folder            a folder with a main.bicep
  template.json     an ARM template (as 'bicep build' writes it)
  resources.json    one resource, an array of resources, or {"resources": [...]} as ARM shows them

Options:
  --param NAME=VALUE        set a parameter (repeatable); VALUE is JSON when it parses as JSON, else a string
  --parameters FILE         a .bicepparam or ARM parameters .json file
  --port-map DECLARED=LOCAL move a declared port to a local one (repeatable), e.g. --port-map 443=8443
  --bind ADDRESS            address for public listeners (default 127.0.0.1)
  --workers N|auto          edge worker processes per gateway (default 1: one process, edits swap in
                            place); auto = one per core, bounded by autoscaleConfiguration.maxCapacity
  --backend-hop https|in-process
                            how a gateway reaches an API Management service of the same deployment
                            (default in-process: handed over in this process, same answers and logs;
                            https: a real TLS connection, as in Azure). --workers > 1 uses https
  --state-dir DIR           where Gatehouse keeps its local platform CA (default ~/.gatehouse, or $GATEHOUSE_STATE_DIR)
  --no-watch                do not reload when files change
  --log-level LEVEL         debug | info | warn | error (default info; access logs are info, on stderr)
  -h, --help                show this help

Environment:
  IDENTITY_ENDPOINT, IDENTITY_HEADER
                            a managed identity token endpoint (the App Service protocol) that
                            authentication-managed-identity asks for tokens; without them the policy
                            fails its request (or goes on, with ignore-error)

Example:
  gatehouse up examples/apim-behind-agw --port-map 443=8443
`;

export function parseParams(values: readonly string[] | undefined): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new GatehouseError('GH_USAGE', `--param takes NAME=VALUE, got '${v}'`);
    const raw = v.slice(eq + 1);
    let value: unknown = raw;
    if (/^(true|false|null|-?\d+(\.\d+)?|\[.*\]|\{.*\})$/s.test(raw)) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    params[v.slice(0, eq)] = value;
  }
  return params;
}

export function deploymentOptionsFrom(values: { param?: string[]; parameters?: string }, entry: string): DeploymentOptions {
  return {
    entry,
    params: parseParams(values.param),
    ...(values.parameters ? { parametersFile: values.parameters } : {}),
  };
}

function printLines(io: CliIo, running: RunningDeployment, loaded: LoadedDeployment): void {
  const rows = running.lines.map((l) => [l.resource, l.listener, l.url, l.local, l.note ?? '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) io.stdout.write(`${r.slice(0, 4).map((c, i) => c.padEnd(widths[i]!)).join('  ')}${r[4] ? '  ' + r[4] : ''}`.trimEnd() + '\n');
  for (const r of loaded.notRun) io.stdout.write(`not run: ${r.type} ${r.name}\n`);
}

function report(io: CliIo, loaded: LoadedDeployment): void {
  if (loaded.diagnostics.length) io.stderr.write(formatDiagnostics(loaded.diagnostics, { withSource: true }) + '\n');
}

export const upCommand: Command = {
  name: ['up'],
  summary: 'Run a deployment (Bicep, ARM JSON or resources JSON) on loopback',
  help,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('up', args, {
      param: { type: 'string', multiple: true },
      parameters: { type: 'string' },
      'port-map': { type: 'string', multiple: true },
      bind: { type: 'string', default: '127.0.0.1' },
      workers: { type: 'string', default: '1' },
      'backend-hop': { type: 'string', default: 'in-process' },
      'state-dir': { type: 'string' },
      'no-watch': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
    });
    if (positionals.length !== 1) throw new GatehouseError('GH_USAGE', `up takes one deployment (main.bicep, a folder or a .json file); run 'gatehouse up --help'`);
    const level = values['log-level'] as LogLevel;
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new GatehouseError('GH_USAGE', `--log-level takes debug, info, warn or error`);
    const workers: number | 'auto' = values.workers === 'auto' ? 'auto' : Number(values.workers);
    if (workers !== 'auto' && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new GatehouseError('GH_USAGE', `--workers takes a number from 1 to 64, or auto`);
    const backendHop = values['backend-hop'] as string;
    if (backendHop !== 'https' && backendHop !== 'in-process') throw new GatehouseError('GH_USAGE', `--backend-hop takes https or in-process`);
    const deployment = deploymentOptionsFrom(values, positionals[0]!);
    const logLines = batchedLines((chunk) => io.stderr.write(chunk));
    const runOptions = {
      workers,
      backendHop: backendHop as 'https' | 'in-process',
      bindAddress: values.bind!,
      portMap: parsePortMap(values['port-map']),
      stateDir: values['state-dir'] ?? io.env.GATEHOUSE_STATE_DIR ?? join(homedir(), '.gatehouse'),
      // Log lines go out once per event-loop turn (batchedLines), not one write per line.
      logger: createLogger({ level, write: logLines.write }),
      // Edge workers write their own lines to the same stderr at this level (no IPC per record).
      logLevel: level,
      ...(io.env.IDENTITY_ENDPOINT ? { managedIdentity: { url: io.env.IDENTITY_ENDPOINT, header: io.env.IDENTITY_HEADER ?? '' } } : {}),
    };

    /** What `running` is after a restart failed twice: nothing to reload in place or to close. */
    const notRunning: RunningDeployment = { lines: [], reloadInPlace: async () => false, close: async () => {} };
    const started = Date.now();
    let loaded = await loadDeployment(deployment);
    report(io, loaded);
    if (loaded.hasErrors) {
      io.stderr.write(`gatehouse: ${relative(io.cwd, loaded.entry)} has errors; nothing was started\n`);
      return 1;
    }
    let running = await runDeployment(loaded, runOptions);
    printLines(io, running, loaded);
    io.stdout.write(`ready (${Date.now() - started} ms)\n`);

    // Reload on change: a broken edit keeps the running configuration.
    const watchers: FSWatcher[] = [];
    let timer: NodeJS.Timeout | undefined;
    let reloading = Promise.resolve();
    let stopping = false;
    const reload = async () => {
      if (stopping) return;
      let next: LoadedDeployment;
      try {
        next = await loadDeployment(deployment);
      } catch (e) {
        // Watch again: an editor that saves by renaming a new file into place leaves the old
        // watcher on the replaced file, and the fix of this edit would never be noticed.
        rewatch();
        io.stderr.write(`reload failed: ${messageOf(e)}; still serving the previous configuration\n`);
        return;
      }
      report(io, next);
      if (next.hasErrors) {
        rewatch(next.files);
        io.stderr.write(`reload failed: ${relative(io.cwd, next.entry)} has errors; still serving the previous configuration\n`);
        return;
      }
      try {
        if (await running.reloadInPlace(next)) {
          loaded = next;
          rewatch();
          io.stdout.write('reloaded\n');
          return;
        }
      } catch (e) {
        rewatch(next.files);
        io.stderr.write(`reload failed: ${messageOf(e)}; still serving the previous configuration\n`);
        return;
      }
      // Services or gateways were added or removed. The new deployment starts beside the running
      // one, which closes only once the new one serves: an edit whose start fails (a port someone
      // else holds, a runtime error) leaves the running one untouched.
      const previous = running;
      const wasServing = previous !== notRunning;
      try {
        const started = await runDeployment(next, runOptions);
        running = started;
        loaded = next;
        rewatch();
        await previous.close();
        printLines(io, running, loaded);
        io.stdout.write('reloaded\n');
        return;
      } catch (e) {
        const port = portInUseOf(e);
        if (port === undefined || !portsOf(previous).has(port)) {
          rewatch(next.files);
          io.stderr.write(`reload failed: ${messageOf(e)}; ${wasServing ? 'still serving the previous configuration' : 'nothing is serving until the next successful reload'}\n`);
          return;
        }
        // The new deployment needs a port the running one holds: close it, start the new one in
        // its place, and start the previous one again if the new one fails.
        io.stderr.write(`reload: the new configuration needs port ${port}, which the previous configuration holds; stopping it to start the new one\n`);
      }
      await previous.close();
      try {
        running = await runDeployment(next, runOptions);
        loaded = next;
        rewatch();
      } catch (e) {
        rewatch(next.files);
        io.stderr.write(`reload failed: ${messageOf(e)}; restarting the previous configuration\n`);
        try {
          running = await runDeployment(loaded, runOptions);
        } catch (e2) {
          // Nothing runs now; the next edit (or a fix of what failed) starts a deployment again.
          running = notRunning;
          io.stderr.write(`restart failed: ${messageOf(e2)}; nothing is serving until the next successful reload\n`);
          return;
        }
        printLines(io, running, loaded);
        io.stdout.write('restarted the previous configuration\n');
        return;
      }
      printLines(io, running, loaded);
      io.stdout.write('reloaded\n');
    };
    /** Watches the running deployment's files and, after a failed reload, the files the failed edit read. */
    const rewatch = (alsoFiles: readonly string[] = []) => {
      for (const w of watchers.splice(0)) w.close();
      if (values['no-watch'] || stopping) return;
      for (const f of new Set([...loaded.files, ...alsoFiles])) {
        try {
          watchers.push(
            watch(f, () => {
              if (stopping) return;
              clearTimeout(timer);
              timer = setTimeout(() => {
                reloading = reloading.then(reload).catch((e: unknown) => void io.stderr.write(`reload failed: ${messageOf(e)}\n`));
              }, 150);
            }),
          );
        } catch {
          // a file that vanished is noticed at the next reload
        }
      }
    };
    rewatch();

    const signal = await (io.stopSignal ?? new Promise<string>(() => {}));
    // A reload under way finishes, but starts no watcher and no further reload.
    stopping = true;
    clearTimeout(timer);
    for (const w of watchers.splice(0)) w.close();
    await reloading;
    io.stdout.write(`stopping (${signal})\n`);
    await running.close();
    logLines.flush();
    io.stdout.write('stopped\n');
    return 0;
  },
};
