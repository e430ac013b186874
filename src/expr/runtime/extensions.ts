/** Extension methods: LINQ over any enumerable, and API Management's AsJwt/AsBasic/Encrypt/Decrypt. */
import { NO_MEMBER, type Runtime } from './core.js';
import { LINQ } from './linq.js';
import type { RType } from './types.js';
import { asBasic, asJwt, tryParse } from './apim.js';
import { symmetric } from './misc.js';

export interface Extension {
  readonly fn: (rt: Runtime, t: unknown, a: unknown[], typeArgs: readonly RType[] | undefined) => unknown;
  /** Extension methods run on a null receiver (AsJwt on a missing header gives null). */
  readonly nullable?: boolean;
}

function enumerable(t: unknown): boolean {
  return typeof t === 'string' || (t !== null && typeof t === 'object' && typeof (t as Iterable<unknown>)[Symbol.iterator] === 'function');
}

/** Prototype-less: a member name from user code ('constructor', '__proto__') finds nothing. */
export const EXTENSIONS: Record<string, Extension> = Object.create(null) as Record<string, Extension>;

for (const [name, fn] of Object.entries(LINQ)) {
  EXTENSIONS[name] = { fn: (rt, t, a, ta) => (enumerable(t) ? fn(rt, t, a, ta) : NO_MEMBER) };
}

Object.assign(EXTENSIONS, {
  AsJwt: { fn: (_rt: Runtime, t: unknown) => (typeof t === 'string' || t === null || t === undefined ? asJwt(t) : NO_MEMBER), nullable: true },
  TryParseJwt: { fn: (_rt: Runtime, t: unknown, a: unknown[]) => tryParse(a[0], asJwt(t)), nullable: true },
  AsBasic: { fn: (_rt: Runtime, t: unknown) => (typeof t === 'string' || t === null || t === undefined ? asBasic(t) : NO_MEMBER), nullable: true },
  TryParseBasic: { fn: (_rt: Runtime, t: unknown, a: unknown[]) => tryParse(a[0], asBasic(t)), nullable: true },
  Encrypt: { fn: (_rt: Runtime, t: unknown, a: unknown[]) => (t instanceof Uint8Array ? symmetric(false, t, a[0], a[1], a[2]) : NO_MEMBER) },
  Decrypt: { fn: (_rt: Runtime, t: unknown, a: unknown[]) => (t instanceof Uint8Array ? symmetric(true, t, a[0], a[1], a[2]) : NO_MEMBER) },
} satisfies Record<string, Extension>);
