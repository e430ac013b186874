/**
 * Matching a request to an API (by path prefix, longest first) and an operation (by method and
 * urlTemplate). Templates are compiled to regular expressions once, at load.
 */
import type { ApimApi, ApimOperation } from '../model/apiManagement.js';

export interface CompiledOperation {
  readonly operation: ApimOperation;
  readonly method: string; // upper case, or '*'
  readonly regex: RegExp;
  readonly pathParams: readonly string[];
  /** Query parameters the template names: [query name, parameter name]. */
  readonly queryParams: readonly (readonly [string, string])[];
  readonly queryNames: ReadonlySet<string>;
  /** Higher is more specific. */
  readonly rank: number;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileTemplate(op: ApimOperation): CompiledOperation {
  const t = op.urlTemplate;
  const q = t.indexOf('?');
  const pathPart = q < 0 ? t : t.slice(0, q);
  const queryPart = q < 0 ? '' : t.slice(q + 1);
  const pathParams: string[] = [];
  let re = '';
  let literal = 0;
  let wildcard = false;
  let last = 0;
  for (const m of pathPart.matchAll(/\{(\*?)([^}]*)\}|\*/g)) {
    const lit = pathPart.slice(last, m.index);
    re += escapeRe(lit);
    literal += lit.replace(/\//g, '').length;
    if (m[0] === '*' || m[1] === '*') {
      wildcard = true;
      re += '(.*)';
      pathParams.push(m[0] === '*' ? '*' : m[2]!);
    } else {
      re += '([^/]+)';
      pathParams.push(m[2]!);
    }
    last = m.index! + m[0].length;
  }
  const tail = pathPart.slice(last);
  literal += tail.replace(/\//g, '').length;
  re += escapeRe(tail.replace(/\/+$/, ''));
  const queryParams: [string, string][] = [];
  for (const part of queryPart.split('&')) {
    const m = /^([^=]+)=\{([^}]+)\}$/.exec(part);
    if (m) queryParams.push([m[1]!, m[2]!]);
  }
  return {
    operation: op,
    method: op.method.toUpperCase(),
    regex: new RegExp(`^${re}/?$`, 'i'),
    pathParams,
    queryParams,
    queryNames: new Set(queryParams.map(([k]) => k)),
    rank: (wildcard ? 0 : 1_000_000) + literal * 1000 - pathParams.length * 10 + queryParams.length,
  };
}

/**
 * The path the matcher sees has been decoded once (gateway.ts), every escape except those of the
 * characters decodeURI reserves (# $ & + , / : ; = ? @) and of '%' itself. A path parameter is
 * decoded once, like Azure's, so only those escapes are decoded here, in one pass: '%2F' becomes
 * '/', '%25' becomes '%', and 'a%2541' gives 'a%41' and '%252F' gives '%2F' (decoding twice would
 * turn them into 'aA' and '/'). '+' is a plus in a path, not a space as in a query.
 */
const RESERVED_ESCAPE = /%(2[3456BbCcFf]|3[AaBbDdFf]|40)/g;

function decodePathParam(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(RESERVED_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export interface OperationMatch {
  readonly op: CompiledOperation;
  readonly params: Map<string, string>;
}

/**
 * The best operation for a method and an API-relative path ('/' at least), or undefined. The path is
 * the request path decoded as the gateway decodes it (see RESERVED_ESCAPE); path parameters are decoded from it once.
 */
export function matchOperation(ops: readonly CompiledOperation[], method: string, relativePath: string, query: readonly (readonly [string, string])[]): OperationMatch | undefined {
  for (const op of ops) {
    if (op.method !== '*' && op.method !== method) continue;
    const m = op.regex.exec(relativePath === '' ? '/' : relativePath) ?? (relativePath === '/' ? op.regex.exec('') : null);
    if (!m) continue;
    const params = new Map<string, string>();
    op.pathParams.forEach((n, i) => params.set(n, decodePathParam(m[i + 1] ?? '')));
    let ok = true;
    for (const [qn, pn] of op.queryParams) {
      const hit = query.find(([k]) => k === qn);
      const tp = op.operation.templateParameters.find((p) => p.name === pn);
      if (hit) params.set(pn, hit[1]);
      else if (tp?.defaultValue !== undefined) params.set(pn, tp.defaultValue);
      else if (tp?.required !== false) {
        ok = false;
        break;
      }
    }
    if (ok) return { op, params };
  }
  return undefined;
}

/** Sorts operations most specific first. */
export function sortOperations(ops: CompiledOperation[]): CompiledOperation[] {
  return ops.sort((a, b) => b.rank - a.rank);
}

/**
 * The API whose path prefixes the request path, longest path first; '' matches everything. `accept`
 * decides among APIs with the same path (versions chosen by header or query).
 */
export function matchApi<T extends { readonly api: ApimApi; readonly pathLower: string }>(apis: readonly T[], path: string, accept?: (api: T) => boolean): { api: T; relative: string } | undefined {
  const p = path.replace(/^\/+/, '');
  const lower = p.toLowerCase();
  for (const a of apis) {
    const ap = a.pathLower;
    if (ap !== '' && lower !== ap && !lower.startsWith(ap + '/')) continue;
    if (accept && !accept(a)) continue;
    return ap === '' ? { api: a, relative: '/' + p } : { api: a, relative: p.slice(ap.length) || '/' };
  }
  return undefined;
}
