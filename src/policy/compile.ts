/**
 * Compiling policy elements into steps, once, at load: attribute checks, literal conversions and
 * expression compilation happen here so that a request only walks arrays and calls closures.
 */
import type { Diagnostic, Severity } from '../core/diagnostics.js';
import { makeDiagnostic } from '../core/diagnostics.js';
import type { SourceFile } from '../core/source.js';
import type { CompiledExpression } from '../expr/index.js';
import { compileExpression, toPolicyString } from '../expr/index.js';
import type { HostContext } from '../expr/host.js';
import { PolicyCodes } from './errors.js';
import type { ExpressionSource, PolicyAttribute, PolicyElement } from './reader.js';
import { PolicyFailure, type PolicyScope, type PolicyStep, type Section } from './runtime.js';

/** A value a policy reads per request: a constant, or an expression compiled at load. */
export class PolicyValue<T> {
  private constructor(
    private readonly constant: T | undefined,
    private readonly expr: CompiledExpression | undefined,
    private readonly convert: ((v: unknown) => T) | undefined,
    /** The source, for messages. */
    readonly source: string,
  ) {}

  static constant<T>(value: T, source = String(value)): PolicyValue<T> {
    return new PolicyValue<T>(value, undefined, undefined, source);
  }

  /** A value whose expression did not compile (diagnostics were reported): no constant to check. */
  static failed<T>(source: string): PolicyValue<T> {
    return new PolicyValue<T>(undefined, undefined, undefined, source);
  }

  static expression<T>(expr: CompiledExpression, convert: (v: unknown) => T): PolicyValue<T> {
    return new PolicyValue<T>(undefined, expr, convert, expr.source);
  }

  get isConstant(): boolean {
    return this.expr === undefined;
  }

  /** The constant value; undefined for an expression. */
  get constantValue(): T | undefined {
    return this.constant;
  }

  get(ctx: HostContext): T {
    if (this.expr === undefined) return this.constant as T;
    let v: unknown;
    try {
      v = this.expr.evaluate(ctx);
    } catch (e) {
      throw expressionFailure(e, this.expr.source);
    }
    try {
      return this.convert!(v);
    } catch (e) {
      throw expressionFailure(e, this.expr.source);
    }
  }
}

export function expressionFailure(e: unknown, source: string): PolicyFailure {
  if (e instanceof PolicyFailure) return e;
  const msg = e instanceof Error ? e.message : String(e);
  void source;
  return new PolicyFailure({ source: 'expression', reason: 'ExpressionValueEvaluationFailure', message: `Expression evaluation failed. ${msg}`, logReason: 'expression_failed', cause: e });
}

/** What the compiler knows about the deployment, to check references at load. */
export interface PolicyEnvironment {
  readonly certificateIds?: ReadonlySet<string>;
  readonly certificateThumbprints?: ReadonlySet<string>;
  readonly backendIds?: ReadonlySet<string>;
}

export interface PolicyDefinition {
  readonly name: string;
  /** Sections the policy may stand in (Azure's usage tables). */
  readonly sections: readonly Section[];
  /** Attributes the element takes (besides id). */
  readonly attributes: readonly string[];
  compile(el: PolicyElement, cc: CompileContext): PolicyStep | undefined;
}

/** Real API Management policies that Gatehouse does not run (a warning in lint, an error at up). */
export const KNOWN_UNSUPPORTED: readonly string[] = [
  'validate-azure-ad-token', 'validate-content', 'validate-headers', 'validate-parameters', 'validate-status-code', 'validate-odata-request', 'validate-graphql-request',
  'azure-openai-semantic-cache-lookup', 'azure-openai-semantic-cache-store', 'llm-semantic-cache-lookup', 'llm-semantic-cache-store',
  'xsl-transform', 'jsonp', 'redirect-content-urls', 'set-request',
  'log-to-eventhub', 'emit-metric', 'azure-openai-emit-token-metric', 'llm-emit-token-metric', 'azure-openai-token-limit', 'llm-token-limit', 'llm-content-safety', 'proxy', 'cross-domain',
  'get-authorization-context', 'publish-to-dapr', 'invoke-dapr-binding', 'set-backend-service-dapr', 'send-service-bus-message', 'set-graphql-resolver', 'http-data-source', 'publish-event', 'sql-data-source', 'cosmosdb-data-source',
];

export interface Registry {
  get(name: string): PolicyDefinition | undefined;
  names(): string[];
}

export function makeRegistry(defs: readonly PolicyDefinition[]): Registry {
  const map = new Map(defs.map((d) => [d.name, d]));
  return { get: (name) => map.get(name), names: () => [...map.keys()] };
}

export interface CompileOptions {
  readonly mode: 'run' | 'lint';
  readonly registry: Registry;
  readonly env?: PolicyEnvironment;
  /** Policy fragments by name, for <include-fragment>; undefined in lint when none are known. */
  readonly fragments?: ReadonlyMap<string, { readonly file: string; readonly text: string }>;
  /** Named values, for fragments read at compile time. */
  readonly namedValues?: ReadonlyMap<string, string>;
}

export class CompileContext {
  readonly file: SourceFile;
  readonly diagnostics: Diagnostic[];
  readonly options: CompileOptions;
  scope: PolicyScope;
  section: Section;
  /** Containers of the element being compiled ('choose[1]/when[1]'). */
  path = '';
  /** The element's own segment among its siblings ('choose[1]'), set while it compiles. */
  segment = '';
  /** True while a fragment's statements compile (fragments cannot include fragments). */
  inFragment = false;

  constructor(file: SourceFile, diagnostics: Diagnostic[], options: CompileOptions, scope: PolicyScope, section: Section) {
    this.file = file;
    this.diagnostics = diagnostics;
    this.options = options;
    this.scope = scope;
    this.section = section;
  }

  report(severity: Severity, code: string, message: string, offset: number): void {
    this.diagnostics.push(makeDiagnostic(severity, code as `GH_${string}`, message, { file: this.file, offset }));
  }
  error(code: string, message: string, offset: number): void {
    this.report('error', code, message, offset);
  }

  /** The path of a container below the element being compiled: 'choose[1]/when[2]'. */
  below(sub: string): string {
    const own = this.path ? `${this.path}/${this.segment}` : this.segment;
    return sub ? `${own}/${sub}` : own;
  }

  /** A value of any type (set-variable's value): a literal string, or what the expression returns. */
  raw(el: PolicyElement, name: string, opts: { required?: boolean } = {}): PolicyValue<unknown> | undefined {
    const a = this.attr(el, name);
    if (!a) {
      if (opts.required) this.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<${el.name}> needs the attribute '${name}'`, el.offset);
      return undefined;
    }
    if (a.expression) {
      const expr = this.compileExpr(a.expression);
      return expr ? PolicyValue.expression<unknown>(expr, (v) => v) : PolicyValue.failed<unknown>(a.expression.text);
    }
    return PolicyValue.constant<unknown>(a.value);
  }

  /** Step metadata for an element at the current path. */
  meta(el: PolicyElement): { name: string; id: string; path: string; scope: PolicyScope; section: Section } {
    const id = el.attributes.find((a) => a.name === 'id')?.value ?? '';
    return { name: el.name, id, path: this.path, scope: this.scope, section: this.section };
  }

  /** Reports attributes that the element does not take. `id` is always allowed. */
  checkAttributes(el: PolicyElement, allowed: readonly string[]): void {
    for (const a of el.attributes) {
      if (a.name === 'id' || allowed.includes(a.name) || a.name.startsWith('xmlns')) continue;
      this.error(PolicyCodes.GH_POLICY_UNKNOWN_ATTRIBUTE, `<${el.name}> has no attribute '${a.name}'${suggest(a.name, allowed)}`, a.offset);
    }
  }

  /** Reports child elements that are not among `allowed`. */
  checkChildren(el: PolicyElement, allowed: readonly string[]): void {
    for (const c of el.children) {
      if (!allowed.includes(c.name)) this.error(PolicyCodes.GH_POLICY_UNKNOWN_ELEMENT, `<${el.name}> takes no child element <${c.name}>${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`, c.offset);
    }
  }

  attr(el: PolicyElement, name: string): PolicyAttribute | undefined {
    return el.attributes.find((a) => a.name === name);
  }

  compileExpr(src: ExpressionSource): CompiledExpression | undefined {
    const r = compileExpression(src.text, { file: this.file, offset: src.offset });
    for (const d of r.diagnostics) {
      // Diagnostics from the expression compiler name the file; add the position if it was left out.
      if (d.line === undefined) this.diagnostics.push({ ...makeDiagnostic(d.severity, d.code, d.message, { file: this.file, offset: src.offset }), ...(d.hint ? { hint: d.hint } : {}) });
      else this.diagnostics.push(d);
    }
    return r.expression;
  }

  /**
   * A string attribute. `expressions: false` reports an expression as an error (attributes Azure
   * evaluates literally). Returns undefined when absent (after reporting it when required).
   */
  string(el: PolicyElement, name: string, opts: { required?: boolean; expressions?: boolean; default?: string } = {}): PolicyValue<string> | undefined {
    const a = this.attr(el, name);
    if (!a) {
      if (opts.required) this.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<${el.name}> needs the attribute '${name}'`, el.offset);
      return opts.default !== undefined ? PolicyValue.constant(opts.default) : undefined;
    }
    return this.valueOf(el, a, opts.expressions ?? true, (v) => toPolicyString(v));
  }

  /** The literal text of an attribute that takes no expressions. */
  literal(el: PolicyElement, name: string, opts: { required?: boolean } = {}): string | undefined {
    const a = this.attr(el, name);
    if (!a) {
      if (opts.required) this.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<${el.name}> needs the attribute '${name}'`, el.offset);
      return undefined;
    }
    if (a.expression) {
      this.error(PolicyCodes.GH_POLICY_EXPRESSION_NOT_ALLOWED, `<${el.name}> attribute '${name}' takes no policy expressions`, a.expression.offset);
      return undefined;
    }
    return a.value;
  }

  boolean(el: PolicyElement, name: string, dflt: boolean, opts: { expressions?: boolean } = {}): PolicyValue<boolean> {
    const a = this.attr(el, name);
    if (!a) return PolicyValue.constant(dflt);
    return this.valueOf(el, a, opts.expressions ?? true, toBoolean, (s) => {
      const b = parseBool(s);
      if (b === undefined) this.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `<${el.name}> attribute '${name}' must be true or false, got '${s}'`, a.offset);
      return b ?? dflt;
    }) as PolicyValue<boolean>;
  }

  integer(el: PolicyElement, name: string, opts: { required?: boolean; expressions?: boolean; default?: number; min?: number; max?: number } = {}): PolicyValue<number> | undefined {
    const a = this.attr(el, name);
    if (!a) {
      if (opts.required) this.error(PolicyCodes.GH_POLICY_MISSING_ATTRIBUTE, `<${el.name}> needs the attribute '${name}'`, el.offset);
      return opts.default !== undefined ? PolicyValue.constant(opts.default) : undefined;
    }
    return this.valueOf(el, a, opts.expressions ?? true, toInteger, (s) => {
      const n = /^\s*[+-]?\d+\s*$/.test(s) ? Number(s) : NaN;
      if (Number.isNaN(n)) this.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `<${el.name}> attribute '${name}' must be an integer, got '${s}'`, a.offset);
      else if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
        this.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `<${el.name}> attribute '${name}' must be between ${opts.min ?? '-∞'} and ${opts.max ?? '∞'}, got ${n}`, a.offset);
      }
      return Number.isNaN(n) ? (opts.default ?? 0) : n;
    }) as PolicyValue<number>;
  }

  /** One of a fixed set of words (case-insensitive). */
  choice<T extends string>(el: PolicyElement, name: string, values: readonly T[], dflt: T, opts: { expressions?: boolean } = {}): PolicyValue<T> {
    const a = this.attr(el, name);
    if (!a) return PolicyValue.constant(dflt);
    const pick = (s: string): T | undefined => values.find((v) => v.toLowerCase() === s.trim().toLowerCase());
    return this.valueOf(
      el,
      a,
      opts.expressions ?? true,
      (v) => {
        const s = toPolicyString(v);
        const hit = pick(s);
        if (!hit) throw new Error(`'${s}' is not one of ${values.join(', ')}`);
        return hit;
      },
      (s) => {
        const hit = pick(s);
        if (!hit) this.error(PolicyCodes.GH_POLICY_INVALID_VALUE, `<${el.name}> attribute '${name}' must be one of ${values.join(', ')}, got '${s}'`, a.offset);
        return hit ?? dflt;
      },
    ) as PolicyValue<T>;
  }

  /** The element's text as a value (literal or expression). */
  text(el: PolicyElement): PolicyValue<string> {
    if (el.textExpression) {
      const expr = this.compileExpr(el.textExpression);
      return expr ? PolicyValue.expression(expr, toPolicyString) : PolicyValue.failed(el.textExpression.text);
    }
    return PolicyValue.constant(el.text);
  }

  private valueOf<T>(el: PolicyElement, a: PolicyAttribute, expressions: boolean, convert: (v: unknown) => T, literal?: (s: string) => T): PolicyValue<T> {
    if (a.expression) {
      if (!expressions) {
        this.error(PolicyCodes.GH_POLICY_EXPRESSION_NOT_ALLOWED, `<${el.name}> attribute '${a.name}' takes no policy expressions`, a.expression.offset);
        return PolicyValue.failed<T>(a.expression.text);
      }
      const expr = this.compileExpr(a.expression);
      return expr ? PolicyValue.expression(expr, convert) : PolicyValue.failed<T>(a.expression.text);
    }
    // A {{name}} left unresolved (lint without named values) is checked when the value is known.
    if (/\{\{[A-Za-z0-9._-]+\}\}/.test(a.value)) return PolicyValue.failed<T>(a.value);
    return PolicyValue.constant(literal ? literal(a.value) : convert(a.value), a.value);
  }

  /** Compiles the child statements of a container (a section, when, otherwise, return-response …). */
  compileChildren(parent: PolicyElement, children: readonly PolicyElement[], containerPath: string | undefined): PolicyStep[] {
    const savedPath = this.path;
    if (containerPath !== undefined) this.path = containerPath;
    const steps: PolicyStep[] = [];
    for (const c of children) {
      this.segment = childPath('', children, c);
      const step = compileElement(c, this);
      if (step) steps.push(step);
    }
    this.path = savedPath;
    void parent;
    return steps;
  }
}

/** Compiles one policy element. `base` is handled by the document compiler, not here. */
export function compileElement(el: PolicyElement, cc: CompileContext): PolicyStep | undefined {
  if (el.name === 'base') {
    cc.error(PolicyCodes.GH_POLICY_STRUCTURE, '<base/> may stand only directly in a section', el.offset);
    return undefined;
  }
  const def = cc.options.registry.get(el.name);
  if (!def) {
    if (KNOWN_UNSUPPORTED.includes(el.name)) {
      cc.report(cc.options.mode === 'lint' ? 'warning' : 'error', PolicyCodes.GH_POLICY_NOT_SUPPORTED, `<${el.name}> is an API Management policy that Gatehouse does not run yet`, el.offset);
    } else {
      const close = [...cc.options.registry.names(), ...KNOWN_UNSUPPORTED].find((n) => distance(n, el.name) <= 2);
      cc.error(PolicyCodes.GH_POLICY_UNKNOWN_ELEMENT, `<${el.name}> is not an API Management policy${close ? ` (did you mean <${close}>?)` : ''}`, el.offset);
    }
    return undefined;
  }
  if (!def.sections.includes(cc.section)) {
    cc.error(PolicyCodes.GH_POLICY_WRONG_SECTION, `<${el.name}> is not allowed in the ${cc.section} section (allowed: ${def.sections.join(', ')})`, el.offset);
  }
  cc.checkAttributes(el, def.attributes);
  return def.compile(el, cc);
}

/** Path segment of a child: its name and its 1-based index among same-named siblings. */
export function childPath(base: string, siblings: readonly PolicyElement[], el: PolicyElement): string {
  let k = 0;
  for (const s of siblings) {
    if (s.name === el.name) k++;
    if (s === el) break;
  }
  const seg = `${el.name}[${k}]`;
  return base ? `${base}/${seg}` : seg;
}

function parseBool(s: string): boolean | undefined {
  const t = s.trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

function toBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const b = parseBool(toPolicyString(v));
  if (b === undefined) throw new Error(`'${toPolicyString(v)}' is not a Boolean`);
  return b;
}

function toInteger(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  const s = toPolicyString(v).trim();
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`'${s}' is not an integer`);
  return Number(s);
}

function suggest(name: string, allowed: readonly string[]): string {
  const close = allowed.find((a) => distance(a, name) <= 2);
  return close ? ` (did you mean '${close}'?)` : allowed.length ? ` (it takes ${allowed.join(', ')})` : '';
}

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}
