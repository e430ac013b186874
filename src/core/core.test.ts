import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { SourceFile } from './source.js';
import { HeaderMap } from './headers.js';
import { DiagnosticBag, DiagnosticsError, formatDiagnostic, makeDiagnostic } from './diagnostics.js';
import { Secret } from './secret.js';
import { memoryLogger } from './logger.js';

test('SourceFile maps offsets to 1-based line:column across LF, CRLF and CR line breaks', () => {
  const f = new SourceFile('x.bicep', 'ab\ncd\r\nef\rgh');
  assert.deepEqual(f.positionAt(0), { line: 1, column: 1 });
  assert.deepEqual(f.positionAt(4), { line: 2, column: 2 });
  assert.deepEqual(f.positionAt(7), { line: 3, column: 1 });
  assert.deepEqual(f.positionAt(10), { line: 4, column: 1 });
  assert.deepEqual(f.positionAt(999), { line: 4, column: 3 });
  assert.equal(f.lineText(2), 'cd');
  assert.equal(f.lineText(4), 'gh');
  assert.equal(f.offsetAt({ line: 2, column: 2 }), 4);
});

test('HeaderMap: case-insensitive names, several values joined with ", ", first spelling kept', () => {
  const h = HeaderMap.fromRaw(['X-ARR-ClientCert', 'a', 'x-arr-clientcert', 'b', 'Host', 'h']);
  assert.equal(h.get('X-ARR-CLIENTCERT'), 'a, b');
  assert.deepEqual(h.getAll('x-arr-clientcert'), ['a', 'b']);
  assert.deepEqual(h.names(), ['X-ARR-ClientCert', 'Host']);
  h.set('x-arr-clientcert', 'c');
  assert.deepEqual(h.toRaw(), ['X-ARR-ClientCert', 'c', 'Host', 'h']);
  assert.equal(h.delete('X-Arr-ClientCert'), true);
  assert.equal(h.has('x-arr-clientcert'), false);
  const copy = h.clone();
  copy.append('Host', 'other');
  assert.deepEqual(h.getAll('host'), ['h']);
  // appendLower (the caller lower-cased the name already) keeps the same map as append
  const a = new HeaderMap();
  const b = new HeaderMap();
  for (const [n, v] of [['X-Forwarded-For', '1'], ['x-forwarded-for', '2'], ['Accept', '*/*']] as const) {
    a.append(n, v);
    b.appendLower(n.toLowerCase(), n, v);
  }
  assert.deepEqual(b.toRaw(), a.toRaw());
  assert.equal(b.get('X-FORWARDED-FOR'), '1, 2');
});

test('diagnostics print as FILE:LINE:COLUMN: severity CODE message, with the source line and a caret', () => {
  const f = new SourceFile('main.bicep', "param a string\nvar b = frobnicate('x')\n");
  const d = makeDiagnostic('error', 'GH_BICEP_UNKNOWN_FUNCTION', "unknown function 'frobnicate'", { file: f, offset: f.text.indexOf('frobnicate'), hint: 'did you mean format?' });
  assert.equal(
    formatDiagnostic(d, { withSource: true }),
    "main.bicep:2:9: error GH_BICEP_UNKNOWN_FUNCTION unknown function 'frobnicate'\n  2 | var b = frobnicate('x')\n              ^\n  hint: did you mean format?",
  );
  const bag = new DiagnosticBag();
  bag.warning('GH_X_WARN', 'a warning', { file: 'a.json', path: 'properties.x' });
  assert.doesNotThrow(() => bag.throwIfErrors());
  bag.error('GH_X_ERR', 'an error');
  assert.throws(() => bag.throwIfErrors(), (e: unknown) => e instanceof DiagnosticsError && e.code === 'GH_CONFIG_INVALID' && e.diagnostics.length === 2);
  assert.equal(formatDiagnostic(bag.items[0]!), 'a.json: warning GH_X_WARN a warning (at properties.x)');
});

test('a Secret never prints its value', () => {
  const s = new Secret('P@ssw0rd');
  assert.equal(String(s), '[secret]');
  assert.equal(JSON.stringify({ password: s }), '{"password":"[secret]"}');
  assert.doesNotMatch(inspect({ s }), /P@ssw0rd/);
  assert.equal(s.reveal(), 'P@ssw0rd');
});

test('child loggers add their fields to every record', () => {
  const log = memoryLogger();
  log.child({ resource: 'agw' }).log({ level: 'info', msg: 'access', httpStatus: 200 });
  assert.deepEqual(log.records, [{ resource: 'agw', level: 'info', msg: 'access', httpStatus: 200 }]);
});
