/**
 * A HostContext built by hand, for tests of expressions and of anything that evaluates them
 * (the policy pipeline's unit tests may use it too).
 */
import { HeaderMap } from '../core/headers.js';
import type { Certificate } from '../pki/index.js';
import type { HostContext, HostUrl } from './host.js';

export interface TestHostOptions {
  method?: string;
  url?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  certificate?: Certificate;
  certificates?: Record<string, Certificate>;
  trustedRoots?: Certificate[];
  intermediates?: Certificate[];
  certificateCache?: { fromDer(der: Uint8Array): Certificate };
  variables?: Record<string, unknown>;
  matchedParameters?: Record<string, string>;
  now?: Date;
  ipAddress?: string;
  region?: string;
  serviceName?: string;
  response?: { statusCode?: number; statusReason?: string; headers?: Record<string, string | string[]>; body?: string };
  api?: HostContext['api'];
  operation?: HostContext['operation'];
  product?: HostContext['product'];
  subscription?: HostContext['subscription'];
  user?: HostContext['user'];
  lastError?: HostContext['lastError'];
  requestId?: string;
}

export function parseHostUrl(url: string): HostUrl {
  const u = new URL(url);
  const scheme = u.protocol.replace(/:$/, '');
  return {
    scheme,
    host: u.hostname,
    port: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80,
    path: u.pathname,
    query: [...u.searchParams.entries()],
  };
}

export function makeTestHost(o: TestHostOptions = {}): HostContext & { traces: string[] } {
  const url = parseHostUrl(o.url ?? 'https://apim-sample.dev/client-cert/validate-from-agw');
  const traces: string[] = [];
  const now = o.now ?? new Date('2025-06-01T12:00:00Z');
  const body = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body, 'utf8');
  return {
    traces,
    request: {
      method: o.method ?? 'GET',
      url,
      originalUrl: { ...url, query: [...url.query] },
      headers: new HeaderMap(Object.entries(o.headers ?? {})),
      body: { bytes: body },
      ipAddress: o.ipAddress ?? '127.0.0.1',
      certificate: o.certificate,
      matchedParameters: new Map(Object.entries(o.matchedParameters ?? {})),
    },
    response: {
      statusCode: o.response?.statusCode ?? 200,
      statusReason: o.response?.statusReason ?? 'OK',
      headers: new HeaderMap(Object.entries(o.response?.headers ?? {})),
      body: { bytes: o.response?.body === undefined ? undefined : Buffer.from(o.response.body, 'utf8') },
    },
    variables: new Map(Object.entries(o.variables ?? {})),
    deployment: {
      region: o.region ?? 'West Europe',
      serviceName: o.serviceName ?? 'apim-sample',
      serviceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim-sample',
      gatewayId: 'managed',
      certificates: new Map(Object.entries(o.certificates ?? {})),
      trustedRoots: o.trustedRoots ?? [],
      intermediates: o.intermediates ?? [],
      ...(o.certificateCache ? { certificateCache: o.certificateCache } : {}),
    },
    api: o.api,
    operation: o.operation,
    product: o.product,
    subscription: o.subscription,
    user: o.user,
    lastError: o.lastError,
    requestId: o.requestId ?? '6a1f0c5e-4d7b-4f3a-9a51-1c2d3e4f5a6b',
    timestamp: now,
    elapsedMs: () => 12,
    tracing: false,
    trace: (source, message) => void traces.push(`${source}: ${message}`),
    now: () => now,
  };
}
