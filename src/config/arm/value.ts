/**
 * Values of the ARM expression language, shared by the Bicep and ARM front-ends: JSON values
 * (null, boolean, integer, string, array, ordered object) plus two opaque kinds:
 *  - Unknown: a value known only after a real deployment (a Key Vault secret, a property the
 *    resource provider adds). Operations on it give Unknown; it never throws.
 *  - LambdaValue: a `x => …` argument of map/filter/reduce/sort …
 */
export class Unknown {
  readonly expression: string;
  constructor(expression: string) {
    this.expression = expression;
  }
  toJSON(): string {
    return `[unknown: ${this.expression}]`;
  }
  toString(): string {
    return `[unknown: ${this.expression}]`;
  }
}

export function isUnknown(v: unknown): v is Unknown {
  return v instanceof Unknown;
}

export class LambdaValue {
  readonly arity: number;
  readonly invoke: (args: unknown[]) => unknown;
  constructor(arity: number, invoke: (args: unknown[]) => unknown) {
    this.arity = arity;
    this.invoke = invoke;
  }
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Unknown) && !(v instanceof LambdaValue) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Objects that came from reference(): a missing property there is Unknown, not an error. */
const runtimeObjects = new WeakSet<object>();

export function markRuntime<T>(v: T): T {
  if (Array.isArray(v)) {
    runtimeObjects.add(v);
    for (const x of v) markRuntime(x);
  } else if (isObject(v)) {
    runtimeObjects.add(v);
    for (const x of Object.values(v)) markRuntime(x);
  }
  return v;
}

export function isRuntime(v: unknown): boolean {
  return typeof v === 'object' && v !== null && runtimeObjects.has(v);
}

/** Thrown by functions and operators on a wrong type or value; the front-end adds the position. */
export class EvalError extends Error {
  readonly code: string;
  constructor(message: string, code = 'GH_BICEP_EVAL') {
    super(message);
    this.code = code;
  }
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Unknown) return 'unknown';
  if (v instanceof LambdaValue) return 'lambda';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (isObject(v)) return 'object';
  return 'resource';
}

/** Structural equality as ARM equals(): type-sensitive, strings case-sensitive, object keys case-insensitive. */
export function deepEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEquals(x, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => {
      const other = findKey(b, k);
      return other !== undefined && deepEquals(a[k], b[other]);
    });
  }
  return false;
}

/** The key of o matching k: exact first, then case-insensitive (ARM object keys are case-insensitive). */
export function findKey(o: JsonObject, k: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(o, k)) return k;
  const lk = k.toLowerCase();
  for (const key of Object.keys(o)) if (key.toLowerCase() === lk) return key;
  return undefined;
}

/** ARM's string conversion: strings as-is, bools True/False, others compact JSON. */
export function toArmString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v, jsonReplacer);
}

export function jsonReplacer(_key: string, v: unknown): unknown {
  if (v instanceof Unknown) return v.toJSON();
  if (v instanceof LambdaValue) return '[lambda]';
  return v;
}

/** Deep copy of a JSON value (Unknown markers kept as they are). */
export function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isObject(v)) {
    const o: JsonObject = {};
    for (const [k, x] of Object.entries(v)) o[k] = clone(x);
    return o as T;
  }
  return v;
}

/** Does the value contain an Unknown anywhere? */
export function containsUnknown(v: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (v instanceof Unknown) return true;
  if (Array.isArray(v)) return v.some((x) => containsUnknown(x, depth + 1));
  if (isObject(v)) return Object.values(v).some((x) => containsUnknown(x, depth + 1));
  return false;
}
