/**
 * The policy-snippets corpus (../shared/corpus/policy-snippets, 435 expressions from 59 files):
 * every expression that is valid C# compiles; the ones that are not are listed with the reason; and
 * the expressions of 30+ policies run against test HostContexts with asserted results.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeaderMap } from '../../src/core/headers.js';
import { SourceFile } from '../../src/core/source.js';
import { compileExpression, ExpressionError, ResponseObject, toPolicyString, type CompiledExpression } from '../../src/expr/index.js';
import { makeTestHost, type TestHostOptions } from '../../src/expr/testing.js';

const corpusDir = join(import.meta.dirname, '../../../shared/corpus/policy-snippets');

interface CorpusExpression {
  line: number;
  kind: 'single' | 'multi';
  code: string;
  file: string;
  element: string;
}

const corpus: CorpusExpression[] = readFileSync(join(corpusDir, 'expressions.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as CorpusExpression);

/**
 * Named values are substituted in the policy text before expressions compile (as API Management
 * does). The corpus uses them inside string literals ("{{clientId}}") and as numbers
 * (AddSeconds({{SessionCookieExpirationInSeconds}}), var key = {{TokenEncryptionKey}}).
 */
/** Named values with a meaning in the corpus (encryption keys are base64 of 32 bytes; key selectors are numbers). */
const NAMED_VALUES: Record<string, string> = {
  TokenEncryptionKey1: Buffer.alloc(32, 1).toString('base64'),
  TokenEncryptionKey2: Buffer.alloc(32, 2).toString('base64'),
  CookieEncryptionKey1: Buffer.alloc(32, 3).toString('base64'),
  CookieEncryptionKey2: Buffer.alloc(32, 4).toString('base64'),
  TokenEncryptionKey: '1',
  CookieEncryptionKey: '2',
};

function substituteNamedValues(code: string): string {
  let out = '';
  let inString: false | 'regular' | 'verbatim' = false;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    const m = /^\{\{([\w-]+)\}\}/.exec(code.slice(i, i + 200));
    if (m) {
      out += NAMED_VALUES[m[1]!] ?? (inString ? `nv-${m[1]}` : '100');
      i += m[0].length - 1;
      continue;
    }
    out += c;
    if (inString === 'regular') {
      if (c === '\\') out += code[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (inString === 'verbatim') {
      if (c === '"' && code[i + 1] === '"') out += code[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') inString = code[i - 1] === '@' ? 'verbatim' : 'regular';
    else if (c === "'" ) {
      // char literal: copy through the closing quote
      const end = code.indexOf("'", i + (code[i + 1] === '\\' ? 3 : 2));
      if (end > i) {
        out += code.slice(i + 1, end + 1);
        i = end;
      }
    } else if (c === '/' && code[i + 1] === '/') {
      const end = code.indexOf('\n', i);
      const stop = end < 0 ? code.length : end;
      out += code.slice(i + 1, stop);
      i = stop - 1;
    }
  }
  return out;
}

function sourceOf(e: CorpusExpression): string {
  const code = substituteNamedValues(e.code);
  return e.kind === 'single' ? `@(${code})` : `@{${code}}`;
}

function compile(e: CorpusExpression) {
  const text = sourceOf(e);
  return compileExpression(text, { file: new SourceFile(e.file, text), offset: 0 });
}

/** Expressions of the corpus that are not valid C#, or not valid in API Management, and why. */
const INVALID: { file: string; match: string; code: string; reason: string }[] = [
  ...['latlong=', 'response=', 'GetValueOrDefault("latlong=', '[\"latlong='].map((m) => ({ file: 'Call out to an HTTP endpoint and cache the response.policy.xml', match: m, code: 'GH_EXPR_SYNTAX', reason: 'corrupted string literals ("latlong=""")' })),
  { file: 'Loopback request for service at same API Management service.xml', match: 'Ocp-Apim-Subscription-Key=', code: 'GH_EXPR_SYNTAX', reason: 'corrupted string literals' },
  { file: 'Pre-authorize requests based on HTTP method with validate-jwt.policy.xml', match: 'patch=', code: 'GH_EXPR_SYNTAX', reason: 'corrupted string literals' },
  { file: 'Pre-authorize requests based on HTTP method with validate-jwt.policy.xml', match: 'post=', code: 'GH_EXPR_SYNTAX', reason: 'corrupted string literals' },
  ...['DELETE a from to blobStorage account.xml', 'GET a file from blobStorage account.xml', 'PUT a file to blobStorage account.xml'].map((file) => ({ file, match: 'MatchedParameters("blobContainer")', code: 'GH_EXPR_SYNTAX', reason: 'invokes the MatchedParameters dictionary like a method (CS1955)' })),
  { file: 'Extract value from XML.xml', match: 'XmlReader', code: 'GH_EXPR_TYPE_NOT_ALLOWED', reason: 'System.Xml.XmlReader is not on the allow-list' },
  { file: 'Return a blob URL signed with a user delegation SAS token.xml', match: 'XmlDocument', code: 'GH_EXPR_TYPE_NOT_ALLOWED', reason: 'System.Xml.XmlDocument is not on the allow-list' },
  { file: 'Get OAuth2 access token from AAD using client id and certificate using key vault manage identity.xml', match: 'RSACng', code: 'GH_EXPR_TYPE_NOT_ALLOWED', reason: 'RSACng is not on the allow-list' },
];

function isExpectedInvalid(e: CorpusExpression): (typeof INVALID)[number] | undefined {
  return INVALID.find((x) => e.file.endsWith(x.file) && e.code.includes(x.match));
}

test('corpus: every expression that is valid C# compiles; the others fail with the expected diagnostic', () => {
  assert.equal(corpus.length, 435);
  assert.equal(new Set(corpus.map((e) => e.file)).size, 58);
  let compiled = 0;
  const unexpected: string[] = [];
  for (const e of corpus) {
    const r = compile(e);
    const expected = isExpectedInvalid(e);
    if (r.expression) {
      compiled++;
      if (expected) unexpected.push(`${e.file}:${e.line} compiled but is listed as invalid (${expected.reason})`);
    } else if (!expected) {
      unexpected.push(`${e.file}:${e.line}: ${r.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('; ')}`);
    } else {
      assert.equal(r.diagnostics[0]!.code, expected.code, `${e.file}:${e.line}`);
      assert.ok(r.diagnostics[0]!.line !== undefined && r.diagnostics[0]!.column !== undefined);
    }
  }
  assert.deepEqual(unexpected, []);
  assert.equal(compiled, 422);
});

test('corpus: diagnostics point at the offending token inside the policy file', () => {
  const e = corpus.find((x) => x.file.endsWith('Extract value from XML.xml'))!;
  const r = compile(e);
  const d = r.diagnostics[0]!;
  assert.equal(d.code, 'GH_EXPR_TYPE_NOT_ALLOWED');
  assert.match(d.message, /'XmlReader'/);
  assert.equal(d.sourceLine!.slice(d.column! - 1, d.column! - 1 + 'XmlReader'.length), 'XmlReader');
});

// ───── running the policies' expressions ─────
const compiledCache = new Map<CorpusExpression, CompiledExpression>();

/** The n-th expression of a file whose code contains `match`. */
function expr(file: string, match: string, n = 0): CompiledExpression {
  const found = corpus.filter((e) => e.file.endsWith(file) && e.code.includes(match));
  const e = found[n];
  assert.ok(e, `no expression with ${JSON.stringify(match)} in ${file}`);
  let c = compiledCache.get(e);
  if (!c) {
    const r = compile(e);
    assert.deepEqual(r.diagnostics, [], `${file}: ${match}`);
    c = r.expression!;
    compiledCache.set(e, c);
  }
  return c;
}

function run(file: string, match: string, host: TestHostOptions = {}, n = 0): unknown {
  return expr(file, match, n).evaluate(makeTestHost(host));
}

function response(status: number, body: string | undefined, headers: Record<string, string | string[]> = {}): ResponseObject {
  return new ResponseObject(status, status === 200 ? 'OK' : 'Status', new HeaderMap(Object.entries(headers)), { bytes: body === undefined ? undefined : Buffer.from(body) });
}

const NOW = new Date('2025-06-01T12:00:00Z');
const policies = new Set<string>();
function policy(file: string, fn: () => void): void {
  policies.add(file);
  test(`corpus run: ${file}`, fn);
}

policy('Add correlation id to inbound request.policy.xml', () => {
  const v = run('Add correlation id to inbound request.policy.xml', 'guidBinary');
  assert.match(v as string, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});

policy('Authenticate using Managed Identity to access Event Hub.xml', () => {
  assert.equal(run('Authenticate using Managed Identity to access Event Hub.xml', 'Bearer', { variables: { 'msi-access-token': 'tok' } }), 'Bearer tok');
});

policy('Authenticate using Managed Identity to access Service Bus.xml', () => {
  assert.equal(run('Authenticate using Managed Identity to access Service Bus.xml', 'msi-access-token', { variables: { 'msi-access-token': 'tok' } }), 'tok');
  assert.throws(() => run('Authenticate using Managed Identity to access Service Bus.xml', 'msi-access-token'), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.Collections.Generic.KeyNotFoundException');
});

policy('Authorize requests using external authorizer.policy.xml', () => {
  const f = 'Authorize requests using external authorizer.policy.xml';
  assert.equal(run(f, '!context.Request.Headers.ContainsKey("Authorization")', { headers: { authorization: 'Bearer x' } }), false);
  assert.equal(run(f, '!context.Request.Headers.ContainsKey("Authorization")'), true);
  assert.equal(run(f, 'Bearer realm=', { url: 'https://contoso.azure-api.net/x' }), 'Bearer realm=contoso.azure-api.net');
  assert.equal(run(f, 'Body.As<JObject>()["status"]', { variables: { response: response(200, '{"status":"403"}') } }), '403');
  assert.equal(run(f, '== "403"', { variables: { status: '403' } }), true);
});

policy('Back-end API redundancy.policy.xml', () => {
  const f = 'Back-end API redundancy.policy.xml';
  assert.equal(run(f, '"east us"', { region: 'East US' }), true);
  assert.equal(run(f, '"west europe"', { region: 'East US' }), false);
  assert.equal(run(f, 'is-eus-down', { variables: { 'is-eus-down': true } }), true);
  assert.equal(run(f, 'is-eus-down'), false);
  assert.equal(run(f, 'context.Response != null', { response: { statusCode: 404 } }), true);
  assert.equal(run(f, 'hello-eus.azurewebsites.net', { url: 'https://hello-eus.azurewebsites.net/api' }), true);
});

policy('Backend OAuth2 Authentication With Cache.policy.xml', () => {
  const f = 'Backend OAuth2 Authentication With Cache.policy.xml';
  const token = run(f, 'accessTokenResult', { variables: { accessTokenResult: response(200, '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAi"}') } });
  assert.equal(run(f, '["access_token"]', { variables: { accessToken: token } }), 'eyJ0eXAi');
  assert.equal(run(f, '["expires_in"]', { variables: { accessToken: token } }), 3599);
  assert.equal(run(f, '"Bearer " +', { variables: { bearerToken: 'eyJ0eXAi' } }), 'Bearer eyJ0eXAi');
  assert.equal(run(f, 'StatusCode == 401', { response: { statusCode: 403 } }), true);
  assert.equal(run(f, 'client_credentials'), 'client_id=nv-clientId&scope=nv-scope&client_secret=nv-clientSecret&grant_type=client_credentials');
  assert.equal(substituteNamedValues('var k = {{Key}}; var s = "{{Key}}"; // {{Key}}'), 'var k = 100; var s = "nv-Key"; // {{Key}}');
});

policy('Backend for Frontend or curated API policy.xml', () => {
  const f = 'Backend for Frontend or curated API policy.xml';
  const v = run(f, 'finalResponse', {
    variables: { operation1: response(200, '{"a":1}'), operation2: response(500, 'oops'), operation3: response(200, 'not json'), operation4: response(200, '[1,2]') },
  });
  const json = JSON.parse(toPolicyString(v)) as { body: { operation: string; status?: number; body?: unknown; error?: unknown }[]; status: number; reason: string };
  assert.equal(json.status, 207);
  assert.equal(json.reason, 'Multi Status');
  assert.deepEqual(json.body.map((b) => b.operation), ['operation1', 'operation2', 'operation3', 'operation4']);
  assert.deepEqual(json.body[0]!.body, { a: 1 });
  assert.equal(json.body[1]!.error, 'oops');
  assert.equal(json.body[2]!.body, 'not json');
  assert.deepEqual(json.body[3]!.body, [1, 2]);
});

policy('Create HMAC SHA256-Signed JWT.policy.xml', () => {
  const v = run('Create HMAC SHA256-Signed JWT.policy.xml', 'HMACSHA256', { now: NOW }) as string;
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(v);
  assert.ok(m, v);
  assert.deepEqual(JSON.parse(Buffer.from(m[1]!, 'base64url').toString()), { typ: 'JWT', alg: 'HS256' });
  assert.deepEqual(JSON.parse(Buffer.from(m[2]!, 'base64url').toString()), { exp: NOW.getTime() / 1000 + 600, username: 'john_doe' });
  const sig = createHmac('sha256', 'nv-hashing-secret').update(`${m[1]}.${m[2]}`).digest('base64url');
  assert.equal(m[3], sig);
});

const KEY = Buffer.alloc(32, 7);
const IV = Buffer.alloc(16, 3);
const aes = (text: string) => {
  const c = createCipheriv('aes-256-cbc', KEY, IV);
  return Buffer.concat([c.update(text, 'utf8'), c.final()]).toString('base64');
};

policy('Decrypt AES Data using policy expressions.xml', () => {
  const f = 'Decrypt AES Data using policy expressions.xml';
  const vars = { IV: IV.toString('base64'), key: KEY.toString('base64') };
  assert.equal(run(f, 'inBytes.Decrypt', { variables: vars, body: JSON.stringify({ encrpText: aes('secret message') }) }), 'secret message');
  assert.equal(run(f, 'inBody', { variables: { plainText: 'p' } }), 'p');
  assert.throws(
    () => run(f, 'inBytes.Decrypt', { variables: { ...vars, key: Buffer.alloc(32, 8).toString('base64') }, body: JSON.stringify({ encrpText: aes('secret message') }) }),
    (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.Security.Cryptography.CryptographicException',
  );
});

policy('Encrypt data using expressions.policy.xml', () => {
  const v = run('Encrypt data using expressions.policy.xml', 'gooberBytes', { variables: { IV: IV.toString('base64'), key: KEY.toString('base64') }, matchedParameters: { Goober: 'hello' } });
  assert.equal(v, aes('hello'));
});

policy('Extracting multiple values from xml documents.policy.xml', () => {
  const f = 'Extracting multiple values from xml documents.policy.xml';
  const xml = '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><r xmlns="urn:x"><conditionValue>yes</conditionValue><value1>1</value1><value2>2</value2><value3>three</value3></r></s:Body></s:Envelope>';
  const v = run(f, 'XDocument.Parse', { variables: { sendRequestResponse: response(200, xml) } });
  assert.equal(toPolicyString(v), '{\r\n  "conditionValue": "yes",\r\n  "value1": "1",\r\n  "value3": "three"\r\n}');
  assert.throws(() => run(f, 'XDocument.Parse', { variables: { sendRequestResponse: response(200, '<unclosed>') } }), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.Xml.XmlException');
});

policy('Filter on IP Address when using Application Gateway.policy.xml', () => {
  const f = 'Filter on IP Address when using Application Gateway.policy.xml';
  assert.equal(run(f, 'HostToNetworkOrder', { headers: { 'X-Forwarded-For': '10.1.2.3:54321' } }), 'nv-ipValidated');
  assert.equal(run(f, 'HostToNetworkOrder', { headers: { 'X-Forwarded-For': '172.20.0.9' } }), 'nv-ipValidated');
  assert.equal(run(f, 'HostToNetworkOrder', { headers: { 'X-Forwarded-For': '8.8.8.8:1' } }), '8.8.8.8');
  assert.equal(run(f, 'HostToNetworkOrder', { headers: { 'X-Forwarded-For': '172.32.0.1' } }), '172.32.0.1');
  assert.equal(run(f, 'HostToNetworkOrder'), '');
  assert.equal(run(f, 'originalXForwardedForValue', { variables: { originalXForwardedForValue: '1.2.3.4' } }), '1.2.3.4');
});

policy('Filter response content based on product name.policy.xml', () => {
  const f = 'Filter response content based on product name.policy.xml';
  const product = { id: 'starter', name: 'Starter', approvalRequired: false, subscriptionRequired: true, state: 'published' as const };
  assert.equal(run(f, 'Starter', { product, response: { statusCode: 200 } }), true);
  assert.throws(() => run(f, 'Starter', { response: { statusCode: 200 } }), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.NullReferenceException' && e.dotNetMessage === 'Object reference not set to an instance of an object.');
  const body = JSON.stringify({ lat: 1.5, current: {}, minutely: [], hourly: [], daily: [], alerts: [] });
  assert.equal(run(f, 'minutely', { response: { body } }), '{\r\n  "lat": 1.5\r\n}');
});

policy('Forward Azure Event Grid Event.xml', () => {
  const f = 'Forward Azure Event Grid Event.xml';
  const events = JSON.stringify([{ id: 'e1', topic: 't', subject: 's', eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', eventTime: '2025-06-01T12:00:00Z', data: { validationCode: 'ABC' }, dataVersion: '1', metadataVersion: '1' }]);
  const request = run(f, 'As<JArray>', { body: events });
  assert.equal(run(f, 'Count != 1', { variables: { Request: request } }), false);
  const event = run(f, '("Request")[0]', { variables: { Request: request } });
  assert.equal(run(f, 'SubscriptionValidationEvent', { variables: { Event: event } }), true);
  assert.equal(run(f, 'validationResponse', { variables: { Event: event } }), '{\r\n  "validationResponse": "ABC"\r\n}');
  assert.equal(run(f, '["id"]', { variables: { Event: event } }), 'e1');
  // Newtonsoft parses ISO date strings into Date tokens; ToString() prints them in the gateway's culture
  assert.equal(run(f, '["eventTime"]', { variables: { Event: event } }), '6/1/2025 12:00:00 PM');
  assert.equal(run(f, '["data"].ToString()', { variables: { Event: event } }), '{\r\n  "validationCode": "ABC"\r\n}');
  assert.throws(() => run(f, 'Count != 1', { variables: { Request: 'not an array' } }), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.InvalidCastException');
});

policy('Forward gateway hostname to backend for generating correct urls in responses.policy.xml', () => {
  assert.equal(run('Forward gateway hostname to backend for generating correct urls in responses.policy.xml', 'proto=', { url: 'https://api.contoso.com/x' }), 'proto=https;host=api.contoso.com;');
});

policy('Generate Azure Relay Token.policy.xml', () => {
  const f = 'Generate Azure Relay Token.policy.xml';
  assert.equal(run(f, 'Url.ToString()', { url: 'https://apim.net:8443/relay/x?a=1' }), 'https://apim.net:8443/relay/x?a=1');
  const resourceUri = 'https://contoso.servicebus.windows.net/hc';
  const v = run(f, 'sinceEpoch', { now: NOW, variables: { resourceUri, accessKey: 'k3y', keyName: 'RootManageSharedAccessKey' } }) as string;
  const expiry = String(NOW.getTime() / 1000 + 3600);
  const sig = createHmac('sha256', 'k3y').update(`${encodeURIComponent(resourceUri)}\n${expiry}`).digest('base64');
  assert.equal(v, `SharedAccessSignature sr=${encodeURIComponent(resourceUri)}&sig=${encodeURIComponent(sig)}&se=${expiry}&skn=RootManageSharedAccessKey`);
});

policy('Generate Shared Access Signature and forward request to Azure storage.policy.xml', () => {
  const f = 'Generate Shared Access Signature and forward request to Azure storage.policy.xml';
  assert.equal(run(f, 'ToString("R")', { now: NOW }), 'Sun, 01 Jun 2025 12:00:00 GMT');
  assert.equal(run(f, 'AddDays(1)', { now: NOW }), '2025-06-02T12:00:00Z');
  assert.equal(run(f, '/table/{0}/{1}', { variables: { storageAccount: 'acct', resourcePath: 'orders' } }), '/table/acct/orders');
  assert.equal(run(f, 'return string.Format("/{0}{1}"', { variables: { resourcePath: 'orders', sasToken: '?sv=1' } }), '/orders?sv=1');
});

policy('Get OAuth2 access token from AAD and forward it to the backend.policy.xml', () => {
  const f = 'Get OAuth2 access token from AAD and forward it to the backend.policy.xml';
  assert.equal(run(f, 'access_token', { variables: { bearerToken: response(200, '{"access_token":"at"}') } }), 'Bearer at');
});

policy('Get X-CSRF token from SAP gateway using send request.policy.xml', () => {
  const f = 'Get X-CSRF token from SAP gateway using send request.policy.xml';
  assert.equal(run(f, 'context.Request.Method != "GET"', { method: 'POST' }), true);
  assert.equal(run(f, 'context.Request.Method != "GET"', { method: 'HEAD' }), false);
  const csrf = response(200, '', { 'x-csrf-token': 'tok123', 'Set-Cookie': ['SAP_SESSIONID_X=abc; path=/', 'sap-XSRF_ABC=xyz; path=/'] });
  assert.equal(run(f, 'StatusCode == 200', { variables: { SAPCSRFToken: csrf } }), true);
  assert.equal(run(f, '.Headers.GetValueOrDefault("x-csrf-token")', { variables: { SAPCSRFToken: csrf } }), 'tok123');
  assert.equal(run(f, 'rawcookie', { variables: { SAPCSRFToken: csrf } }), 'sap-XSRF_ABC=xyz');
  const session = response(200, '', { 'Set-Cookie': ['SAP_SESSIONID_X=abc; path=/', 'other=1; path=/'] });
  // the snippet's own bug: a lone session cookie has no ',' → IndexOutOfRangeException, as on Azure
  assert.throws(() => run(f, 'rawcookie', { variables: { SAPCSRFToken: session } }), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.IndexOutOfRangeException');
});

policy('Handle Power Query access request to custom API.policy.xml', () => {
  const f = 'Handle Power Query access request to custom API.policy.xml';
  assert.equal(run(f, 'Equals("Bearer")', { headers: { Authorization: ' Bearer ' } }), true);
  assert.equal(run(f, 'Equals("Bearer")'), false);
  const api = { id: 'a', name: 'a', path: 'conference', protocols: ['https'], serviceUrl: { scheme: 'https', host: 'backend.net', port: 443, path: '/api', query: [] }, subscriptionKeyParameterNames: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' } };
  assert.equal(run(f, 'context.Api.ServiceUrl.Host', { api }), 'backend.net:443/api');
  assert.equal(run(f, 'context.Api.Path', { api, url: 'https://apim.net/x' }), 'apim.net:443conference');
});

policy('Log errors to Stackify.policy.xml', () => {
  const v = run('Log errors to Stackify.policy.xml', 'ServerName', {
    serviceName: 'contoso-apim',
    lastError: { source: 'forward-request', reason: 'BackendConnectionFailure', message: 'boom', scope: 'api', section: 'backend', path: 'forward-request[1]', policyId: '' },
  });
  const json = JSON.parse(toPolicyString(v)) as Record<string, unknown>;
  assert.equal(json['ServerName'], 'contoso-apim');
  assert.equal(json['Environment'], 'nv-environment-name');
  assert.deepEqual((json['Msgs'] as { Msg: string; SrcMethod: string }[]).map((m) => [m.Msg, m.SrcMethod]), [['boom', 'forward-request']]);
});

policy('Look up Key Vault secret using Managed Service Identity.policy.xml', () => {
  const f = 'Look up Key Vault secret using Managed Service Identity.policy.xml';
  assert.equal(run(f, 'Body.As<string>()', { variables: { keyvaultsecret: response(200, '{"value":"s3cret"}') } }), '{"value":"s3cret"}');
  assert.equal(run(f, '!context.Variables.ContainsKey'), true);
});

policy('Mask async calls as synchronous.policy.xml', () => {
  const f = 'Mask async calls as synchronous.policy.xml';
  assert.equal(run(f, 'StatusCode == 202', { variables: { var: response(202, undefined) } }), true);
  assert.equal(run(f, '["location"][0]', { response: { headers: { Location: 'https://x/status/1' } } }), 'https://x/status/1');
  assert.throws(() => run(f, '["location"][0]'), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.Collections.Generic.KeyNotFoundException');
});

policy('Parse a JWT token using expressions.xml', () => {
  const f = 'Parse a JWT token using expressions.xml';
  const jwt = (payload: object) => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
  const asJwt = compileExpression('@(((string)context.Variables["t"]).AsJwt())', { file: new SourceFile('j', ''), offset: 0 }).expression!;
  const valid = asJwt.evaluate(makeTestHost({ variables: { t: `Bearer ${jwt({ permissions: ['readEmail', 'sendEmail'] })}` } }));
  assert.equal(run(f, 'sendEmail', { variables: { 'valid-jwt': valid } }), true);
  const other = asJwt.evaluate(makeTestHost({ variables: { t: jwt({ permissions: 'readEmail' }) } }));
  assert.equal(run(f, 'sendEmail', { variables: { 'valid-jwt': other } }), false);
});

policy('Perform basic authentication.policy.xml', () => {
  const f = 'Perform basic authentication.policy.xml';
  const basic = (s: string) => ({ headers: { Authorization: `Basic ${Buffer.from(s).toString('base64')}` } });
  assert.equal(run(f, 'AsBasic', basic('nv-UserId:nv-Password')), false);
  assert.equal(run(f, 'AsBasic', basic('someone:else')), true);
  assert.equal(run(f, 'AsBasic', { headers: { Authorization: 'Bearer abc' } }), true);
  assert.equal(run(f, 'AsBasic'), true);
});

policy('Query CosmosDB.policy.xml', () => {
  const f = 'Query CosmosDB.policy.xml';
  assert.equal(run(f, 'ToString("r")', { now: NOW }), 'Sun, 01 Jun 2025 12:00:00 GMT');
  const date = 'Sun, 01 Jun 2025 12:00:00 GMT';
  const sig = createHmac('sha256', Buffer.alloc(0)).update(`post\ndocs\n\n${date.toLowerCase()}\n\n`).digest('base64');
  assert.equal(run(f, 'hmacSha256', { variables: { requestDateString: date } }), encodeURIComponent(`type=master&ver=1.0&sig=${sig}`));
  const user = { id: 'u1', email: 'a@b', firstName: 'A', lastName: 'B', groups: [] };
  assert.equal(run(f, 'SELECT', { user }), '{"query": "SELECT * FROM c WHERE c.id = @id", "parameters": [{ "name": "@id", "value": "u1"}]}');
});

policy('Random load balancer.policy.xml', () => {
  const f = 'Random load balancer.policy.xml';
  for (let i = 0; i < 20; i++) {
    const v = run(f, 'new Random(', { requestId: `00000000-0000-0000-0000-0000000000${String(i).padStart(2, '0')}` });
    assert.ok(v === 1 || v === 2, String(v));
  }
  assert.equal(run(f, '("urlId") == 1', { variables: { urlId: 1 } }), true);
  assert.equal(run(f, '("urlId") == 2', { variables: { urlId: 1 } }), false);
  assert.throws(() => run(f, '("urlId") == 1', { variables: { urlId: '1' } }), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.InvalidCastException');
});

policy('Random load balancer simpler.policy.xml', () => {
  const f = 'Random load balancer simpler.policy.xml';
  // the named value (a traffic-split weight) stands in as 100: Next(1,100) is always below it
  for (let i = 0; i < 10; i++) assert.equal(run(f, 'Next(1,100)'), true);
});

policy('Replay request on error.policy.xml', () => {
  const f = 'Replay request on error.policy.xml';
  const lastError = { source: 'example-policy-name', reason: 'R', message: 'm', scope: 'api', section: 'inbound', path: 'p', policyId: '' };
  assert.equal(run(f, 'example-policy-name', { lastError }), true);
  assert.equal(run(f, '"http://"', { headers: { 'X-Original-Host': 'h', 'X-Original-Url': '/u?x=1' } }), 'http://h/u?x=1');
  assert.equal(run(f, 'context.LastError.Reason', { lastError }), 'R');
  assert.equal(run(f, 'replay-url', { variables: { 'replay-url': 'http://h' } }), 'http://h');
});

policy('Return HTTP 405 if the HTTP Method of the request is not defined.xml', () => {
  const f = 'Return HTTP 405 if the HTTP Method of the request is not defined.xml';
  const lastError = { source: 'configuration', reason: 'OperationNotFound', message: '', scope: '', section: 'inbound', path: '', policyId: '' };
  assert.equal(run(f, 'configuration', { lastError, url: 'https://a/echo/resource-cached' }), true);
  assert.equal(run(f, 'Method not allowed'), '{\r\n  "status": "HTTP 405",\r\n  "message": "Method not allowed"\r\n}');
});

policy('Route requests based on size.policy.xml', () => {
  const f = 'Route requests based on size.policy.xml';
  assert.equal(run(f, 'Content-Length', { headers: { 'Content-Length': '1234' } }), '1234');
  assert.equal(run(f, 'int.Parse', { variables: { bodySize: '1234' } }), true);
  assert.equal(run(f, 'int.Parse', { variables: { bodySize: '300000' } }), false);
  assert.throws(() => run(f, 'int.Parse', { variables: { bodySize: '12kb' } }), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.FormatException' && e.dotNetMessage === "The input string '12kb' was not in a correct format.");
});

policy('Route requests to regional backend instances.xml', () => {
  const f = 'Route requests to regional backend instances.xml';
  assert.equal(run(f, '"West US"', { region: 'west us' }), true);
  assert.equal(run(f, '"East Asia"', { region: 'west us' }), false);
});

policy('Send request context information to the backend service.policy.xml', () => {
  const f = 'Send request context information to the backend service.policy.xml';
  assert.equal(run(f, 'Product.Name', { product: { id: 'p', name: 'Gold', approvalRequired: false, subscriptionRequired: true, state: 'published' } }), 'Gold');
  assert.equal(run(f, 'User.Id', { user: { id: 'u1', email: '', firstName: '', lastName: '', groups: [] } }), 'u1');
  assert.equal(run(f, 'Deployment.Region', { region: 'North Europe' }), 'North Europe');
});

policy('Set cache duration using response cache control header.policy.xml', () => {
  const f = 'Set cache duration using response cache control header.policy.xml';
  assert.equal(run(f, 'max-age', { response: { headers: { 'Cache-Control': 'public, max-age=600' } } }), 600);
  assert.equal(run(f, 'max-age'), 300);
});

policy('Trigger Azure Data Factory Pipeline.policy.xml', () => {
  assert.equal(run('Trigger Azure Data Factory Pipeline.policy.xml', 'managed-identity-token', { variables: { 'managed-identity-token': 'mi' } }), 'Bearer mi');
  assert.equal(run('Trigger Azure Data Factory Pipeline.policy.xml', 'managed-identity-token'), 'Bearer ');
});

policy('Use custom error messages for jwt-validate policy with on-error handler.policy.xml', () => {
  const f = 'Use custom error messages for jwt-validate policy with on-error handler.policy.xml';
  assert.equal(run(f, 'validate-jwt', { lastError: { source: 'validate-jwt', reason: 'TokenExpired', message: '', scope: '', section: 'inbound', path: '', policyId: '' } }), true);
  assert.throws(() => run(f, 'validate-jwt'), (e: unknown) => e instanceof ExpressionError && e.exceptionType === 'System.NullReferenceException');
  assert.equal(run(f, 'StatusCode', { response: { statusCode: 401 } }), 401);
});

policy('oauth-proxy/oauth-proxy-callback.xml + oauth-proxy-session-fragment.xml', () => {
  // the callback encrypts the access token with key set 1; the session fragment decrypts it
  const iv = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const encrypted = run('oauth-proxy/oauth-proxy-callback.xml', 'context.Variables["accessToken"]', { variables: { accessToken: 'eyJ.access.token', ivTokens: iv } }) as string;
  assert.match(encrypted, /^[A-Za-z0-9+/]+=*\.1$/);
  const key = Buffer.alloc(32, 1);
  const c = createCipheriv('aes-256-cbc', key, Buffer.from([0x5b, 0xad, 0x8f, 0x0f, 0xcb, 0xd9, 0x9f, 0x46, 0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x0e]));
  assert.equal(encrypted, `${Buffer.concat([c.update('eyJ.access.token'), c.final()]).toString('base64')}.1`, 'the IV is the Guid in .NET byte order');
  assert.equal(run('oauth-proxy/oauth-proxy-session-fragment.xml', 'tokenParts', { variables: { encryptedAccessToken: encrypted, ivTokens: iv } }), 'eyJ.access.token');
  // a cookie that does not decrypt is caught by the snippet's try/catch
  assert.equal(run('oauth-proxy/oauth-proxy-session-fragment.xml', 'cookieBytes.Decrypt', { variables: { encryptedCookie: Buffer.alloc(32).toString('base64'), ivCookie: iv, cookieKey: '1' } }), '');
});

policy('oauth-proxy/oauth-proxy-token-endpoint-fragment.xml', () => {
  assert.equal(run('oauth-proxy/oauth-proxy-token-endpoint-fragment.xml', 'oauth2'), 'https://login.microsoftonline.com/nv-TenantId/oauth2/v2.0/token');
});

policy('oauth-proxy/oauth-proxy-validate-token-fragment.xml', () => {
  assert.equal(run('oauth-proxy/oauth-proxy-validate-token-fragment.xml', 'accessToken', { variables: { accessToken: 'abc' } }), 'abc');
});

test('corpus run: at least 30 policies run with asserted results', () => {
  assert.ok(policies.size >= 30, `only ${policies.size}`);
});
