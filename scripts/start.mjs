// `npm start`: the seed's deployment, locally. Makes the example's certificates on first start
// (`gatehouse certs create`), then runs `gatehouse up` with the HTTPS listener's 443 moved to 8443.
// Usage: npm start [-- <example folder> [more gatehouse up options]]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync, spawn } from 'node:child_process';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const example = args[0] && !args[0].startsWith('-') ? args.shift() : 'examples/apim-behind-agw';
const gatehouse = join(root, 'bin/gatehouse.js');
const certs = join(resolve(example), 'certificates');

if (!existsSync(join(certs, 'root-ca.cer'))) {
  console.log(`Creating the example's certificates in ${certs} (first start)`);
  const r = spawnSync(process.execPath, [gatehouse, 'certs', 'create', '--out', certs], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const portMap = args.some((a) => a === '--port-map') ? [] : ['--port-map', '443=8443'];
const child = spawn(process.execPath, [gatehouse, 'up', example, ...portMap, ...args], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
