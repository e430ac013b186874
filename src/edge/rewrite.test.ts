import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, compileVariable, SERVER_VARIABLE_NAMES } from './rewrite.js';
import { compileHostMatcher, hostOf } from './hosts.js';

test('every documented server variable compiles (spec 3.7 and 2.1)', () => {
  const documented = [
    'add_x_forwarded_for_proxy', 'ciphers_supported', 'ciphers_used', 'client_ip', 'client_port', 'client_tcp_rtt', 'client_user', 'host', 'http_method', 'http_status',
    'http_version', 'query_string', 'received_bytes', 'request_query', 'request_scheme', 'request_uri', 'sent_bytes', 'server_port', 'ssl_connection_protocol', 'ssl_enabled', 'uri_path',
    'client_certificate', 'client_certificate_end_date', 'client_certificate_fingerprint', 'client_certificate_issuer', 'client_certificate_serial', 'client_certificate_start_date',
    'client_certificate_subject', 'client_certificate_verification',
  ];
  for (const v of documented) assert.ok(compileVariable(`var_${v}`), v);
  assert.deepEqual([...SERVER_VARIABLE_NAMES].sort(), [...documented].sort());
  assert.ok(compileVariable('var_cookie_session'));
  assert.equal(compileVariable('var_nope'), undefined);
});

test('templates: literals, variables, captures; unknown variables are reported', () => {
  const problems: string[] = [];
  const t = compileTemplate('a={var_uri_path_1}&ua={http_req_User-Agent_2}&h={http_resp_Location}&x={var_host}', problems);
  assert.deepEqual(problems, []);
  assert.equal(t.length, 8);
  assert.deepEqual(t.filter((p) => typeof p === 'string'), ['a=', '&ua=', '&h=', '&x=']);
  assert.equal((t[1] as { capture: string; index: number }).capture, 'var_uri_path');
  assert.equal((t[1] as { capture: string; index: number }).index, 1);
  assert.equal((t[3] as { capture: string }).capture, 'http_req_User-Agent');
  compileTemplate('{var_client_certificat}', problems);
  assert.deepEqual(problems, ["unknown server variable 'var_client_certificat' in '{var_client_certificat}'"]);
});

test('host names: exact, * and ?, case-insensitive; Host header forms', () => {
  const m = compileHostMatcher(['api.contoso.com', '*.b.example', 'b?.example']);
  assert.equal(m('api.contoso.com'), true);
  assert.equal(m('x.y.b.example'), true);
  assert.equal(m('b.example'), false);
  assert.equal(m('b1.example'), true);
  assert.equal(m('b12.example'), false);
  assert.equal(compileHostMatcher([])('anything'), true);
  assert.equal(hostOf('Api.Contoso.com:8443'), 'api.contoso.com');
  assert.equal(hostOf('[::1]:443'), '[::1]');
  assert.equal(hostOf('example.com.'), 'example.com');
  assert.equal(hostOf(undefined), '');
});
