/**
 * `npm run bench`: Gatehouse against NGINX doing the same job, on 127.0.0.1, in one run, alternating
 * the two (A B A B …) and reporting medians and ratios Gatehouse/NGINX. See docs/benchmarks.md.
 *
 * Installs nothing: it needs nginx, wrk, openssl and gcc on PATH and says how to get them.
 * Load: wrk with an LD_PRELOAD shim (bench/wrk-client-cert-shim.c, compiled into the temp dir at run
 * time) that presents the DEV client certificate, forces a full handshake on every new connection
 * and resolves apim-sample.dev to 127.0.0.1 (so SNI and Host carry the real name).
 * Every process started here is stopped at the end, also on failure or Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, symlinkSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readSync, readdirSync, rmSync, fstatSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gatehouseEdgeResource, nginxEdgeConf, nginxTwoTierConf, nginxUpstreamConf, type NginxTls } from './configs.js';
import { formatSummary, summariseProfile } from './cpuprofile.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GATEHOUSE = join(ROOT, 'bin/gatehouse.js');
const PASSWORD = 'P@ssw0rd';
const HOST = 'apim-sample.dev';

const usage = `Usage: npm run bench -- [options]

Gatehouse against NGINX on 127.0.0.1, alternating A B A B, medians and ratios Gatehouse/NGINX.
  a  keep-alive requests through the mTLS listener to a trivial upstream (X-ARR-ClientCert forwarded)
  b  a new full TLS handshake for every request on the mTLS listener (Connection: close)
  c  the seed's chain: mTLS listener -> API Management validate-from-agw -> 200,
     against NGINX edge -> NGINX upstream (one worker, both tiers)
each with an RSA-2048 and an ECDSA P-256 server certificate.

Options:
  --quick              about two minutes: 1 s warm-up, 3 runs of 1 s each
  --runs N             measured runs per contender and case (default 5, at least 3 for a median)
  --duration S         whole seconds per run (default 4)
  --warmup S           seconds of warm-up per contender before measuring (default 2)
  --connections N      wrk connections (default 32)
  --threads N          wrk threads (default 1)
  --workers N          processes per contender (default 1, one event loop each): Gatehouse --workers N,
                       NGINX worker_processes N; not with c-inproc, which needs one process
  --scenarios LIST     a,b,c,c-inproc (default all; c = the HTTPS hop edge → APIM, c-inproc = the in-process hand-off)
  --keys LIST          rsa,ecdsa (default both)
  --from build|tsx     run Gatehouse compiled into the temp dir (default; as installed) or through tsx
  --log-level LEVEL    Gatehouse's --log-level (default info: it logs every request, as NGINX does;
                       warn drops the access lines, to measure what logging costs — not a fair result)
  --profile            run Gatehouse only, under node --cpu-prof, and print where its time goes
  --json FILE          also write the results as JSON
  --markdown FILE      also write the table as Markdown
  --keep               keep the temp dir (configs, logs, profiles)
  -h, --help           this help
`;

// ---------------------------------------------------------------------------------------------
// processes: everything started is recorded and stopped at the end

interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  exited: boolean;
}
const started: Started[] = [];

function track(name: string, child: ChildProcess): Started {
  const s: Started = { name, child, exited: false };
  child.once('exit', () => (s.exited = true));
  started.push(s);
  return s;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function stop(s: Started, signal: NodeJS.Signals = 'SIGTERM', graceMs = 8000): Promise<void> {
  if (s.exited || s.child.pid === undefined) return;
  const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
  try {
    s.child.kill(signal);
  } catch {
    // already gone
  }
  await Promise.race([exited, sleep(graceMs)]);
  if (!s.exited) {
    killHard(s);
    await Promise.race([exited, sleep(2000)]);
  }
}

/** SIGKILL to the process group (an NGINX master's workers die with it) and to the process itself. */
function killHard(s: Started): void {
  if (s.exited || s.child.pid === undefined) return;
  try {
    process.kill(-s.child.pid, 'SIGKILL');
  } catch {
    // not a group leader (wrk), or gone
  }
  try {
    s.child.kill('SIGKILL');
  } catch {
    // gone
  }
}

async function stopAll(): Promise<void> {
  await Promise.all(started.map((s) => stop(s)));
}

let cleaning = false;
/** The run's temp dir, removed on Ctrl-C too unless --keep. */
let tmpToRemove: string | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (cleaning) return;
    cleaning = true;
    process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
    void stopAll().then(() => {
      if (tmpToRemove) rmSync(tmpToRemove, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
process.on('exit', () => {
  // last resort, synchronous: kill the process groups that are still alive
  for (const s of started) killHard(s);
});

// ---------------------------------------------------------------------------------------------
// helpers

function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout || r.error?.message}`);
  return r.stdout;
}

/** The last `bytes` of a file, for error messages (a whole access log can be gigabytes). */
function tailOf(file: string, bytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir || '.', cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!alive()) throw new Error(`process exited before listening on ${port}`);
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** utime + stime of a process, in microseconds (all its threads). */
function cpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** Peak resident set size (VmHWM) in kB. */
function peakRssKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---------------------------------------------------------------------------------------------
// contenders

interface Contender {
  readonly name: 'gatehouse' | 'nginx';
  readonly url: string;
  /** The server processes whose CPU counts (NGINX: master and workers). */
  pids(): number[];
  /** Peak RSS per process, kB, labelled. */
  rss(): { label: string; kb: number }[];
  /** Gatehouse's resident set right after 'ready' (before any load), kB. */
  readonly rssAtReadyKb?: number;
  stop(): Promise<void>;
}

async function startNginx(dir: string, conf: string, port: number): Promise<Contender & { proc: Started }> {
  mkdirSync(dir, { recursive: true });
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const child = spawn(which('nginx') ?? 'nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', confFile, '-g', 'daemon off; master_process on;'], {
    detached: true,
    stdio: ['ignore', 'ignore', openSync(join(dir, 'stderr.log'), 'a')],
  });
  const proc = track(`nginx ${dir}`, child);
  try {
    await waitForPort(port, 10_000, () => !proc.exited);
  } catch (e) {
    throw new Error(`nginx in ${dir}: ${(e as Error).message}\n${existsSync(join(dir, 'error.log')) ? tailOf(join(dir, 'error.log'), 4000) : ''}`);
  }
  const master = child.pid!;
  return {
    name: 'nginx',
    proc,
    url: `https://${HOST}:${port}`,
    pids: () => [master, ...childrenOf(master)],
    rss: () => [
      { label: 'master', kb: peakRssKb(master) },
      ...childrenOf(master).map((p) => ({ label: 'worker', kb: peakRssKb(p) })),
    ],
    stop: () => stop(proc, 'SIGQUIT'),
  };
}

/**
 * Gatehouse as it is installed: compiled with tsconfig.build.json (what `npm ci` runs through the
 * prepare script) into the temp dir, so that profiles keep the source's line numbers and nothing is
 * written into the checkout. node_modules is linked beside it. `--from tsx` runs bin/gatehouse.js.
 */
function buildGatehouse(tmp: string): string {
  const out = join(tmp, 'gatehouse');
  mkdirSync(out, { recursive: true });
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  // tsc emits even when another area is mid-edit and has type errors; a missing main.js is fatal
  spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(out, 'dist'), '--sourceMap', 'false'], { encoding: 'utf8', timeout: 300_000 });
  const main = join(out, 'dist/cli/main.js');
  if (!existsSync(main)) throw new Error(`building Gatehouse into ${out} failed; try --from tsx`);
  cpSync(join(ROOT, 'package.json'), join(out, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  return main;
}

let gatehouseMain = GATEHOUSE;
/** info: an access line per request, as NGINX's access_log; warn is for measuring what logging costs. */
let gatehouseLogLevel = 'info';

async function startGatehouse(dir: string, entry: string, portMaps: string[], port: number, profileDir?: string, extraArgs: readonly string[] = []): Promise<Contender> {
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, 'gatehouse.log'), 'a');
  const args = [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    gatehouseMain,
    'up',
    entry,
    ...portMaps.flatMap((m) => ['--port-map', m]),
    '--state-dir',
    join(dir, 'state'),
    '--no-watch',
    '--log-level',
    gatehouseLogLevel,
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', log], cwd: ROOT });
  closeSync(log);
  const proc = track(`gatehouse ${dir}`, child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse did not print 'ready' in 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (/^ready/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse exited (${code}) before 'ready':\n${out}\n${tailOf(join(dir, 'gatehouse.log'), 2000)}`));
    };
    child.once('exit', early);
    // Only an exit before 'ready' is an error here (the log of a whole run can be larger than a string can hold).
    child.stdout!.on('data', () => {
      if (/^ready/m.test(out)) child.off('exit', early);
    });
  });
  child.stdout!.resume();
  await waitForPort(port, 5000, () => !proc.exited);
  const pid = child.pid!;
  return {
    name: 'gatehouse',
    url: `https://${HOST}:${port}`,
    rssAtReadyKb: peakRssKb(pid),
    // with --workers, the edge's worker processes count too
    pids: () => [pid, ...childrenOf(pid)],
    rss: () => [{ label: 'process', kb: peakRssKb(pid) }, ...childrenOf(pid).map((p) => ({ label: 'worker', kb: peakRssKb(p) }))],
    // SIGINT: `gatehouse up` closes its servers and exits, so that --cpu-prof writes its profile
    stop: () => stop(proc, 'SIGINT', 15_000),
  };
}

// ---------------------------------------------------------------------------------------------
// load

interface Load {
  readonly shim: string;
  readonly lua: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly threads: number;
  readonly connections: number;
}

interface RunResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly cpuUsPerRequest: number;
}

async function wrk(load: Load, url: string, seconds: number, close: boolean, serverPids: number[]): Promise<RunResult> {
  const before = serverPids.reduce((a, p) => a + cpuUs(p), 0);
  const child = spawn(
    which('wrk') ?? 'wrk',
    ['-t', String(load.threads), '-c', String(load.connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', load.lua, url],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        LD_PRELOAD: load.shim,
        BENCH_CLIENT_CERT: load.clientCert,
        BENCH_CLIENT_KEY: load.clientKey,
        BENCH_RESOLVE_HOST: HOST,
        BENCH_CONNECTION_CLOSE: close ? '1' : '0',
      },
    },
  );
  const w = track('wrk', child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const timer = setTimeout(() => void stop(w, 'SIGKILL', 1000), (seconds + 15) * 1000);
  await new Promise<void>((r) => (w.exited ? r() : child.once('exit', () => r())));
  clearTimeout(timer);
  const after = serverPids.reduce((a, p) => a + cpuUs(p), 0);
  const line = /^BENCH (\{.*\})$/m.exec(out);
  if (!line) throw new Error(`wrk gave no result for ${url}:\n${out}\n${err}`);
  const r = JSON.parse(line[1]!) as { requests: number; duration_us: number; p50_us: number; p99_us: number; connect: number; read: number; write: number; status: number; timeout: number };
  const ok = r.requests - r.status;
  return {
    requests: r.requests,
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    errors: r.connect + r.read + r.write + r.timeout,
    non2xx: r.status,
    cpuUsPerRequest: ok > 0 ? (after - before) / r.requests : 0,
  };
}

const LUA = `-- generated by bench/run.ts
if os.getenv("BENCH_CONNECTION_CLOSE") == "1" then wrk.headers["Connection"] = "close" end
done = function(summary, latency, requests)
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
`;

/** One real request with the client certificate, before any load: a wrong setup fails loudly. */
async function sanity(c: Contender, path: string, load: Load): Promise<void> {
  const u = new URL(path, c.url);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: Number(u.port),
        path: u.pathname,
        servername: HOST,
        headers: { host: u.host },
        cert: readFileSync(load.clientCert),
        key: readFileSync(load.clientKey),
        rejectUnauthorized: false,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
  if (status !== 200) throw new Error(`${c.name} ${u.href}: expected 200, got ${status}: ${body.slice(0, 300)}`);
}

// ---------------------------------------------------------------------------------------------
// main

/** c: the seed chain over the real HTTPS hop (--backend-hop https); c-inproc: the same with the in-process hand-off (gatehouse up's default). */
type Scenario = 'a' | 'b' | 'c' | 'c-inproc';
type KeyKind = 'rsa' | 'ecdsa';

interface CaseResult {
  readonly scenario: Scenario;
  readonly key: KeyKind;
  readonly runs: Record<'gatehouse' | 'nginx', RunResult[]>;
  readonly rss: Record<'gatehouse' | 'nginx', { label: string; kb: number }[]>;
  readonly gatehouseRssAtReadyKb?: number;
}

const TARGET: Record<Scenario, number> = { a: 0.5, b: 0.9, c: 1.0, 'c-inproc': 1.0 };
const TITLE: Record<Scenario, string> = {
  a: 'a) mTLS keep-alive → trivial upstream',
  b: 'b) new mTLS handshake per request',
  c: 'c) seed chain → APIM validate-from-agw (HTTPS hop)',
  'c-inproc': 'c-inproc) seed chain, in-process hand-off edge → APIM',
};

function tools(): string[] {
  const missing: string[] = [];
  const hints: Record<string, string> = {
    nginx: 'apt-get install nginx-light   (or nginx)',
    wrk: 'apt-get install wrk',
    openssl: 'apt-get install openssl',
    gcc: 'apt-get install gcc   (builds the wrk client-certificate shim)',
  };
  for (const t of Object.keys(hints)) if (!which(t)) missing.push(`  ${t}: ${hints[t]}`);
  return missing;
}

function prepareCertificates(tmp: string): { rsa: { pfx: string; tls: NginxTls }; ecdsa: { pfx: string; tls: NginxTls }; certs: string; clientCert: string; clientKey: string; inner: { cert: string; key: string; ca: string } } {
  const certs = join(tmp, 'certificates');
  run(process.execPath, [GATEHOUSE, 'certs', 'create', '--out', certs], { cwd: ROOT });
  const o = (...a: string[]) => run('openssl', a);
  const devChain = join(certs, 'dev-intermediate-ca-with-root-ca.cer');
  // RSA: the seed's server certificate, as PEM for NGINX
  o('pkcs12', '-in', join(certs, 'ssl-cert.apim-sample.dev.pfx'), '-passin', `pass:${PASSWORD}`, '-nodes', '-nocerts', '-out', join(tmp, 'server-rsa.key'));
  o('pkcs12', '-in', join(certs, 'ssl-cert.apim-sample.dev.pfx'), '-passin', `pass:${PASSWORD}`, '-nokeys', '-clcerts', '-out', join(tmp, 'server-rsa.crt'));
  // ECDSA P-256: the same names and uses, self-signed like the seed's
  o(
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-sha256',
    '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`, '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
    '-keyout', join(tmp, 'server-ecdsa.key'), '-out', join(tmp, 'server-ecdsa.crt'),
  );
  o('pkcs12', '-export', '-in', join(tmp, 'server-ecdsa.crt'), '-inkey', join(tmp, 'server-ecdsa.key'), '-passout', `pass:${PASSWORD}`, '-out', join(tmp, 'server-ecdsa.pfx'));
  // the client: DEV Client 01, leaf only (as browsers and most clients send it)
  const clientKey = join(tmp, 'client.key');
  o('pkcs12', '-in', join(certs, 'dev-client-01.pfx'), '-passin', `pass:${PASSWORD}`, '-nodes', '-nocerts', '-out', clientKey);
  // NGINX's inner tier (c): an ECDSA P-256 CA and server certificate for apim-sample.azure-api.net,
  // like the platform CA Gatehouse issues API Management's certificate from
  o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=Bench Platform CA', '-keyout', join(tmp, 'inner-ca.key'), '-out', join(tmp, 'inner-ca.crt'));
  o('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=apim-sample.azure-api.net', '-keyout', join(tmp, 'inner.key'), '-out', join(tmp, 'inner.csr'));
  writeFileSync(join(tmp, 'inner.ext'), 'subjectAltName=DNS:apim-sample.azure-api.net\nextendedKeyUsage=serverAuth\n');
  o('x509', '-req', '-in', join(tmp, 'inner.csr'), '-CA', join(tmp, 'inner-ca.crt'), '-CAkey', join(tmp, 'inner-ca.key'), '-CAcreateserial', '-days', '30', '-sha256', '-extfile', join(tmp, 'inner.ext'), '-out', join(tmp, 'inner.crt'));
  return {
    certs,
    clientCert: join(certs, 'dev-client-01.cer'),
    clientKey,
    rsa: { pfx: join(certs, 'ssl-cert.apim-sample.dev.pfx'), tls: { cert: join(tmp, 'server-rsa.crt'), key: join(tmp, 'server-rsa.key'), devChain } },
    ecdsa: { pfx: join(tmp, 'server-ecdsa.pfx'), tls: { cert: join(tmp, 'server-ecdsa.crt'), key: join(tmp, 'server-ecdsa.key'), devChain } },
    inner: { cert: join(tmp, 'inner.crt'), key: join(tmp, 'inner.key'), ca: join(tmp, 'inner-ca.crt') },
  };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function table(results: readonly CaseResult[]): string {
  const lines = [
    '| scenario | server key | Gatehouse req/s | NGINX req/s | ratio | target | p50 ms GH / NGX | p99 ms GH / NGX | server CPU µs/req GH / NGX | CPU ratio | peak RSS MB GH (at ready) / NGX (master+worker) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const g = r.runs.gatehouse;
    const n = r.runs.nginx;
    if (!g.length || !n.length) continue;
    const gr = median(g.map((x) => x.rps));
    const nr = median(n.map((x) => x.rps));
    const ratio = gr / nr;
    const mb = (kb: number) => fmt(kb / 1024, 1);
    const gCpu = median(g.map((x) => x.cpuUsPerRequest));
    const nCpu = median(n.map((x) => x.cpuUsPerRequest));
    const nginxRss = r.rss.nginx.map((x) => mb(x.kb)).join('+');
    const bad = (xs: readonly RunResult[]) => xs.reduce((a, x) => a + x.errors + x.non2xx, 0);
    const warn = bad(g) || bad(n) ? ` ⚠ socket errors or non-2xx: Gatehouse ${bad(g)}, NGINX ${bad(n)}` : '';
    lines.push(
      `| ${TITLE[r.scenario]}${warn} | ${r.key === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} | ${fmt(gr)} | ${fmt(nr)} | **${fmt(ratio, 2)}x** ${ratio >= TARGET[r.scenario] ? '✓' : '✗'} | ${fmt(TARGET[r.scenario], 1)}x | ${fmt(median(g.map((x) => x.p50Ms)), 2)} / ${fmt(median(n.map((x) => x.p50Ms)), 2)} | ${fmt(median(g.map((x) => x.p99Ms)), 2)} / ${fmt(median(n.map((x) => x.p99Ms)), 2)} | ${fmt(gCpu)} / ${fmt(nCpu)} | ${gCpu > 0 ? fmt(nCpu / gCpu, 2) : '-'}x | ${r.rss.gatehouse.map((x) => mb(x.kb)).join('+') || mb(0)} (${mb(r.gatehouseRssAtReadyKb ?? 0)}) / ${nginxRss} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string', default: '32' },
      threads: { type: 'string', default: '1' },
      workers: { type: 'string', default: '1' },
      scenarios: { type: 'string', default: 'a,b,c,c-inproc' },
      keys: { type: 'string', default: 'rsa,ecdsa' },
      profile: { type: 'boolean', default: false },
      from: { type: 'string', default: 'build' },
      'log-level': { type: 'string', default: 'info' },
      json: { type: 'string' },
      markdown: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const num = (v: string | undefined, d: number, min: number, max: number, name: string) => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} takes a number from ${min} to ${max}`);
    return n;
  };
  const runs = num(values.runs, values.quick ? 3 : 5, values.profile ? 1 : 3, 15, 'runs');
  const duration = Math.round(num(values.duration, values.quick ? 1 : 4, 1, 60, 'duration')); // wrk takes whole seconds
  const warmup = Math.round(num(values.warmup, values.quick ? 1 : 2, 0, 30, 'warmup'));
  const scenarios = values.scenarios!.split(',').map((s) => s.trim()) as Scenario[];
  const keys = values.keys!.split(',').map((s) => s.trim()) as KeyKind[];
  if (scenarios.some((s) => !['a', 'b', 'c', 'c-inproc'].includes(s))) throw new Error('--scenarios takes a comma list of a, b, c, c-inproc');
  if (keys.some((k) => !['rsa', 'ecdsa'].includes(k))) throw new Error('--keys takes a comma list of rsa, ecdsa');

  if (!['debug', 'info', 'warn', 'error'].includes(values['log-level']!)) throw new Error('--log-level takes debug, info, warn or error');
  gatehouseLogLevel = values['log-level']!;
  const missing = tools();
  if (missing.length) {
    process.stderr.write(`bench: missing tools (nothing is installed for you):\n${missing.join('\n')}\n(Debian/Ubuntu: sudo apt-get update && sudo apt-get install nginx-light wrk openssl gcc)\n`);
    return 2;
  }

  const deadline = Date.now() + 15 * 60_000; // a hard bound on the whole run
  const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  if (!values.keep && !values.profile) tmpToRemove = tmp;
  const nginxVersion = spawnSync(which('nginx') ?? 'nginx', ['-v'], { encoding: 'utf8' }).stderr.trim();
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${nginxVersion}, ${spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? 'wrk'}`;
  const loadavg = () => {
    try {
      return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    } catch {
      return '?';
    }
  };
  const loadAtStart = loadavg();
  const rev = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || 'unknown';
  process.stdout.write(`machine: ${machine}\ngatehouse: ${rev} (the working tree, compiled as it is now)\ntemp dir: ${tmp}\n`);
  process.stdout.write(`plan: scenarios ${scenarios.join(',')} × keys ${keys.join(',')}, ${values.profile ? 'Gatehouse only, profiled' : `alternating Gatehouse/NGINX`}, ${runs} runs × ${duration} s after ${warmup} s warm-up, wrk -t${values.threads} -c${values.connections}\n`);

  const results: CaseResult[] = [];
  try {
    const c = prepareCertificates(tmp);
    if (values.from === 'build') {
      const t0 = Date.now();
      gatehouseMain = buildGatehouse(tmp);
      process.stdout.write(`built Gatehouse into ${tmp}/gatehouse in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    } else if (values.from !== 'tsx') throw new Error('--from takes build or tsx');
    const shim = join(tmp, 'wrk-client-cert-shim.so');
    run('gcc', ['-shared', '-fPIC', '-O2', '-o', shim, join(ROOT, 'bench/wrk-client-cert-shim.c'), '-ldl']);
    const lua = join(tmp, 'report.lua');
    writeFileSync(lua, LUA);
    const workers = num(values.workers, 1, 1, 8, 'workers');
    if (workers > 1 && scenarios.includes('c-inproc')) throw new Error('--workers above 1 runs the edge in worker processes, so c-inproc (the in-process hand-off) cannot run; leave it out of --scenarios');
    const load: Load = { shim, lua, clientCert: c.clientCert, clientKey: c.clientKey, threads: num(values.threads, 1, 1, 8, 'threads'), connections: num(values.connections, 32, 1, 1000, 'connections') };
    const asRoot = process.getuid?.() === 0;
    const profileDir = values.profile ? join(tmp, 'profiles') : undefined;

    // the trivial upstream both edges share in a/b
    let upstreamPort = 0;
    if (scenarios.includes('a') || scenarios.includes('b')) {
      upstreamPort = await freePort();
      await startNginx(join(tmp, 'nginx-upstream'), nginxUpstreamConf({ prefix: join(tmp, 'nginx-upstream'), asRoot, port: upstreamPort }), upstreamPort);
    }

    for (const key of keys) {
      const server = c[key];
      const groups: Scenario[][] = [scenarios.filter((s) => s === 'a' || s === 'b'), scenarios.filter((s) => s === 'c'), scenarios.filter((s) => s === 'c-inproc')].filter((g) => g.length);
      for (const group of groups) {
        const tag = `${group.join('')}-${key}`;
        const gPort = await freePort();
        const nPort = await freePort();
        let gatehouse: Contender;
        let nginx: Contender | undefined;
        let path: string;
        if (group[0] === 'a' || group[0] === 'b') {
          const resource = join(tmp, `edge-${key}.json`);
          writeFileSync(resource, JSON.stringify(gatehouseEdgeResource({ serverPfx: server.pfx, pfxPassword: PASSWORD, devChainPem: server.tls.devChain, upstreamPort }), null, 2));
          gatehouse = await startGatehouse(join(tmp, `gatehouse-${tag}`), resource, [`53029=${gPort}`], gPort, profileDir, workers > 1 ? ['--workers', String(workers)] : []);
          if (!values.profile) nginx = await startNginx(join(tmp, `nginx-${tag}`), nginxEdgeConf({ prefix: join(tmp, `nginx-${tag}`), asRoot, port: nPort, upstreamPort, tls: server.tls, workers }), nPort);
          path = '/bench';
        } else {
          // the seed example, with this run's certificates (and the ECDSA server certificate swapped in)
          const example = join(tmp, `seed-${key}`);
          cpSync(join(ROOT, 'examples/apim-behind-agw'), example, { recursive: true, filter: (src) => !src.includes('/certificates') });
          cpSync(c.certs, join(example, 'certificates'), { recursive: true });
          if (key === 'ecdsa') cpSync(server.pfx, join(example, 'certificates/ssl-cert.apim-sample.dev.pfx'));
          const httpsPort = await freePort();
          gatehouse = await startGatehouse(join(tmp, `gatehouse-${tag}`), example, [`443=${httpsPort}`, `53029=${gPort}`], gPort, profileDir, ['--backend-hop', group[0] === 'c' ? 'https' : 'in-process', ...(workers > 1 ? ['--workers', String(workers)] : [])]);
          const inner = await freePort();
          if (!values.profile) nginx = await startNginx(join(tmp, `nginx-${tag}`), nginxTwoTierConf({ prefix: join(tmp, `nginx-${tag}`), asRoot, port: nPort, innerPort: inner, tls: server.tls, inner: c.inner, workers }), nPort);
          path = '/client-cert/validate-from-agw';
        }
        const contenders = [gatehouse, ...(nginx ? [nginx] : [])];
        for (const x of contenders) await sanity(x, path, load);
        for (const scenario of group) {
          const close = scenario === 'b';
          const res: CaseResult = { scenario, key, runs: { gatehouse: [], nginx: [] }, rss: { gatehouse: [], nginx: [] } };
          // Warm-up: each contender once; Gatehouse again (at most 3 more times) while its rate still
          // climbs by more than 10% — the JIT has not settled yet
          for (const x of contenders) {
            if (warmup <= 0) continue;
            let last = (await wrk(load, x.url + path, warmup, close, x.pids())).rps;
            for (let extra = 0; x.name === 'gatehouse' && extra < 3; extra++) {
              const next = (await wrk(load, x.url + path, warmup, close, x.pids())).rps;
              if (next < last * 1.1) break;
              last = next;
            }
          }
          for (let i = 0; i < runs; i++) {
            for (const x of contenders) {
              if (Date.now() > deadline) throw new Error('the run took longer than its 15-minute bound; stopping');
              const r = await wrk(load, x.url + path, duration, close, x.pids());
              res.runs[x.name].push(r);
              process.stdout.write(
                `${scenario} ${key.padEnd(5)} run ${i + 1} ${x.name.padEnd(9)} ${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms  cpu ${fmt(r.cpuUsPerRequest)} µs/req${r.errors ? `  socket errors ${r.errors}` : ''}${r.non2xx ? `  non-2xx ${r.non2xx}` : ''}\n`,
              );
            }
          }
          for (const x of contenders) res.rss[x.name] = x.rss();
          results.push({ ...res, gatehouseRssAtReadyKb: gatehouse.rssAtReadyKb ?? 0 });
        }
        for (const x of contenders) await x.stop();
        if (profileDir && existsSync(profileDir)) {
          // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread; the others
          // are tsx's module-loader worker (busy only at start-up)
          for (const f of readdirSync(profileDir).filter((f) => f.startsWith('CPU.') && f.endsWith('.cpuprofile'))) {
            const thread = f.split('.')[4];
            const named = join(profileDir, thread === '0' ? `${tag}.cpuprofile` : `${tag}-thread-${thread}.cpuprofile`);
            cpSync(join(profileDir, f), named);
            rmSync(join(profileDir, f));
            if (thread !== '0') continue;
            process.stdout.write(`\n== where Gatehouse's time goes, ${group.join('+')} with ${key} (${named}) ==\n`);
            process.stdout.write(formatSummary(summariseProfile(JSON.parse(readFileSync(named, 'utf8')), 20)) + '\n\n');
          }
        }
      }
    }
  } finally {
    await stopAll();
  }

  if (!values.profile) {
    const md = table(results);
    const head = `medians of ${runs} alternated runs of ${duration} s, wrk -t${values.threads} -c${values.connections}${values.workers !== '1' ? `; ${values.workers} processes per contender (Gatehouse --workers, NGINX worker_processes)` : ''}; ${machine}; gatehouse ${rev}${gatehouseLogLevel !== 'info' ? ` with --log-level ${gatehouseLogLevel} (NOT logging every request)` : ''}; load average ${loadAtStart} at the start, ${loadavg()} at the end`;
    process.stdout.write(`\n${head}\n\n${md}\n`);
    if (values.markdown) writeFileSync(values.markdown, `${head}\n\n${md}\n`);
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine, gatehouse: rev, runs, duration, warmup, results }, null, 2));
  if (!values.keep && !values.profile) rmSync(tmp, { recursive: true, force: true });
  else process.stdout.write(`kept: ${tmp}\n`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  async (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
