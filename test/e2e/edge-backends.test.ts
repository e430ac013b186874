/**
 * Issue 3 items 4 and 6: backend pools (ipAddress, fqdn), round-robin over healthy members,
 * custom and default probes, 502 when nothing is healthy, 504 after a timeout and one retry on
 * another member, path override, urlPathMaps, redirects, the access log's Azure field names.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { memoryLogger } from '../../src/core/logger.js';
import { MutableAddressBook } from '../../src/model/network.js';
import { parseCertificates } from '../../src/pki/index.js';
import { DiagnosticBag } from '../../src/core/diagnostics.js';
import { adaptApplicationGateway } from '../../src/config/resources/applicationGateway.js';
import { startApplicationGateway, type RunningEdge } from '../../src/edge/index.js';
import { APIM_HOST, PFX_PASSWORD, gatewayResource, listener, makeTestPki, ref, request, startBackend, type Backend, type TestPki } from './edge-support.js';
import { accessRecordFor, accessRecords } from '../helpers/logs.js';

const BAD_GATEWAY = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n';
const GATEWAY_TIMEOUT = '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\r\n</body>\r\n</html>\r\n';

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('backends, probes, path maps, redirects', () => {
  let pki: TestPki;
  let a: Backend, b: Backend, c: Backend, d: Backend, e: Backend;
  let edge: RunningEdge;
  let port: number;
  let ca: string;
  let bFails = false;
  const eProbes: string[] = [];
  const logger = memoryLogger();

  before(async () => {
    pki = await makeTestPki();
    ca = pki.frontendCa.certPem;
    const probeAnswer = (fail: () => boolean) => (req: { url?: string }) => (req.url === '/status-0123456789abcdef' ? (fail() ? { status: 500, body: 'sick' } : { status: 200, body: 'I am healthy' }) : undefined);
    a = await startBackend(pki, { name: 'A', respond: probeAnswer(() => false) });
    b = await startBackend(pki, { name: 'B', respond: probeAnswer(() => bFails) });
    c = await startBackend(pki, { name: 'C', delayMs: 1500, respond: probeAnswer(() => false) });
    d = await startBackend(pki, { name: 'D', delayMs: 1500, respond: probeAnswer(() => false) });
    e = await startBackend(pki, {
      name: 'E',
      plain: true,
      statusPath: '/',
      respond: (req) => {
        if (req.url === '/') eProbes.push(String(req.headers.host));
        return undefined;
      },
    });
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));

    const probe = (name: string) => ({ name, properties: { pickHostNameFromBackendHttpSettings: true, interval: 1, timeout: 5, path: '/status-0123456789abcdef', protocol: 'Https', unhealthyThreshold: 1, match: { statusCodes: ['200-299'], body: 'healthy' } } });
    const settings = (name: string, extra: Record<string, unknown> = {}) => ({ name, properties: { port: 443, protocol: 'Https', hostName: APIM_HOST, requestTimeout: 20, probe: ref('probes', 'probe'), ...extra } });
    const rule = (name: string, l: string, priority: number, extra: Record<string, unknown>) => ({ name, properties: { priority, ruleType: 'Basic', httpListener: ref('httpListeners', l), ...extra } });
    const backendOf = (pool: string, s: string) => ({ backendAddressPool: ref('backendAddressPools', pool), backendHttpSettings: ref('backendHttpSettingsCollection', s) });
    const resource = gatewayResource({
      frontendIPConfigurations: [{ name: 'fip', properties: {} }],
      frontendPorts: [{ name: 'p443', properties: { port: 443 } }],
      sslCertificates: [{ name: 'cert', properties: { data: pki.frontendPfx, password: PFX_PASSWORD } }],
      httpListeners: ['main', 'dead', 'slow', 'paths', 'fqdn', 'redirect', 'sticky', 'min'].map((n) => listener(`l-${n}`, 'p443', { hostName: `${n}.example` })),
      backendAddressPools: [
        { name: 'pool', properties: { backendAddresses: [{ ipAddress: '10.0.1.4' }, { ipAddress: '10.0.1.5' }] } },
        { name: 'deadpool', properties: { backendAddresses: [{ ipAddress: '10.0.9.9' }] } },
        { name: 'slowpool', properties: { backendAddresses: [{ ipAddress: '10.0.2.1' }, { ipAddress: '10.0.2.2' }] } },
        { name: 'fqdnpool', properties: { backendAddresses: [{ fqdn: 'api.internal.example' }] } },
      ],
      probes: [probe('probe'), { ...probe('probe-min'), properties: { ...probe('probe-min').properties, minServers: 1 } }],
      backendHttpSettingsCollection: [
        settings('settings'),
        settings('slow-settings', { requestTimeout: 1 }),
        settings('override-settings', { path: '/override/' }),
        settings('sticky-settings', { cookieBasedAffinity: 'Enabled' }),
        settings('min-settings', { probe: ref('probes', 'probe-min') }),
        { name: 'fqdn-settings', properties: { port: 80, protocol: 'Http', pickHostNameFromBackendAddress: true, requestTimeout: 5 } },
      ],
      urlPathMaps: [
        {
          name: 'paths',
          properties: {
            ...{ defaultBackendAddressPool: ref('backendAddressPools', 'pool'), defaultBackendHttpSettings: ref('backendHttpSettingsCollection', 'settings') },
            pathRules: [
              { name: 'api', properties: { paths: ['/api/*'], ...backendOf('pool', 'override-settings') } },
              { name: 'images', properties: { paths: ['/images*'], redirectConfiguration: ref('redirectConfigurations', 'to-cdn') } },
              { name: 'exact', properties: { paths: ['/exact'], ...backendOf('pool', 'override-settings') } },
            ],
          },
        },
      ],
      redirectConfigurations: [
        { name: 'to-cdn', properties: { redirectType: 'Found', targetUrl: 'https://cdn.example/img', includeQueryString: true } },
        { name: 'to-main', properties: { redirectType: 'Permanent', targetListener: ref('httpListeners', 'l-main'), includePath: true, includeQueryString: true } },
      ],
      requestRoutingRules: [
        rule('r-main', 'l-main', 10, backendOf('pool', 'settings')),
        rule('r-dead', 'l-dead', 20, backendOf('deadpool', 'settings')),
        rule('r-slow', 'l-slow', 30, backendOf('slowpool', 'slow-settings')),
        { name: 'r-paths', properties: { priority: 40, ruleType: 'PathBasedRouting', httpListener: ref('httpListeners', 'l-paths'), urlPathMap: ref('urlPathMaps', 'paths') } },
        rule('r-fqdn', 'l-fqdn', 50, backendOf('fqdnpool', 'fqdn-settings')),
        rule('r-redirect', 'l-redirect', 60, { redirectConfiguration: ref('redirectConfigurations', 'to-main') }),
        rule('r-sticky', 'l-sticky', 70, backendOf('pool', 'sticky-settings')),
        rule('r-min', 'l-min', 80, backendOf('deadpool', 'min-settings')),
      ],
    });
    const diagnostics = new DiagnosticBag();
    const model = adaptApplicationGateway(resource, { resources: [resource], diagnostics });
    assert.deepEqual(diagnostics.errors, []);
    const book = new MutableAddressBook();
    book.set('10.0.1.4', 443, { host: '127.0.0.1', port: a.port });
    book.set('10.0.1.5', 443, { host: '127.0.0.1', port: b.port });
    book.set('10.0.9.9', 443, { host: '127.0.0.1', port: deadPort });
    book.set('10.0.2.1', 443, { host: '127.0.0.1', port: c.port });
    book.set('10.0.2.2', 443, { host: '127.0.0.1', port: d.port });
    book.set('api.internal.example', 80, { host: '127.0.0.1', port: e.port });
    edge = await startApplicationGateway(model!, { portMap: new Map([[443, 0]]), addressBook: book, extraTrustedRoots: parseCertificates(pki.platformCa.certPem, { origin: 'platform' }), logger });
    port = edge.listeners[0]!.localPort;
  });
  after(async () => {
    await edge?.close();
    for (const x of [a, b, c, d, e]) await x?.close();
  });

  const get = (host: string, path = '/') => request({ port, ca, servername: 'x.example', host, path, insecure: true });

  test('probes ran before start: healthy members healthy, the dead one not', () => {
    const h = Object.fromEntries(edge.health().map((x) => [`${x.pool}/${x.address}`, x.healthy]));
    assert.equal(h['pool/10.0.1.4'], true);
    assert.equal(h['pool/10.0.1.5'], true);
    assert.equal(h['deadpool/10.0.9.9'], false);
    assert.equal(h['fqdnpool/api.internal.example'], true);
  });

  test('round-robin over the healthy members', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(String((await get('main.example')).headers['x-backend']));
    assert.equal(seen.filter((x) => x === 'A').length, 3);
    assert.equal(seen.filter((x) => x === 'B').length, 3);
  });

  test('a member whose probe fails (status or body) leaves the rotation, and comes back after one good probe', async () => {
    bFails = true;
    try {
      await until(() => edge.health().some((x) => x.address === '10.0.1.5' && !x.healthy), 5000);
      for (let i = 0; i < 4; i++) assert.equal((await get('main.example')).headers['x-backend'], 'A');
    } finally {
      bFails = false;
    }
    await until(() => edge.health().every((x) => x.address !== '10.0.1.5' || x.healthy), 5000);
  });

  test('cookie-based affinity: ApplicationGatewayAffinity (+CORS) set once, then the same member every time', async () => {
    const first = await get('sticky.example');
    const cookies = first.headers['set-cookie']!;
    assert.equal(cookies.length, 2);
    assert.match(cookies[0]!, /^ApplicationGatewayAffinity=[0-9a-f]{64}; Path=\/$/);
    assert.match(cookies[1]!, /^ApplicationGatewayAffinityCORS=[0-9a-f]{64}; Path=\/; SameSite=None; Secure$/);
    const cookie = cookies[0]!.split(';')[0]!;
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await request({ port, ca, servername: 'x.example', host: 'sticky.example', insecure: true, headers: { Cookie: cookie } });
      seen.add(String(r.headers['x-backend']));
      assert.equal(r.headers['set-cookie'], undefined);
    }
    assert.deepEqual([...seen], [String(first.headers['x-backend'])]);
    // Without the cookie: round-robin again.
    const spread = new Set<string>();
    for (let i = 0; i < 4; i++) spread.add(String((await get('sticky.example')).headers['x-backend']));
    assert.equal(spread.size, 2);
  });

  test('no healthy member → 502 with the gateway page; the access log says why', async () => {
    const r = await get('dead.example');
    assert.equal(r.status, 502);
    assert.equal(r.headers.server, 'Microsoft-Azure-Application-Gateway/v2');
    assert.equal(r.body, BAD_GATEWAY);
    const rec = logger.records.filter((x) => x.msg === 'access').at(-1)!;
    assert.equal(rec.reason, 'backend_unhealthy');
    assert.equal(rec.backendPoolName, 'deadpool');
  });

  test('probe minServers 1: the unhealthy member is still tried (so the answer is the connection failure, 502 backend_error)', async () => {
    const r = await get('min.example');
    assert.equal(r.status, 502);
    assert.equal(r.body, BAD_GATEWAY);
    const rec = logger.records.filter((x) => x.msg === 'access').at(-1)!;
    assert.equal(rec.reason, 'backend_error');
    assert.equal(rec.serverRouted, '10.0.9.9:443');
  });

  test('a backend slower than requestTimeout: one retry on the other member, then 504', async () => {
    const before = c.requests.length + d.requests.length;
    const t0 = Date.now();
    const r = await get('slow.example', '/slow');
    const took = Date.now() - t0;
    assert.equal(r.status, 504);
    assert.equal(r.body, GATEWAY_TIMEOUT);
    assert.ok(took >= 1900 && took < 6000, `took ${took} ms`);
    await until(() => c.requests.length + d.requests.length === before + 2, 3000);
    assert.equal(c.requests.at(-1)!.url, '/slow');
    assert.equal(d.requests.at(-1)!.url, '/slow');
  });

  test('path-based routing: first match, case-insensitive, with the settings path override', async () => {
    await get('paths.example', '/api/users?id=1');
    const urls = () => [...a.requests, ...b.requests].map((r) => r.url);
    assert.ok(urls().includes('/override/users?id=1'), JSON.stringify(urls()));
    await get('paths.example', '/API/Orders');
    assert.ok(urls().includes('/override/Orders'));
    await get('paths.example', '/exact');
    assert.ok(urls().includes('/override/'));
    await get('paths.example', '/other/thing');
    assert.ok(urls().includes('/other/thing'));
  });

  test('path rules match the normalised path: encoded letters, dot segments and doubled slashes cannot step around /api/*', async () => {
    const urls = () => [...a.requests, ...b.requests].map((r) => r.url);
    for (const [sent, expected] of [
      ['/%61pi/encoded', '/override/encoded'],
      ['/x/../api/dotted', '/override/dotted'],
      ['//api/doubled', '/override/doubled'],
      ['/api/./here?q=1', '/override/here?q=1'],
    ] as const) {
      const r = await get('paths.example', sent);
      assert.equal(r.status, 200, sent);
      assert.ok(urls().includes(expected), `${sent}: ${JSON.stringify(urls().slice(-3))}`);
    }
    // An encoded slash is not a path separator: it stays as sent and does not match /api/*.
    await get('paths.example', '/api%2Fslash');
    assert.ok(urls().includes('/api%2Fslash'), JSON.stringify(urls().slice(-3)));
  });

  test('a path rule with a redirect: 302 to the target URL with the query string', async () => {
    const r = await get('paths.example', '/images/cat.png?size=2');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'https://cdn.example/img?size=2');
    assert.equal(r.headers.server, 'Microsoft-Azure-Application-Gateway/v2');
  });

  test('a Basic rule redirecting to a listener: 301 with path and query', async () => {
    const r = await get('redirect.example', '/some/where?q=1');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://main.example/some/where?q=1');
  });

  test('fqdn member with pickHostNameFromBackendAddress over Http; the default probe asked / with that host', async () => {
    const r = await get('fqdn.example', '/f');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-backend'], 'E');
    assert.deepEqual(e.header('host'), ['api.internal.example']);
    assert.ok(eProbes.includes('api.internal.example'));
  });

  test('access log: one JSON record per request with ApplicationGatewayAccessLog field names', async () => {
    await get('main.example', '/logged?x=1');
    const rec = await accessRecordFor(logger, (x) => x.originalRequestUriWithArgs === '/logged?x=1');
    assert.equal(accessRecords(logger).filter((x) => x.originalRequestUriWithArgs === '/logged?x=1').length, 1, 'one record per request');
    for (const f of ['instanceId', 'clientIP', 'clientPort', 'httpMethod', 'requestUri', 'originalRequestUriWithArgs', 'userAgent', 'httpStatus', 'httpVersion', 'receivedBytes', 'sentBytes', 'timeTaken', 'transactionId', 'sslEnabled', 'sslCipher', 'sslProtocol', 'sslClientVerify', 'sslClientCertificateFingerprint', 'sslClientCertificateIssuerName', 'serverRouted', 'serverStatus', 'serverResponseLatency', 'originalHost', 'host', 'listenerName', 'ruleName', 'backendPoolName', 'backendSettingName']) {
      assert.ok(f in rec, `missing ${f}`);
    }
    assert.equal(rec.httpStatus, 200);
    assert.equal(rec.requestUri, '/logged?x=1');
    assert.equal(rec.sslEnabled, 'on');
    assert.match(String(rec.serverRouted), /^10\.0\.1\.[45]:443$/);
    assert.equal(rec.serverStatus, '200');
    assert.equal(rec.reason, undefined);
    assert.match(String(rec.transactionId), /^[0-9a-f]{32}$/);
    assert.ok(Number(rec.receivedBytes) > 0 && Number(rec.receivedBytes) < 10_000, String(rec.receivedBytes));
    assert.ok(Number(rec.sentBytes) > 0 && Number(rec.sentBytes) < 10_000, String(rec.sentBytes));
  });
});

describe('HTTPS backends: whose certificate the gateway trusts', () => {
  const start = async (pki: TestPki, backend: Backend, opts: { uploadRoot?: boolean; extra?: boolean; hostName?: string; validateSNI?: boolean }) => {
    const resource = gatewayResource({
      frontendIPConfigurations: [{ name: 'fip', properties: {} }],
      frontendPorts: [{ name: 'p443', properties: { port: 443 } }],
      sslCertificates: [{ name: 'cert', properties: { data: pki.frontendPfx, password: PFX_PASSWORD } }],
      httpListeners: [listener('l', 'p443')],
      backendAddressPools: [{ name: 'pool', properties: { backendAddresses: [{ ipAddress: '10.0.1.4' }] } }],
      ...(opts.uploadRoot ? { trustedRootCertificates: [{ name: 'platform', properties: { data: pki.platformCa.certPem } }] } : {}),
      backendHttpSettingsCollection: [
        {
          name: 's',
          properties: {
            port: 443,
            protocol: 'Https',
            hostName: opts.hostName ?? APIM_HOST,
            ...(opts.validateSNI === false ? { validateSNI: false } : {}),
            ...(opts.uploadRoot ? { trustedRootCertificates: [ref('trustedRootCertificates', 'platform')] } : {}),
          },
        },
      ],
      requestRoutingRules: [{ name: 'r', properties: { priority: 1, ruleType: 'Basic', httpListener: ref('httpListeners', 'l'), backendAddressPool: ref('backendAddressPools', 'pool'), backendHttpSettings: ref('backendHttpSettingsCollection', 's') } }],
    });
    const model = adaptApplicationGateway(resource, { resources: [resource], diagnostics: new DiagnosticBag() })!;
    const book = new MutableAddressBook();
    book.set('10.0.1.4', 443, { host: '127.0.0.1', port: backend.port });
    return startApplicationGateway(model, { portMap: new Map([[443, 0]]), addressBook: book, ...(opts.extra ? { extraTrustedRoots: parseCertificates(pki.platformCa.certPem, { origin: 'platform' }) } : {}) });
  };

  let pki: TestPki;
  let backend: Backend;
  before(async () => {
    pki = await makeTestPki();
    // The default probe asks for '/' with the settings host; the backend answers 200.
    backend = await startBackend(pki, { statusPath: '/' });
  });
  after(async () => {
    await backend?.close();
  });

  const cases: [string, Parameters<typeof start>[2], number][] = [
    ['no trusted root for the backend CA → unhealthy → 502', {}, 502],
    ['the backend CA uploaded as trustedRootCertificates → 200', { uploadRoot: true }, 200],
    ['the backend CA as Gatehouse platform CA (extraTrustedRoots) → 200', { extra: true }, 200],
    ['settings hostName not in the backend certificate → 502', { extra: true, hostName: 'other.azure-api.net' }, 502],
    ['… unless validateSNI is false → 200', { extra: true, hostName: 'other.azure-api.net', validateSNI: false }, 200],
  ];
  for (const [name, opts, status] of cases) {
    test(name, async () => {
      const edge = await start(pki, backend, opts);
      try {
        const r = await request({ port: edge.listeners[0]!.localPort, ca: pki.frontendCa.certPem, path: '/x' });
        assert.equal(r.status, status);
      } finally {
        await edge.close();
      }
    });
  }
});
