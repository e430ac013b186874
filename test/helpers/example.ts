/**
 * Running the examples as a user would: certificates from `gatehouse certs create`, a copy of the
 * example folder, `gatehouse up` with every declared port on a free local port.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli, startCli, type RunningCli } from './cli.js';

export interface Workspace {
  readonly dir: string;
  readonly certs: string;
  readonly stateDir: string;
}

export async function createWorkspace(prefix: string): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const certs = join(dir, 'certificates');
  const r = await runCli(['certs', 'create', '--out', certs]);
  assert.equal(r.code, 0, r.stderr);
  return { dir, certs, stateDir: join(dir, 'state') };
}

/** A copy of examples/<name> with the workspace's certificates in its certificates/ folder. */
export function copyExample(ws: Workspace, name: string, as = name): string {
  const dir = join(ws.dir, as);
  cpSync(join(repoRoot, 'examples', name), dir, { recursive: true, filter: (src) => !src.endsWith('/certificates') });
  cpSync(ws.certs, join(dir, 'certificates'), { recursive: true });
  return dir;
}

/** `gatehouse up` on free ports; resolves once it printed `ready`. */
export async function upExample(ws: Workspace, dir: string, extra: string[] = []): Promise<RunningCli> {
  const cli = startCli(['up', dir, '--port-map', '443=0', '--port-map', '53029=0', '--state-dir', ws.stateDir, '--no-watch', '--log-level', 'warn', ...extra]);
  await cli.waitFor(/^ready/m, 60000);
  return cli;
}

/** The local port of a listener from the lines `gatehouse up` prints: `<resource>  <listener>  <url>  <address:port> …`. */
export function portOf(stdout: string, listener: string): number {
  const m = new RegExp(`^\\S+\\s+${listener}\\s+\\S+\\s+127\\.0\\.0\\.1:(\\d+)`, 'm').exec(stdout);
  assert.ok(m, `no line for listener ${listener} in:\n${stdout}`);
  return Number(m[1]);
}
