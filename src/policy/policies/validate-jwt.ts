/**
 * <validate-jwt header-name="" | query-parameter-name="" | token-value="" failed-validation-httpcode=""
 * failed-validation-error-message="" require-expiration-time="" require-scheme="" require-signed-tokens=""
 * clock-skew="" output-token-variable-name=""> with issuer-signing-keys, audiences, issuers and
 * required-claims (validate-jwt-policy.md). Signatures: HS256/384/512 with base64 keys (written out or
 * given by an expression), RS*, PS* and
 * ES* with keys from certificate entities, an RSA modulus/exponent or `<openid-config url="">` (the
 * key set its discovery document names, fetched through the service's backend client and kept an
 * hour). decryption-keys (JWE) are not run (an error at up, a warning in lint). Failures answer with
 * the policy's code and message and the LastError reasons of the error-handling page.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';
import * as exprApim from '../../expr/runtime/apim.js';
import type { CompileContext, PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';
import { PolicyFailure, type RequestState } from '../runtime.js';
import { HeaderMap } from '../../core/headers.js';
import { parseHostUrl } from '../context.js';

type Key =
  | { kind: 'hmac'; secret: Buffer }
  | { kind: 'public'; key: KeyObject }
  | { kind: 'certificate'; id: string }
  /** A base64 symmetric key given by an expression (`<key>@(…)</key>`), decoded per request (the last value is kept). */
  | { kind: 'expression'; value: PolicyValue<string>; last?: { text: string; secret: Buffer } };

interface Claim {
  name: string;
  match: 'all' | 'any';
  separator: string | undefined;
  values: PolicyValue<string>[];
}

function b64url(s: string): Buffer {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSignature(alg: string, signingInput: string, signature: Buffer, keys: readonly (Key | KeyObject)[]): 'ok' | 'bad' | 'nokey' {
  const m = /^(HS|RS|PS|ES)(256|384|512)$/.exec(alg);
  if (!m) return 'bad';
  const hash = HASH[m[2]!]!;
  let tried = false;
  for (const k of keys) {
    if ('kind' in k && k.kind === 'hmac') {
      if (m[1] !== 'HS') continue;
      tried = true;
      const mac = createHmac(hash, k.secret).update(signingInput).digest();
      if (mac.length === signature.length && timingSafeEqual(mac, signature)) return 'ok';
      continue;
    }
    const key = 'kind' in k ? (k.kind === 'public' ? k.key : undefined) : k;
    if (!key || m[1] === 'HS') continue;
    tried = true;
    try {
      const okSig =
        m[1] === 'ES'
          ? verifySignature(hash, Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature)
          : m[1] === 'PS'
            ? verifySignature(hash, Buffer.from(signingInput), { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: Number(m[2]) / 8 }, signature)
            : verifySignature(hash, Buffer.from(signingInput), key, signature);
      if (okSig) return 'ok';
    } catch {
      /* a key of another type */
    }
  }
  return tried ? 'bad' : 'nokey';
}

/** How long keys from an OpenID configuration are used before they are fetched again. */
const OPENID_TTL_MS = 60 * 60 * 1000;
/** A token whose key is not among them fetches them again, but not more often than this. */
const OPENID_REFRESH_MS = 5 * 60 * 1000;

/**
 * The signing keys of one `<openid-config url="">`: the discovery document's `jwks_uri`, then its
 * JSON Web Key Set (RSA and EC keys; others are skipped). Fetched through the service's backend
 * client when first needed, kept an hour, fetched again early when a token names a key not in the
 * set (a rotation), at most every five minutes. A fetch that fails keeps the keys known before.
 */
class OpenIdKeys {
  private keys: { kid: string | undefined; key: KeyObject }[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;

  async get(st: RequestState, url: string, kid: string | undefined): Promise<KeyObject[]> {
    const now = st.ctx.now().getTime();
    const stale = now - this.fetchedAt > OPENID_TTL_MS;
    const unknownKid = kid !== undefined && !this.keys.some((k) => k.kid === kid) && now - this.fetchedAt > OPENID_REFRESH_MS;
    if (stale || unknownKid) await (this.pending ??= this.fetch(st, url).finally(() => (this.pending = undefined)));
    return this.keys.map((k) => k.key);
  }

  private async fetch(st: RequestState, url: string): Promise<void> {
    this.fetchedAt = st.ctx.now().getTime();
    try {
      const config = await getJson(st, url);
      const jwksUri = isObject(config) && typeof config['jwks_uri'] === 'string' ? config['jwks_uri'] : undefined;
      if (!jwksUri) throw new Error('the OpenID configuration has no jwks_uri');
      const set = await getJson(st, jwksUri);
      const list = isObject(set) && Array.isArray(set['keys']) ? (set['keys'] as unknown[]) : [];
      const keys: { kid: string | undefined; key: KeyObject }[] = [];
      for (const jwk of list) {
        if (!isObject(jwk) || (jwk['kty'] !== 'RSA' && jwk['kty'] !== 'EC') || (jwk['use'] !== undefined && jwk['use'] !== 'sig')) continue;
        try {
          keys.push({ kid: typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined, key: createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }) });
        } catch {
          /* a key Node cannot read: skipped */
        }
      }
      this.keys = keys;
    } catch (e) {
      st.services.logger.log({ level: 'warn', msg: 'validate-jwt: OpenID configuration not read', url, error: e instanceof Error ? e.message : String(e) });
    }
  }
}

async function getJson(st: RequestState, url: string): Promise<unknown> {
  const r = await st.services.backendClient.send({
    method: 'GET',
    url: parseHostUrl(url),
    headers: new HeaderMap([['Accept', 'application/json']]),
    body: undefined,
    timeoutSeconds: 10,
    validateCertificateChain: true,
    validateCertificateName: true,
    followRedirects: true,
  });
  if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`);
  return JSON.parse(r.body.toString('utf8')) as unknown;
}

function compileKeys(el: PolicyElement | undefined, cc: CompileContext): Key[] {
  if (!el) return [];
  cc.checkAttributes(el, []);
  cc.checkChildren(el, ['key']);
  const keys: Key[] = [];
  for (const k of el.children) {
    cc.checkAttributes(k, ['certificate-id', 'n', 'e', 'id']);
    const certId = cc.literal(k, 'certificate-id');
    const n = cc.literal(k, 'n');
    const e = cc.literal(k, 'e');
    if (certId !== undefined) {
      if (cc.options.env?.certificateIds && !cc.options.env.certificateIds.has(certId.toLowerCase())) cc.error(PolicyCodes.GH_POLICY_REFERENCE, `certificate-id '${certId}' names no certificate of the service`, k.offset);
      keys.push({ kind: 'certificate', id: certId });
    } else if (n !== undefined && e !== undefined) {
      try {
        keys.push({ kind: 'public', key: createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' }) });
      } catch (err) {
        cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `the RSA key (n, e) does not decode: ${(err as Error).message}`, k.offset);
      }
    } else if (k.textExpression) {
      keys.push({ kind: 'expression', value: cc.text(k) });
    } else {
      const secret = Buffer.from(k.text.trim(), 'base64');
      if (!k.text.trim() || secret.length === 0) cc.error(PolicyCodes.GH_POLICY_INVALID_VALUE, 'a <key> holds a base64 symmetric key, or has certificate-id, or n and e', k.offset);
      else keys.push({ kind: 'hmac', secret });
    }
  }
  return keys;
}

export const validateJwt: PolicyDefinition = {
  name: 'validate-jwt',
  sections: ['inbound'],
  attributes: ['header-name', 'query-parameter-name', 'token-value', 'failed-validation-httpcode', 'failed-validation-error-message', 'require-expiration-time', 'require-scheme', 'require-signed-tokens', 'clock-skew', 'output-token-variable-name'],
  compile(el, cc) {
    cc.checkChildren(el, ['openid-config', 'issuer-signing-keys', 'decryption-keys', 'audiences', 'issuers', 'required-claims']);
    const headerName = cc.literal(el, 'header-name');
    const queryName = cc.literal(el, 'query-parameter-name');
    const tokenValue = cc.string(el, 'token-value');
    if ([headerName, queryName, tokenValue].filter((x) => x !== undefined).length !== 1) cc.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, '<validate-jwt> needs exactly one of header-name, query-parameter-name or token-value', el.offset);
    const code = cc.integer(el, 'failed-validation-httpcode', { default: 401, min: 100, max: 599 })!;
    const message = cc.string(el, 'failed-validation-error-message');
    const requireExp = cc.boolean(el, 'require-expiration-time', true).constantValue ?? true;
    const requireScheme = cc.literal(el, 'require-scheme');
    const requireSigned = cc.boolean(el, 'require-signed-tokens', true).constantValue ?? true;
    const skew = cc.integer(el, 'clock-skew', { default: 0, min: 0 })!;
    const output = cc.literal(el, 'output-token-variable-name');
    const decryption = el.children.find((x) => x.name === 'decryption-keys');
    if (decryption) cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, 'validate-jwt <decryption-keys> is not run by Gatehouse (no JWE)', decryption.offset);
    const openid = el.children
      .filter((x) => x.name === 'openid-config')
      .map((c) => {
        cc.checkAttributes(c, ['url']);
        cc.checkChildren(c, []);
        return { url: cc.string(c, 'url', { required: true }), keys: new Map<string, OpenIdKeys>() };
      });
    const keys = compileKeys(el.children.find((x) => x.name === 'issuer-signing-keys'), cc);
    const list = (name: string, item: string) => {
      const c = el.children.find((x) => x.name === name);
      if (!c) return undefined;
      cc.checkAttributes(c, []);
      cc.checkChildren(c, [item]);
      return c.children.filter((x) => x.name === item).map((x) => cc.text(x));
    };
    const audiences = list('audiences', 'audience');
    const issuers = list('issuers', 'issuer');
    const claims: Claim[] = [];
    const rc = el.children.find((x) => x.name === 'required-claims');
    if (rc) {
      cc.checkAttributes(rc, []);
      cc.checkChildren(rc, ['claim']);
      for (const c of rc.children) {
        cc.checkAttributes(c, ['name', 'match', 'separator']);
        cc.checkChildren(c, ['value']);
        const name = cc.literal(c, 'name', { required: true }) ?? '';
        const match = cc.choice(c, 'match', ['all', 'any'] as const, 'all', { expressions: false }).constantValue ?? 'all';
        claims.push({ name, match, separator: cc.literal(c, 'separator'), values: c.children.map((v) => cc.text(v)) });
      }
    }
    return {
      ...cc.meta(el),
      run(st: RequestState) {
        const ctx = st.ctx;
        const fail = (reason: string, msg: string) =>
          new PolicyFailure({ source: 'validate-jwt', reason, message: msg, status: code.get(ctx), bodyMessage: message ? message.get(ctx) : msg, logReason: `jwt_${reason}` });
        let token: string | undefined;
        if (headerName !== undefined) {
          const h = ctx.request.headers.get(headerName);
          if (h !== undefined) {
            const sp = h.indexOf(' ');
            const scheme = sp < 0 ? '' : h.slice(0, sp);
            if (requireScheme !== undefined && scheme.toLowerCase() !== requireScheme.toLowerCase()) throw fail('TokenNotPresent', 'JWT not present.');
            token = sp < 0 ? h : h.slice(sp + 1).trim();
          }
        } else if (queryName !== undefined) token = ctx.request.url.query.find(([k]) => k === queryName)?.[1];
        else if (tokenValue) token = tokenValue.get(ctx);
        if (!token) throw fail('TokenNotPresent', 'JWT not present.');
        const parts = token.split('.');
        if (parts.length !== 3) throw fail('JwtInvalid', 'JWT is not well formed.');
        let header: Record<string, unknown>;
        let payload: Record<string, unknown>;
        try {
          header = JSON.parse(b64url(parts[0]!).toString('utf8')) as Record<string, unknown>;
          payload = JSON.parse(b64url(parts[1]!).toString('utf8')) as Record<string, unknown>;
        } catch {
          throw fail('JwtInvalid', 'JWT is not well formed.');
        }
        // JSON.parse accepts any JSON value: null, a number or an array is not a JOSE header or a claims set.
        if (!isObject(header) || !isObject(payload)) throw fail('JwtInvalid', 'JWT is not well formed.');
        const resolveKeys = (): (Key | KeyObject)[] =>
          keys.map((k) => {
            if (k.kind === 'expression') {
              const text = k.value.get(ctx).trim();
              if (k.last?.text !== text) k.last = { text, secret: Buffer.from(text, 'base64') };
              return { kind: 'hmac', secret: k.last.secret };
            }
            if (k.kind !== 'certificate') return k;
            const c = st.services.certificateStore.certificates.get(k.id) ?? [...st.services.certificateStore.certificates].find(([n]) => n.toLowerCase() === k.id.toLowerCase())?.[1];
            return c ? c.x509.publicKey : k;
          });
        const checkClaims = (payload: Record<string, unknown>, token: string): void => {
          const now = ctx.now().getTime() / 1000;
          const s = skew.get(ctx);
          const exp = typeof payload['exp'] === 'number' ? (payload['exp'] as number) : undefined;
          if (exp === undefined && requireExp) throw fail('TokenExpired', 'Lifetime validation failed. The token is missing an Expiration Time. Access denied.');
          if (exp !== undefined && now > exp + s) throw fail('TokenExpired', 'Lifetime validation failed. The token is expired. Access denied.');
          const nbf = typeof payload['nbf'] === 'number' ? (payload['nbf'] as number) : undefined;
          if (nbf !== undefined && now + s < nbf) throw fail('TokenExpired', 'Lifetime validation failed. The token is not yet valid. Access denied.');
          if (audiences) {
            const aud = payload['aud'];
            const got = Array.isArray(aud) ? aud.map(String) : aud === undefined ? [] : [String(aud)];
            const want = audiences.map((a) => a.get(ctx));
            if (!got.some((a) => want.includes(a))) throw fail('TokenAudienceNotAllowed', 'Audience validation failed. Access denied.');
          }
          if (issuers) {
            const iss = payload['iss'] === undefined ? '' : String(payload['iss']);
            if (!issuers.map((i) => i.get(ctx)).includes(iss)) throw fail('TokenIssuerNotAllowed', 'Issuer validation failed. Access denied.');
          }
          // Own claims only: a claim named toString or constructor is not Object.prototype's.
          const claimOf = (name: string): unknown => (Object.hasOwn(payload, name) ? payload[name] : undefined);
          const missing = claims.filter((c) => claimOf(c.name) === undefined).map((c) => c.name);
          if (missing.length) throw fail('TokenClaimNotFound', `JWT token is missing the following claims: ${missing.join(', ')}. Access denied.`);
          for (const c of claims) {
            if (c.values.length === 0) continue;
            const raw = claimOf(c.name);
            let got = Array.isArray(raw) ? raw.map(String) : [typeof raw === 'string' ? raw : JSON.stringify(raw)];
            if (c.separator) got = got.flatMap((g) => g.split(c.separator!));
            const want = c.values.map((v) => v.get(ctx));
            const ok = c.match === 'all' ? want.every((w) => got.includes(w)) : want.some((w) => got.includes(w));
            if (!ok) throw fail('TokenClaimValueNotAllowed', `Claim ${c.name} value of ${got.join(',')} is not allowed. Access denied.`);
          }
          if (output !== undefined) {
            const asJwt = (exprApim as Record<string, unknown>)['asJwt'] as ((t: string) => unknown) | undefined;
            ctx.variables.set(output, asJwt ? asJwt(token) : token);
          }
        };
        const alg = String(header['alg'] ?? '');
        if (alg === 'none' || !parts[2]) {
          if (requireSigned) throw fail('TokenSignatureInvalid', 'JWT is not signed. Access denied.');
        } else if (openid.length) {
          // Keys from the OpenID configurations (fetched when needed), then the written-out ones.
          const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined;
          const p = payload;
          const tok = token;
          return Promise.all(
            openid.map((o) => {
              const url = o.url?.get(ctx) ?? '';
              let cache = o.keys.get(url);
              if (!cache) o.keys.set(url, (cache = new OpenIdKeys()));
              return cache.get(st, url, kid);
            }),
          ).then((fetched) => {
            const r = checkSignature(alg, `${parts[0]}.${parts[1]}`, b64url(parts[2]!), [...fetched.flat(), ...resolveKeys()]);
            if (r === 'nokey') throw fail('TokenSignatureKeyNotFound', 'Signature validation failed: no key for the token. Access denied.');
            if (r === 'bad') throw fail('TokenSignatureInvalid', 'Signature validation failed. Access denied.');
            checkClaims(p, tok);
          });
        } else {
          const resolved = resolveKeys();
          const r = checkSignature(alg, `${parts[0]}.${parts[1]}`, b64url(parts[2]!), resolved);
          if (r === 'nokey') throw fail('TokenSignatureKeyNotFound', 'Signature validation failed: no key for the token. Access denied.');
          if (r === 'bad') throw fail('TokenSignatureInvalid', 'Signature validation failed. Access denied.');
        }
        checkClaims(payload, token);
        return undefined;
      },
    };
  },
};
