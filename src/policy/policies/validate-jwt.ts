/**
 * <validate-jwt header-name="" | query-parameter-name="" | token-value="" failed-validation-httpcode=""
 * failed-validation-error-message="" require-expiration-time="" require-scheme="" require-signed-tokens=""
 * clock-skew="" output-token-variable-name=""> with issuer-signing-keys, audiences, issuers and
 * required-claims (validate-jwt-policy.md). Signatures: HS256/384/512 with base64 keys (written out or
 * given by an expression), RS*, PS* and
 * ES* with keys from certificate entities or an RSA modulus/exponent. openid-config (a network
 * fetch) and decryption-keys are not run (errors at up, warnings in lint). Failures answer with
 * the policy's code and message and the LastError reasons of the error-handling page.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';
import * as exprApim from '../../expr/runtime/apim.js';
import type { CompileContext, PolicyDefinition, PolicyValue } from '../compile.js';
import { PolicyCodes } from '../errors.js';
import type { PolicyElement } from '../reader.js';
import { PolicyFailure, type RequestState } from '../runtime.js';

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
    for (const name of ['openid-config', 'decryption-keys']) {
      const c = el.children.find((x) => x.name === name);
      if (c) cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, `validate-jwt <${name}> is not run by Gatehouse (no network, no JWE); give <issuer-signing-keys>`, c.offset);
    }
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
        const alg = String(header['alg'] ?? '');
        if (alg === 'none' || !parts[2]) {
          if (requireSigned) throw fail('TokenSignatureInvalid', 'JWT is not signed. Access denied.');
        } else {
          const resolved: (Key | KeyObject)[] = keys.map((k) => {
            if (k.kind === 'expression') {
              const text = k.value.get(ctx).trim();
              if (k.last?.text !== text) k.last = { text, secret: Buffer.from(text, 'base64') };
              return { kind: 'hmac', secret: k.last.secret };
            }
            if (k.kind !== 'certificate') return k;
            const c = st.services.certificateStore.certificates.get(k.id) ?? [...st.services.certificateStore.certificates].find(([n]) => n.toLowerCase() === k.id.toLowerCase())?.[1];
            return c ? c.x509.publicKey : k;
          });
          const r = checkSignature(alg, `${parts[0]}.${parts[1]}`, b64url(parts[2]!), resolved);
          if (r === 'nokey') throw fail('TokenSignatureKeyNotFound', 'Signature validation failed: no key for the token. Access denied.');
          if (r === 'bad') throw fail('TokenSignatureInvalid', 'Signature validation failed. Access denied.');
        }
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
      },
    };
  },
};
