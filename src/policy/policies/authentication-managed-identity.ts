/**
 * <authentication-managed-identity resource="" client-id="" output-token-variable-name=""
 * ignore-error=""/> (authentication-managed-identity-policy.md): a token for `resource` from the
 * service's managed identity, set as `Authorization: Bearer …` on the backend request — or, with
 * output-token-variable-name, only stored in that variable (Microsoft's "set the header yourself"
 * example). Tokens are kept until five minutes before they expire.
 *
 * There is no managed identity on a laptop. Gatehouse asks the token endpoint given to `gatehouse
 * up` (PolicyServices.managedIdentity: the App Service protocol that IDENTITY_ENDPOINT and
 * IDENTITY_HEADER describe, which local token services speak) through the service's backend client.
 * Without one, the request fails with a message that says so, or goes on without a token when
 * ignore-error is true.
 */
import type { PolicyDefinition } from '../compile.js';
import { PolicyFailure, type ManagedIdentityEndpoint, type RequestState } from '../runtime.js';
import { HeaderMap } from '../../core/headers.js';
import { parseHostUrl } from '../context.js';

interface Token {
  readonly value: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** Tokens per token endpoint, by resource and client id; a request in flight is shared. */
const tokens = new WeakMap<ManagedIdentityEndpoint, Map<string, Promise<Token>>>();
const EARLY_MS = 5 * 60 * 1000;

function failure(message: string): PolicyFailure {
  return new PolicyFailure({ source: 'authentication-managed-identity', reason: 'ManagedIdentityTokenUnavailable', message, logReason: 'managed_identity_failed' });
}

async function fetchToken(st: RequestState, endpoint: ManagedIdentityEndpoint, resource: string, clientId: string | undefined): Promise<Token> {
  const q = new URLSearchParams({ resource, 'api-version': '2019-08-01', ...(clientId ? { client_id: clientId } : {}) });
  const url = `${endpoint.url}${endpoint.url.includes('?') ? '&' : '?'}${q.toString()}`;
  const r = await st.services.backendClient.send({
    method: 'GET',
    url: parseHostUrl(url),
    headers: new HeaderMap([['X-IDENTITY-HEADER', endpoint.header], ['Accept', 'application/json']]),
    body: undefined,
    timeoutSeconds: 20,
    validateCertificateChain: true,
    validateCertificateName: true,
    followRedirects: false,
  });
  if (r.statusCode !== 200) throw failure(`The managed identity token endpoint answered ${r.statusCode} for resource '${resource}'.`);
  let json: unknown;
  try {
    json = JSON.parse(r.body.toString('utf8'));
  } catch {
    throw failure('The managed identity token endpoint did not answer JSON.');
  }
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const value = o['access_token'];
  if (typeof value !== 'string' || !value) throw failure('The managed identity token endpoint answered no access_token.');
  // expires_on: epoch seconds, as a number or a string of digits; without it, an hour.
  const expiresOn = Number(o['expires_on']);
  const now = st.ctx.now().getTime();
  return { value, expiresAt: Number.isFinite(expiresOn) && expiresOn > 0 ? expiresOn * 1000 : now + 3_600_000 };
}

function tokenFor(st: RequestState, endpoint: ManagedIdentityEndpoint, resource: string, clientId: string | undefined): Promise<Token> {
  let byKey = tokens.get(endpoint);
  if (!byKey) tokens.set(endpoint, (byKey = new Map()));
  const key = `${clientId ?? ''}\n${resource}`;
  const now = st.ctx.now().getTime();
  const held = byKey.get(key);
  if (held) {
    return held.then(
      (t) => (t.expiresAt - EARLY_MS > now ? t : refresh()),
      () => refresh(),
    );
  }
  return refresh();
  function refresh(): Promise<Token> {
    const p = fetchToken(st, endpoint, resource, clientId);
    byKey!.set(key, p);
    // A failure is not kept: the next request asks again.
    p.catch(() => {
      if (byKey!.get(key) === p) byKey!.delete(key);
    });
    return p;
  }
}

/** A token for `resource` from the service's managed identity (the policy, and send-request's child). */
export function managedIdentityToken(st: RequestState, resource: string, clientId: string | undefined): Promise<string> {
  const endpoint = st.services.managedIdentity;
  if (!endpoint) return Promise.reject(failure('No managed identity here: give gatehouse up a token endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER, the App Service managed identity protocol).'));
  return tokenFor(st, endpoint, resource, clientId).then((t) => t.value);
}

export const authenticationManagedIdentity: PolicyDefinition = {
  name: 'authentication-managed-identity',
  sections: ['inbound'],
  attributes: ['resource', 'client-id', 'output-token-variable-name', 'ignore-error'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const resource = cc.string(el, 'resource', { required: true });
    const clientId = cc.literal(el, 'client-id');
    const output = cc.literal(el, 'output-token-variable-name');
    const ignoreError = cc.boolean(el, 'ignore-error', false, { expressions: false }).constantValue ?? false;
    return {
      ...cc.meta(el),
      run(st) {
        if (!resource) return;
        return managedIdentityToken(st, resource.get(st.ctx), clientId).then(
          (token) => {
            if (output !== undefined) st.ctx.variables.set(output, token);
            else st.ctx.request.headers.set('Authorization', `Bearer ${token}`);
          },
          (e: unknown) => {
            if (ignoreError) return;
            throw e instanceof PolicyFailure ? e : failure(`The managed identity token was not obtained: ${e instanceof Error ? e.message : String(e)}`);
          },
        );
      },
    };
  },
};
