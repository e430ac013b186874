/**
 * The Bicep evaluator: one BicepFile per (file, scope, parameter values). Declarations are
 * evaluated lazily and memoized, so they can be used in any order; a declaration that depends on
 * itself is a GH_BICEP_CYCLE diagnostic. Semantics follow what `bicep build` lowers each construct
 * to (ExpressionConverter.cs) and the ARM function library in ../arm/functions.ts.
 */
import { dirname, resolve, extname } from 'node:path';
import { readdirSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ErrorCode } from '../../core/errors.js';
import { SourceFile } from '../../core/source.js';
import type { ResourceOrigin } from '../../model/resources.js';
import type { ArrayItem, Decorator, Expr, FuncDecl, ModuleDecl, ObjectItem, ParamDecl, Program, ResourceDecl, Statement, TypeExpr } from './ast.js';
import { parseBicep } from './parser.js';
import { CycleError, Lazy, LocatedError, type DeploymentContext, type DeploymentUnit, type ParamThunks, type ResourceEntry } from '../arm/context.js';
import { builtinNames, callBuiltin, describe, hasBuiltin, stripJsonComments, uniqueString, type FunctionContext, type ScopeContext, type TargetScope } from '../arm/functions.js';
import { EvalError, LambdaValue, Unknown, deepEquals, findKey, isObject, isRuntime, isUnknown, toArmString, type JsonObject } from '../arm/value.js';

// ---- values only Bicep has ------------------------------------------------------------------------

export class ResourceRef {
  constructor(readonly inst: ResourceInstance) {}
}
export class ModuleRef {
  constructor(readonly inst: ModuleInstance) {}
}
class ModuleOutputs {
  constructor(readonly inst: ModuleInstance) {}
}
class NamespaceRef {
  constructor(readonly file: BicepFile | undefined, readonly name: string) {}
}

/** Functions Bicep evaluates itself (compile time) or routes to the deployment. */
const BICEP_FUNCTIONS = new Set(
  [
    'loadTextContent', 'loadFileAsBase64', 'loadJsonContent', 'loadYamlContent', 'loadDirectoryFileInfo', 'readEnvironmentVariable',
    'reference', 'references', 'getSecret', 'externalInput', 'nameof', 'readCliArg', 'deployer', 'providers', 'toLogicalZone', 'toLogicalZones',
    'toPhysicalZone', 'toPhysicalZones', 'roleDefinitions', 'loadResourceFromJson',
  ].map((s) => s.toLowerCase()),
);

/** ARM functions Bicep does not offer: it has an operator or a literal for each (BCP069, BCP100-102). */
const ARM_ONLY: Record<string, string> = {
  if: "the '?:' operator",
  createarray: 'an array literal [ … ]',
  createobject: 'an object literal { … }',
  add: "the '+' operator",
  sub: "the '-' operator",
  mul: "the '*' operator",
  div: "the '/' operator",
  mod: "the '%' operator",
  less: "the '<' operator",
  lessorequals: "the '<=' operator",
  greater: "the '>' operator",
  greaterorequals: "the '>=' operator",
  equals: "the '==' operator",
  not: "the '!' operator",
  and: "the '&&' operator",
  or: "the '||' operator",
  true: 'the literal true',
  false: 'the literal false',
  null: 'the literal null',
};

function isKnownFunction(name: string): boolean {
  const l = name.toLowerCase();
  if (ARM_ONLY[l] !== undefined) return false;
  return hasBuiltin(l) || BICEP_FUNCTIONS.has(l) || l.startsWith('list');
}

function unknownFunctionMessage(name: string, local: Iterable<string> = []): string {
  const instead = ARM_ONLY[name.toLowerCase()];
  if (instead) return `the function '${name}' is not available in Bicep: use ${instead}`;
  const known = [...builtinNames().filter((n) => ARM_ONLY[n] === undefined), ...BICEP_FUNCTIONS, ...local];
  const s = closest(name, known, CANONICAL_NAMES);
  return `the function '${name}' does not exist${s ? `; did you mean '${s}'?` : ''}`;
}

/** Bicep's spelling of the functions (the catalogue is keyed in lower case). */
const CANONICAL_NAMES = new Map(
  [
    'loadTextContent', 'loadFileAsBase64', 'loadJsonContent', 'loadYamlContent', 'loadDirectoryFileInfo', 'readEnvironmentVariable', 'resourceGroup', 'resourceId',
    'subscriptionResourceId', 'tenantResourceId', 'extensionResourceId', 'managementGroupResourceId', 'uniqueString', 'toLower', 'toUpper', 'startsWith', 'endsWith',
    'indexOf', 'lastIndexOf', 'padLeft', 'base64ToString', 'base64ToJson', 'dataUri', 'dataUriToString', 'uriComponent', 'uriComponentToString', 'newGuid', 'utcNow',
    'dateTimeAdd', 'dateTimeFromEpoch', 'dateTimeToEpoch', 'objectKeys', 'mapValues', 'toObject', 'groupBy', 'shallowMerge', 'tryGet', 'indexFromEnd', 'parseCidr',
    'cidrSubnet', 'cidrHost', 'getSecret', 'externalInput', 'pickZones',
  ].map((n) => [n.toLowerCase(), n]),
);

/** The known name nearest to a misspelt one (edit distance ≤ 2, or the same letters in another case). */
export function closest(name: string, candidates: Iterable<string>, canonical?: Map<string, string>): string | undefined {
  const l = name.toLowerCase();
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    if (cl === l) return canonical?.get(cl) ?? c;
    if (Math.abs(cl.length - l.length) >= bestD) continue;
    const d = editDistance(l, cl, bestD);
    if (d < bestD) {
      bestD = d;
      best = canonical?.get(cl) ?? c;
    }
  }
  return best;
}

function editDistance(a: string, b: string, max: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]!);
    }
    if (rowMin >= max) return max;
    prev = cur;
  }
  return prev[b.length]!;
}

interface Env {
  readonly file: BicepFile;
  readonly locals: Map<string, unknown> | undefined;
  readonly parent: Env | undefined;
  /** Set inside user-defined function bodies: only parameters and functions are visible. */
  readonly inFunction?: boolean;
  /** Inside a resource body: its nested resources (and its ancestors') are visible by name. */
  readonly resource?: ResourceInstance;
}

function child(env: Env, locals: Map<string, unknown>, inFunction = env.inFunction): Env {
  const e: Env = { file: env.file, locals, parent: env, inFunction: inFunction ?? false };
  return env.resource ? { ...e, resource: env.resource } : e;
}

type Sym =
  | { kind: 'param'; decl: ParamDecl; lazy: Lazy<unknown> }
  | { kind: 'var'; decl: Statement; lazy: Lazy<unknown> }
  | { kind: 'resource'; rs: ResourceSymbol }
  | { kind: 'module'; ms: ModuleSymbol }
  | { kind: 'func'; decl: FuncDecl; file: BicepFile }
  | { kind: 'type'; decl: Extract<Statement, { kind: 'type' }> }
  | { kind: 'import'; alias: string; name: string; path: string; from: BicepFile; offset: number; lazy: Lazy<Sym | undefined> }
  | { kind: 'namespace'; lazy: Lazy<BicepFile> };

/** Only @export() vars, types and functions can be imported. */
function isExported(sym: Sym): boolean {
  if (sym.kind !== 'var' && sym.kind !== 'type' && sym.kind !== 'func') return false;
  return sym.decl.decorators.some((d) => d.name.toLowerCase() === 'export');
}

function parseTypeString(s: string): { type: string; apiVersion: string | undefined } {
  const at = s.indexOf('@');
  return at < 0 ? { type: s, apiVersion: undefined } : { type: s.slice(0, at), apiVersion: s.slice(at + 1) };
}

/** The object literal of a resource or module body (after `if (…)` or `[for …: …]`). */
function unwrapBody(e: Expr): { obj: Expr; cond: Expr | undefined; loop: Extract<Expr, { kind: 'for' }> | undefined } {
  if (e.kind === 'if') return { obj: e.body, cond: e.cond, loop: undefined };
  if (e.kind === 'for') {
    const inner = e.body.kind === 'if' ? e.body : undefined;
    return { obj: inner ? inner.body : e.body, cond: inner ? inner.cond : e.filter, loop: e };
  }
  return { obj: e, cond: undefined, loop: undefined };
}

function objectProp(obj: Expr, key: string): Expr | undefined {
  if (obj.kind !== 'object') return undefined;
  for (const it of obj.items) if (it.kind === 'prop' && typeof it.key === 'string' && it.key === key) return it.value;
  return undefined;
}

// ---- files ------------------------------------------------------------------------------------------

export interface BicepFileOptions {
  /** Values for params (lazy: a module's argument is evaluated when the param is first read). */
  readonly params?: ParamThunks;
  /** `gatehouse check`: a param with neither value nor default is Unknown instead of an error. */
  readonly unknownParamsAllowed?: boolean;
  /** Where the file was referenced from (a module declaration), for 'cannot read' diagnostics. */
  readonly from?: { file: SourceFile | string; offset?: number };
}

export class BicepFile implements DeploymentUnit {
  readonly path: string;
  readonly source: SourceFile;
  readonly program: Program;
  readonly scope: ScopeContext;
  readonly symbols = new Map<string, Sym>();
  readonly outputs = new Map<string, { decl: Extract<Statement, { kind: 'output' }>; lazy: Lazy<unknown> }>();
  private readonly statementsInOrder: Statement[] = [];
  readonly fnCtx: FunctionContext;
  readonly isParamsFile: boolean;
  usingPath: string | undefined;
  extendsPath: { path: string; offset: number } | undefined;

  constructor(
    readonly ctx: DeploymentContext,
    path: string,
    scope: ScopeContext,
    readonly options: BicepFileOptions = {},
  ) {
    this.path = path;
    this.isParamsFile = path.toLowerCase().endsWith('.bicepparam');
    const text = ctx.readText(path);
    this.source = new SourceFile(path, text);
    const { program, errors } = parseBicep(text);
    this.program = program;
    for (const e of errors) ctx.report(new LocatedError('GH_BICEP_SYNTAX', e.message, this.source, e.start));
    // targetScope comes from the file itself
    let target = scope.targetScope;
    for (const st of program.statements) {
      if (st.kind === 'targetScope' && st.value?.kind === 'string' && st.value.holes.length === 0) {
        const v = st.value.pieces[0] as TargetScope;
        if (v === 'resourceGroup' || v === 'subscription' || v === 'managementGroup' || v === 'tenant') target = v;
      }
    }
    this.scope = { ...scope, targetScope: target };
    const self = this;
    this.fnCtx = {
      get scope() {
        return self.scope;
      },
      now: ctx.now,
      newGuid: () => ctx.newGuid(),
      reference: (id, _v, full) => ctx.referenceById(id, full),
    };
    this.declare();
    this.staticCheck();
  }

  private loc(offset: number): { file: SourceFile; offset: number } {
    return { file: this.source, offset };
  }

  error(code: ErrorCode, message: string, node: { start: number; end?: number }): LocatedError {
    return new LocatedError(code, message, this.source, node.start);
  }

  private declare(): void {
    const env: Env = { file: this, locals: undefined, parent: undefined };
    const firstAt = new Map<string, number>();
    for (const st of this.program.statements) {
      this.statementsInOrder.push(st);
      const add = (name: string, sym: Sym, at: number) => {
        if (this.symbols.has(name)) {
          const first = firstAt.get(name);
          if (first !== undefined) this.ctx.report(new LocatedError('GH_BICEP_DUPLICATE_SYMBOL', `'${name}' is declared more than once`, this.source, first));
          this.ctx.report(new LocatedError('GH_BICEP_DUPLICATE_SYMBOL', `'${name}' is declared more than once`, this.source, at));
          return;
        }
        firstAt.set(name, at);
        this.symbols.set(name, sym);
      };
      switch (st.kind) {
        case 'param':
          add(st.name, { kind: 'param', decl: st, lazy: new Lazy(() => this.paramValue(st, env), `param '${st.name}'`) }, st.nameSpan.start);
          break;
        case 'var':
          add(st.name, { kind: 'var', decl: st, lazy: new Lazy(() => this.eval(st.value, env), `var '${st.name}'`) }, st.nameSpan.start);
          break;
        case 'resource':
          add(st.name, { kind: 'resource', rs: new ResourceSymbol(this, st, undefined) }, st.nameSpan.start);
          break;
        case 'module':
          add(st.name, { kind: 'module', ms: new ModuleSymbol(this, st) }, st.nameSpan.start);
          break;
        case 'func':
          add(st.name, { kind: 'func', decl: st, file: this }, st.nameSpan.start);
          break;
        case 'type':
          add(st.name, { kind: 'type', decl: st }, st.nameSpan.start);
          break;
        case 'output':
          if (this.outputs.has(st.name)) this.ctx.report(new LocatedError('GH_BICEP_DUPLICATE_SYMBOL', `output '${st.name}' is declared more than once`, this.source, st.nameSpan.start));
          else this.outputs.set(st.name, { decl: st, lazy: new Lazy(() => this.outputValue(st, env), `output '${st.name}'`) });
          break;
        case 'import': {
          if (st.items === undefined && st.wildcardAlias) {
            const path = this.resolvePath(st.path);
            add(st.wildcardAlias, { kind: 'namespace', lazy: new Lazy(() => this.loadImport(path, st.pathSpan.start), `import '${st.path}'`) }, st.start);
          } else if (st.items) {
            const path = this.resolvePath(st.path);
            for (const it of st.items) {
              const sym: Sym = {
                kind: 'import',
                alias: it.alias,
                name: it.name,
                path,
                from: this,
                offset: it.span.start,
                lazy: new Lazy(() => {
                  const f = this.loadImport(path, st.pathSpan.start);
                  const target = f.symbols.get(it.name);
                  if (!target) throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `'${st.path}' does not declare '${it.name}'`, it.span);
                  if (!isExported(target)) throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `'${it.name}' in '${st.path}' is not exported: add @export() to its declaration`, it.span);
                  return target;
                }, `import '${it.name}'`),
              };
              add(it.alias, sym, it.span.start);
            }
          }
          break;
        }
        case 'using':
          if (st.path !== undefined) this.usingPath = this.resolvePath(st.path);
          break;
        case 'extends':
          if (st.path !== undefined) this.extendsPath = { path: this.resolvePath(st.path), offset: st.pathSpan?.start ?? st.start };
          break;
        default:
          break;
      }
    }
  }

  /** `gatehouse check`: unknown conditions, loops and names are warnings, not errors. */
  get lenient(): boolean {
    return this.options.unknownParamsAllowed ?? false;
  }

  functionNames(): string[] {
    return [...this.symbols].filter(([, s]) => s.kind === 'func' || s.kind === 'import').map(([k]) => k);
  }

  resolvePath(p: string): string {
    return resolve(dirname(this.path), p);
  }

  private readonly imports = new Map<string, BicepFile>();
  private loadImport(path: string, offset: number): BicepFile {
    let f = this.imports.get(path);
    if (!f) {
      try {
        f = new BicepFile(this.ctx, path, this.scope, { from: this.loc(offset) });
      } catch (e) {
        if (e instanceof LocatedError) throw e;
        throw new LocatedError('GH_BICEP_FILE', `cannot read '${path}': ${(e as Error).message}`, this.source, offset);
      }
      this.imports.set(path, f);
    }
    return f;
  }

  // ---- static checks: unknown functions and undefined names, before anything is evaluated -----------
  private staticCheck(): void {
    const visit = (e: Expr | undefined, scope: Set<string>[]): void => {
      if (!e) return;
      const known = (n: string) => scope.some((s) => s.has(n)) || this.symbols.has(n) || n === 'sys' || n === 'az';
      switch (e.kind) {
        case 'ident':
          if (!known(e.name)) {
            const s = closest(e.name, [...this.symbols.keys(), ...scope.flatMap((x) => [...x])]);
            this.ctx.report(this.error('GH_BICEP_UNDEFINED_SYMBOL', `the name '${e.name}' does not exist in the current context${s ? `; did you mean '${s}'?` : ''}`, e));
          }
          return;
        case 'call': {
          const local = e.ns === undefined && (this.symbols.get(e.name)?.kind === 'func' || this.symbols.get(e.name)?.kind === 'import');
          if (!local && !isKnownFunction(e.name)) this.ctx.report(new LocatedError('GH_BICEP_UNKNOWN_FUNCTION', unknownFunctionMessage(e.name, this.functionNames()), this.source, e.nameSpan.start));
          for (const a of e.args) visit(a, scope);
          return;
        }
        case 'string':
          for (const h of e.holes) visit(h, scope);
          return;
        case 'array':
          for (const it of e.items) visit(it.kind === 'spread' ? it.expr : it, scope);
          return;
        case 'object': {
          const nested = e.items.filter((i) => i.kind === 'resource').map((i) => (i.kind === 'resource' ? i.decl.name : ''));
          const inner = nested.length ? [...scope, new Set(nested)] : scope;
          for (const it of e.items) {
            if (it.kind === 'prop') {
              if (typeof it.key !== 'string') visit(it.key, inner);
              visit(it.value, inner);
            } else if (it.kind === 'spread') visit(it.expr, inner);
            else visit(it.decl.value, inner);
          }
          return;
        }
        case 'method':
          visit(e.base, scope);
          for (const a of e.args) visit(a, scope);
          return;
        case 'member':
        case 'child':
          visit(e.base, scope);
          return;
        case 'index':
          visit(e.base, scope);
          visit(e.index, scope);
          return;
        case 'unary':
        case 'nonNull':
        case 'paren':
          visit(e.expr, scope);
          return;
        case 'binary':
          visit(e.left, scope);
          visit(e.right, scope);
          return;
        case 'ternary':
          visit(e.cond, scope);
          visit(e.then, scope);
          visit(e.else, scope);
          return;
        case 'lambda':
          visit(e.body, [...scope, new Set(e.params)]);
          return;
        case 'for': {
          visit(e.source, scope);
          const s = new Set<string>();
          if (e.item) s.add(e.item);
          if (e.index) s.add(e.index);
          visit(e.filter, [...scope, s]);
          visit(e.body, [...scope, s]);
          return;
        }
        case 'if':
          visit(e.cond, scope);
          visit(e.body, scope);
          return;
        default:
          return;
      }
    };
    const decos = (ds: Decorator[]) => ds.forEach((d) => visit(d.call.kind === 'call' ? { ...d.call, args: d.call.args, name: 'any' } : undefined, []));
    for (const st of this.program.statements) {
      if ('decorators' in st) decos(st.decorators);
      switch (st.kind) {
        case 'param':
        case 'var':
        case 'output':
        case 'resource':
        case 'module':
          visit(st.value, []);
          break;
        case 'func':
          visit(st.body, [new Set(st.params.map((p) => p.name))]);
          break;
        default:
          break;
      }
    }
  }

  // ---- parameters --------------------------------------------------------------------------------
  private paramValue(decl: ParamDecl, env: Env): unknown {
    const provided = this.options.params;
    let thunk = provided?.get(decl.name);
    if (!thunk && provided) for (const [k, v] of provided) if (k.toLowerCase() === decl.name.toLowerCase()) thunk = v;
    let value: unknown;
    if (thunk) value = thunk();
    else if (decl.value) value = this.eval(decl.value, env);
    else if (decl.type?.nullable) value = null;
    else if (this.options.unknownParamsAllowed) value = new Unknown(`parameter '${decl.name}'`);
    else throw this.error('GH_BICEP_PARAM_MISSING', `parameter '${decl.name}' has no value and no default`, decl.nameSpan);
    if (!isUnknown(value)) this.validateParam(decl, value, env);
    return value;
  }

  private validateParam(decl: ParamDecl, value: unknown, env: Env): void {
    const bad = (msg: string): never => {
      throw this.error('GH_BICEP_PARAM_INVALID', `parameter '${decl.name}': ${msg}`, decl.nameSpan);
    };
    const t = decl.type;
    if (t && value !== null && !(value instanceof ResourceRef)) checkType(t, value, (m) => bad(m), (n) => this.resolveType(n));
    for (const d of decl.decorators) {
      const name = d.name.toLowerCase();
      if (!['allowed', 'minvalue', 'maxvalue', 'minlength', 'maxlength'].includes(name) || d.call.kind !== 'call' && d.call.kind !== 'method') continue;
      const args = d.call.args.map((a) => this.eval(a, env));
      const arg = args[0];
      if (name === 'allowed' && Array.isArray(arg)) {
        const ok = Array.isArray(value) ? value.every((v) => arg.some((a) => deepEquals(a, v))) : arg.some((a) => deepEquals(a, value));
        if (!ok) bad(`${JSON.stringify(value)} is not one of the allowed values ${JSON.stringify(arg)}`);
      }
      if (name === 'minvalue' && typeof arg === 'number' && typeof value === 'number' && value < arg) bad(`${value} is less than the minimum ${arg}`);
      if (name === 'maxvalue' && typeof arg === 'number' && typeof value === 'number' && value > arg) bad(`${value} is more than the maximum ${arg}`);
      const len = typeof value === 'string' || Array.isArray(value) ? value.length : undefined;
      if (name === 'minlength' && typeof arg === 'number' && len !== undefined && len < arg) bad(`length ${len} is less than the minimum ${arg}`);
      if (name === 'maxlength' && typeof arg === 'number' && len !== undefined && len > arg) bad(`length ${len} is more than the maximum ${arg}`);
    }
  }

  /** A user-defined type by name (local, imported, or ns.T from a wildcard import). */
  resolveType(name: string, depth = 0): TypeExpr | undefined {
    if (depth > 10) return undefined;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const ns = this.symbols.get(name.slice(0, dot));
      if (ns?.kind !== 'namespace') return undefined;
      try {
        return ns.lazy.get().resolveType(name.slice(dot + 1), depth + 1);
      } catch {
        return undefined;
      }
    }
    const sym = this.symbols.get(name);
    if (sym?.kind === 'type') return sym.decl.type;
    if (sym?.kind === 'import') {
      try {
        const target = sym.lazy.get();
        if (target?.kind === 'type') return target.decl.type;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  private outputValue(decl: Extract<Statement, { kind: 'output' }>, env: Env): unknown {
    const v = this.eval(decl.value, env);
    if (decl.type?.resourceType !== undefined && v instanceof ResourceRef) return v.inst.id();
    const m = materialize(v);
    if (decl.type && m !== null && !isUnknown(m))
      checkType(
        decl.type,
        m,
        (msg) => {
          throw this.error('GH_BICEP_TYPE', `output '${decl.name}': ${msg}`, decl.value);
        },
        (n) => this.resolveType(n),
      );
    return m;
  }

  // ---- the unit interface ------------------------------------------------------------------------
  output(name: string): unknown {
    const o = this.outputs.get(name) ?? [...this.outputs].find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    if (!o) throw new EvalError(`the module '${this.path}' has no output '${name}'`, 'GH_BICEP_UNDEFINED_SYMBOL');
    return o.lazy.get();
  }

  outputNames(): string[] {
    return [...this.outputs.keys()];
  }

  isSecureOutput(name: string): boolean {
    return this.outputs.get(name)?.decl.decorators.some((d) => d.name.toLowerCase() === 'secure') ?? false;
  }

  resources(): ResourceEntry[] {
    const out: ResourceEntry[] = [];
    for (const st of this.statementsInOrder) {
      const sym = 'name' in st && typeof st.name === 'string' ? this.symbols.get(st.name) : undefined;
      if (st.kind === 'resource' && sym?.kind === 'resource' && sym.rs.decl === st) {
        try {
          out.push(...sym.rs.allInstances());
        } catch {
          /* reported by evaluateAll */
        }
      } else if (st.kind === 'module' && sym?.kind === 'module' && sym.ms.decl === st) {
        try {
          for (const m of sym.ms.instancesFor()) {
            try {
              if (m.condition()) out.push(...m.unit().resources());
            } catch {
              /* reported by evaluateAll */
            }
          }
        } catch {
          /* reported */
        }
      }
    }
    return out;
  }

  evaluateAll(): void {
    const attempt = (f: () => unknown, at: number) => {
      try {
        f();
      } catch (e) {
        this.ctx.report(e, this.source, at);
      }
    };
    for (const st of this.statementsInOrder) {
      switch (st.kind) {
        case 'param':
        case 'var': {
          const sym = this.symbols.get(st.name);
          if (sym && (sym.kind === 'param' || sym.kind === 'var') && sym.decl === st) attempt(() => sym.lazy.get(), st.nameSpan.start);
          break;
        }
        case 'resource': {
          const sym = this.symbols.get(st.name);
          if (sym?.kind === 'resource' && sym.rs.decl === st) sym.rs.evaluateAll();
          break;
        }
        case 'module': {
          const sym = this.symbols.get(st.name);
          if (sym?.kind === 'module' && sym.ms.decl === st) sym.ms.evaluateAll();
          break;
        }
        case 'output': {
          const o = this.outputs.get(st.name);
          if (o && o.decl === st) attempt(() => o.lazy.get(), st.nameSpan.start);
          break;
        }
        case 'assert':
          break;
        case 'import': {
          if (st.wildcardAlias) {
            const sym = this.symbols.get(st.wildcardAlias);
            if (sym?.kind === 'namespace') attempt(() => sym.lazy.get(), st.pathSpan.start);
          } else
            for (const it of st.items ?? []) {
              const sym = this.symbols.get(it.alias);
              if (sym?.kind === 'import') attempt(() => sym.lazy.get(), it.span.start);
            }
          break;
        }
        case 'extension':
          if (!this.isParamsFile) this.ctx.warn('GH_BICEP_UNSUPPORTED', 'extensions are not evaluated locally; the declaration is ignored', this.source, st.start);
          break;
        default:
          break;
      }
    }
    this.checkDuplicateIds();
  }

  /** Resources of this file (not its modules) with the same id: Azure rejects a resource defined twice. */
  private checkDuplicateIds(): void {
    const seen = new Map<string, ResourceInstance[]>();
    for (const st of this.statementsInOrder) {
      if (st.kind !== 'resource') continue;
      const sym = this.symbols.get(st.name);
      if (sym?.kind !== 'resource' || sym.rs.decl !== st) continue;
      let insts: ResourceInstance[];
      try {
        insts = sym.rs.allInstances();
      } catch {
        continue;
      }
      for (const i of insts) {
        try {
          if (i.existing || !i.condition()) continue;
          const id = i.id().toLowerCase();
          seen.set(id, [...(seen.get(id) ?? []), i]);
        } catch {
          /* reported already */
        }
      }
    }
    for (const [, list] of seen) {
      if (list.length < 2) continue;
      const names = list.map((i) => i.symbolicName).join(', ');
      const oneLoop = list.every((i) => i.symbol === list[0]!.symbol);
      for (const i of list) {
        const at = objectProp(i.symbol.body.obj, 'name') ?? i.symbol.decl;
        const msg = `resources ${names} have the same id ${i.id()}`;
        // iterations of one loop with the same name are one resource deployed twice: a warning
        if (oneLoop) this.ctx.warn('GH_BICEP_DUPLICATE_RESOURCE', `${msg}; the last one wins`, this.source, at.start);
        else this.ctx.report(new LocatedError('GH_BICEP_DUPLICATE_RESOURCE', msg, this.source, at.start));
      }
    }
  }

  /** Values of a .bicepparam file: param name → thunk. */
  paramAssignments(): ParamThunks {
    const out: ParamThunks = new Map();
    if (this.extendsPath) {
      const base = this.loadImport(this.extendsPath.path, this.extendsPath.offset);
      for (const [k, v] of base.paramAssignments()) out.set(k, v);
    }
    for (const [name, sym] of this.symbols) if (sym.kind === 'param' && sym.decl.value) out.set(name, () => sym.lazy.get());
    return out;
  }

  // ---- expressions -------------------------------------------------------------------------------
  lookup(name: string, env: Env, node: Expr): unknown {
    for (let e: Env | undefined = env; e; e = e.parent) if (e.locals?.has(name)) return e.locals.get(name);
    for (let r: ResourceInstance | undefined = env.resource; r; r = r.nestingParent) {
      const n = r.symbol.nested.get(name);
      if (n) return n.value(r);
    }
    const sym = this.symbols.get(name);
    if (!sym) {
      if (name === 'sys' || name === 'az') return new NamespaceRef(undefined, name);
      const s = closest(name, this.symbols.keys());
      throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `the name '${name}' does not exist in the current context${s ? `; did you mean '${s}'?` : ''}`, node);
    }
    return this.symValue(sym, node);
  }

  symValue(sym: Sym, node: Expr): unknown {
    switch (sym.kind) {
      case 'param':
      case 'var':
        return sym.lazy.get();
      case 'resource':
        return sym.rs.value(undefined);
      case 'module':
        return sym.ms.value();
      case 'namespace':
        return new NamespaceRef(sym.lazy.get(), '');
      case 'import': {
        const target = sym.lazy.get();
        if (!target) throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `'${sym.name}' cannot be imported`, node);
        const f = (target.kind === 'func' ? target.file : undefined) ?? this.imports.get(sym.path);
        return f ? f.symValue(target, node) : undefined;
      }
      case 'func':
        throw this.error('GH_BICEP_TYPE', `'${sym.decl.name}' is a function: call it with (…)`, node);
      case 'type':
        throw this.error('GH_BICEP_TYPE', `'${sym.decl.name}' is a type, not a value`, node);
    }
  }

  eval(e: Expr, env: Env): unknown {
    try {
      return this.evalInner(e, env);
    } catch (err) {
      if (err instanceof LocatedError) throw err;
      if (err instanceof CycleError) throw Object.assign(new LocatedError('GH_BICEP_CYCLE', err.message, this.source, e.start), { cycle: err });
      if (err instanceof EvalError) throw new LocatedError(err.code as ErrorCode, err.message, this.source, e.start);
      if (err instanceof RangeError) throw new LocatedError('GH_BICEP_EVAL', `evaluation is too deep (${err.message})`, this.source, e.start);
      throw err;
    }
  }

  private evalInner(e: Expr, env: Env): unknown {
    switch (e.kind) {
      case 'int':
        return e.value;
      case 'bool':
        return e.value;
      case 'null':
        return null;
      case 'string': {
        if (e.holes.length === 0) return e.pieces[0];
        let s = e.pieces[0] ?? '';
        const parts: unknown[] = [];
        for (let i = 0; i < e.holes.length; i++) {
          const v = materialize(this.eval(e.holes[i]!, env));
          parts.push(v);
          s += (isUnknown(v) ? '' : interpolationString(v)) + (e.pieces[i + 1] ?? '');
        }
        const u = parts.find(isUnknown);
        if (u) return new Unknown(`'${e.pieces.map((p, i) => p + (i < parts.length ? `\${${isUnknown(parts[i]) ? (parts[i] as Unknown).expression : interpolationString(parts[i])}}` : '')).join('')}'`);
        return s;
      }
      case 'paren':
        return this.eval(e.expr, env);
      case 'array': {
        const out: unknown[] = [];
        for (const it of e.items) {
          if (it.kind === 'spread') {
            const v = this.eval(it.expr, env);
            if (isUnknown(v)) return new Unknown('[...spread]');
            if (!Array.isArray(v)) throw this.error('GH_BICEP_TYPE', `the spread operator needs an array here, got ${describe(v)}`, it);
            out.push(...v);
          } else out.push(this.eval(it, env));
        }
        return out;
      }
      case 'object':
        return this.evalObject(e.items, env, undefined);
      case 'ident':
        if (env.inFunction) {
          for (let x: Env | undefined = env; x; x = x.parent) if (x.locals?.has(e.name)) return x.locals.get(e.name);
          const s = this.symbols.get(e.name);
          if (s && s.kind !== 'func' && s.kind !== 'type' && !(s.kind === 'import')) throw this.error('GH_BICEP_TYPE', `a user-defined function may use only its parameters, not '${e.name}'`, e);
        }
        return this.lookup(e.name, env, e);
      case 'unary': {
        const v = this.eval(e.expr, env);
        if (isUnknown(v)) return new Unknown(`${e.op}${v.expression}`);
        if (e.op === '!') {
          if (typeof v !== 'boolean') throw this.error('GH_BICEP_TYPE', `'!' needs a bool, got ${describe(v)}`, e);
          return !v;
        }
        if (typeof v !== 'number') throw this.error('GH_BICEP_TYPE', `unary '${e.op}' needs an int, got ${describe(v)}`, e);
        return e.op === '-' ? (v === 0 ? 0 : -v) : v;
      }
      case 'nonNull':
        return this.eval(e.expr, env);
      case 'binary':
        return this.evalBinary(e, env);
      case 'ternary': {
        const c = this.eval(e.cond, env);
        if (isUnknown(c)) return new Unknown(`if(${c.expression}, …)`);
        if (typeof c !== 'boolean') throw this.error('GH_BICEP_TYPE', `the condition of '?:' must be a bool, got ${describe(c)}`, e.cond);
        return this.eval(c ? e.then : e.else, env);
      }
      case 'member':
        return this.member(this.eval(e.base, env), e.name, e.safe, e);
      case 'index': {
        const base = this.eval(e.base, env);
        const idx = this.eval(e.index, env);
        return this.index(base, idx, e.safe, e.fromEnd, e);
      }
      case 'child': {
        const base = this.eval(e.base, env);
        if (!(base instanceof ResourceRef)) throw this.error('GH_BICEP_TYPE', `'::${e.name}' needs a resource on the left`, e);
        const nested = base.inst.symbol.nested.get(e.name);
        if (!nested) throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `the resource '${base.inst.symbol.decl.name}' has no nested resource '${e.name}'`, e);
        return nested.value(base.inst);
      }
      case 'call':
        return this.call(e, env);
      case 'method':
        return this.method(e, env);
      case 'lambda':
        return new LambdaValue(e.params.length, (args) => {
          const locals = new Map<string, unknown>();
          e.params.forEach((p, i) => locals.set(p, args[i]));
          return this.eval(e.body, child(env, locals));
        });
      case 'for': {
        const src = this.eval(e.source, env);
        if (isUnknown(src)) return new Unknown(`[for … in ${src.expression}]`);
        if (!Array.isArray(src)) throw this.error('GH_BICEP_TYPE', `a for loop needs an array, got ${describe(src)}`, e.source);
        const out: unknown[] = [];
        src.forEach((item, i) => {
          const locals = new Map<string, unknown>();
          if (e.item) locals.set(e.item, item);
          if (e.index) locals.set(e.index, i);
          const inner = child(env, locals);
          if (e.filter) {
            const c = this.eval(e.filter, inner);
            if (c !== true) return;
          }
          out.push(this.eval(e.body, inner));
        });
        return out;
      }
      case 'if':
        throw this.error('GH_BICEP_SYNTAX', `'if' is allowed only as the body of a resource or module`, e);
      case 'error':
        throw this.error('GH_BICEP_SYNTAX', 'this expression has syntax errors', e);
    }
  }

  evalObject(items: ObjectItem[], env: Env, skip: Set<string> | undefined): JsonObject {
    const out: JsonObject = {};
    for (const it of items) {
      if (it.kind === 'resource') continue;
      if (it.kind === 'spread') {
        const v = this.eval(it.expr, env);
        if (isUnknown(v)) continue;
        if (v === null) continue;
        if (!isObject(v)) throw this.error('GH_BICEP_TYPE', `the spread operator needs an object here, got ${describe(v)}`, it);
        Object.assign(out, v);
        continue;
      }
      let key: string;
      if (typeof it.key === 'string') key = it.key;
      else {
        const k = this.eval(it.key, env);
        if (typeof k !== 'string') throw this.error('GH_BICEP_TYPE', `an object key must be a string, got ${describe(k)}`, it.key);
        key = k;
      }
      if (skip?.has(key)) continue;
      out[key] = materialize(this.eval(it.value, env));
    }
    return out;
  }

  private evalBinary(e: Extract<Expr, { kind: 'binary' }>, env: Env): unknown {
    const op = e.op;
    const l = this.eval(e.left, env);
    if (op === '&&' || op === '||') {
      if (isUnknown(l)) return new Unknown(`${l.expression} ${op} …`);
      if (typeof l !== 'boolean') throw this.error('GH_BICEP_TYPE', `'${op}' needs bools, got ${describe(l)}`, e.left);
      if (op === '&&' && !l) return false;
      if (op === '||' && l) return true;
      const r = this.eval(e.right, env);
      if (isUnknown(r)) return r;
      if (typeof r !== 'boolean') throw this.error('GH_BICEP_TYPE', `'${op}' needs bools, got ${describe(r)}`, e.right);
      return r;
    }
    if (op === '??') {
      if (l !== null && l !== undefined) return l;
      return this.eval(e.right, env);
    }
    const r = this.eval(e.right, env);
    if (isUnknown(l) || isUnknown(r)) return new Unknown(`${isUnknown(l) ? l.expression : JSON.stringify(l)} ${op} ${isUnknown(r) ? r.expression : JSON.stringify(r)}`);
    const fn: Record<string, string> = { '==': 'equals', '!=': 'equals', '<': 'less', '<=': 'lessOrEquals', '>': 'greater', '>=': 'greaterOrEquals', '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod' };
    const node = e;
    const at = (err: unknown) => {
      if (err instanceof EvalError) throw new LocatedError(err.code as ErrorCode, err.message.replace(/^(\w+)\(\)/, `'${op}'`), this.source, node.start);
      throw err;
    };
    if (op === '=~' || op === '!~') {
      if (typeof l !== 'string' || typeof r !== 'string') throw this.error('GH_BICEP_TYPE', `'${op}' needs strings, got ${describe(l)} and ${describe(r)}`, e);
      const eq = l.toLowerCase() === r.toLowerCase();
      return op === '=~' ? eq : !eq;
    }
    try {
      const v = callBuiltin(fn[op]!, [materialize(l), materialize(r)], this.fnCtx);
      return op === '!=' ? !v : v;
    } catch (err) {
      return at(err);
    }
  }

  member(base: unknown, name: string, safe: boolean, node: Expr): unknown {
    if (isUnknown(base)) return new Unknown(`${base.expression}.${name}`);
    if (base === null || base === undefined) {
      if (safe) return null;
      throw this.error('GH_BICEP_EVAL', `cannot read property '${name}' of null`, node);
    }
    if (base instanceof ResourceRef) return base.inst.member(name, node);
    if (base instanceof ModuleRef) {
      if (name === 'outputs') return new ModuleOutputs(base.inst);
      if (name === 'name') return base.inst.name();
      throw this.error('GH_BICEP_EVAL', `a module has 'name' and 'outputs', not '${name}'`, node);
    }
    if (base instanceof ModuleOutputs) {
      if (!base.inst.condition()) return null;
      return base.inst.unit().output(name);
    }
    if (base instanceof NamespaceRef) {
      if (!base.file) throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `'${base.name}.${name}' is not a value`, node);
      const sym = base.file.symbols.get(name);
      if (!sym) throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `'${base.file.path}' does not declare '${name}'`, node);
      if (!isExported(sym)) throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `'${name}' in '${base.file.path}' is not exported: add @export() to its declaration`, node);
      return base.file.symValue(sym, node);
    }
    if (Array.isArray(base) && base.every((x) => x instanceof ResourceRef) && base.length > 0) {
      throw this.error('GH_BICEP_TYPE', `'${name}' is a property of one resource: index the resource collection first`, node);
    }
    if (isObject(base)) {
      const k = findKey(base, name);
      if (k !== undefined) return base[k];
      if (safe) return null;
      if (isRuntime(base)) return new Unknown(`….${name}`);
      throw this.error('GH_BICEP_EVAL', `the object has no property '${name}' (it has: ${Object.keys(base).slice(0, 10).join(', ') || 'none'})`, node);
    }
    if (safe) return null;
    throw this.error('GH_BICEP_TYPE', `cannot read property '${name}' of ${describe(base)}`, node);
  }

  index(base: unknown, idx: unknown, safe: boolean, fromEnd: boolean, node: Expr): unknown {
    if (isUnknown(base)) return new Unknown(`${base.expression}[${isUnknown(idx) ? idx.expression : JSON.stringify(idx)}]`);
    if (isUnknown(idx)) return new Unknown(`…[${idx.expression}]`);
    if (base === null || base === undefined) {
      if (safe) return null;
      throw this.error('GH_BICEP_EVAL', `cannot index null`, node);
    }
    if (Array.isArray(base)) {
      if (typeof idx !== 'number') throw this.error('GH_BICEP_TYPE', `an array index must be an int, got ${describe(idx)}`, node);
      const i = fromEnd ? base.length - idx : idx;
      if (i < 0 || i >= base.length || !Number.isInteger(i)) {
        if (safe) return null;
        if (isRuntime(base)) return new Unknown(`…[${idx}]`);
        throw this.error('GH_BICEP_EVAL', `index ${fromEnd ? '^' : ''}${idx} is outside the array of length ${base.length}`, node);
      }
      return base[i];
    }
    if (typeof idx === 'string') return this.member(base, idx, safe, node);
    if (safe) return null;
    throw this.error('GH_BICEP_TYPE', `cannot index ${describe(base)} with ${describe(idx)}`, node);
  }

  private callUser(decl: FuncDecl, file: BicepFile, args: unknown[], node: Expr): unknown {
    if (args.length !== decl.params.length) throw this.error('GH_BICEP_ARGUMENTS', `${decl.name}() expects ${decl.params.length} argument(s), got ${args.length}`, node);
    const locals = new Map<string, unknown>();
    decl.params.forEach((p, i) => locals.set(p.name, args[i]));
    if (++file.callDepth > 100) {
      file.callDepth = 0;
      throw this.error('GH_BICEP_CYCLE', `${decl.name}() calls itself too deeply (recursion is not allowed)`, node);
    }
    try {
      return file.eval(decl.body, { file, locals, parent: undefined, inFunction: true });
    } finally {
      file.callDepth--;
    }
  }
  callDepth = 0;

  private call(e: Extract<Expr, { kind: 'call' }>, env: Env): unknown {
    if (e.ns === undefined) {
      const sym = this.symbols.get(e.name);
      if (sym?.kind === 'func') return this.callUser(sym.decl, this, e.args.map((a) => this.eval(a, env)), e);
      if (sym?.kind === 'import') {
        const target = sym.lazy.get();
        if (target?.kind === 'func') return this.callUser(target.decl, target.file, e.args.map((a) => this.eval(a, env)), e);
      }
    }
    return this.callFunction(e.name, e.args, env, e);
  }

  private method(e: Extract<Expr, { kind: 'method' }>, env: Env): unknown {
    const base = this.eval(e.base, env);
    if (base instanceof NamespaceRef) {
      if (base.file) {
        const sym = base.file.symbols.get(e.name);
        if (sym?.kind === 'func') {
          if (!isExported(sym)) throw this.error('GH_BICEP_UNDEFINED_SYMBOL', `'${e.name}' in '${base.file.path}' is not exported: add @export() to its declaration`, e);
          return this.callUser(sym.decl, base.file, e.args.map((a) => this.eval(a, env)), e);
        }
        throw this.error('GH_BICEP_UNKNOWN_FUNCTION', `'${base.file.path}' has no function '${e.name}'`, e);
      }
      return this.callFunction(e.name, e.args, env, e);
    }
    if (base instanceof ResourceRef) {
      const l = e.name.toLowerCase();
      const args = e.args.map((a) => this.eval(a, env));
      if (l === 'getsecret') return new Unknown(`${base.inst.symbol.decl.name}.getSecret(${args.map((a) => JSON.stringify(a)).join(', ')})`);
      if (l.startsWith('list')) return new Unknown(`${base.inst.symbol.decl.name}.${e.name}()`);
      throw this.error('GH_BICEP_UNKNOWN_FUNCTION', `resources have no function '${e.name}'`, e);
    }
    if (isUnknown(base)) return new Unknown(`${base.expression}.${e.name}(…)`);
    throw this.error('GH_BICEP_UNKNOWN_FUNCTION', `'${e.name}' cannot be called on ${describe(base)}`, e);
  }

  private callFunction(name: string, argExprs: Expr[], env: Env, node: Extract<Expr, { kind: 'call' | 'method' }>): unknown {
    const l = name.toLowerCase();
    const nameAt = node.kind === 'call' ? node.nameSpan.start : node.start;
    if (!isKnownFunction(l)) throw new LocatedError('GH_BICEP_UNKNOWN_FUNCTION', unknownFunctionMessage(name, this.functionNames()), this.source, nameAt);
    // functions that must see their arguments unevaluated or evaluate lazily
    if (l === 'nameof') {
      const a = argExprs[0];
      if (a?.kind === 'ident') return a.name;
      if (a?.kind === 'member') return a.name;
      if (a?.kind === 'index' && a.index.kind === 'string' && a.index.holes.length === 0) return a.index.pieces[0];
      throw this.error('GH_BICEP_ARGUMENTS', 'nameof() needs a symbol or a property access', node);
    }
    const args = argExprs.map((a) => this.eval(a, env));
    switch (l) {
      case 'loadtextcontent':
      case 'loadfileasbase64':
      case 'loadjsoncontent':
      case 'loadyamlcontent':
      case 'loaddirectoryfileinfo':
        return this.load(l, args, node, name);
      case 'readenvironmentvariable': {
        const n = args[0];
        if (typeof n !== 'string') throw this.error('GH_BICEP_TYPE', 'readEnvironmentVariable() needs a variable name', node);
        const v = process.env[n];
        if (v !== undefined) return v;
        if (args.length > 1) return args[1];
        throw this.error('GH_BICEP_EVAL', `the environment variable '${n}' is not set and has no default`, node);
      }
      case 'reference': {
        const target = args[0];
        const full = typeof args[2] === 'string' && args[2].toLowerCase() === 'full';
        if (target instanceof ResourceRef) return this.ctx.reference(target.inst, full);
        if (typeof target === 'string') return this.ctx.referenceById(target, full);
        if (isUnknown(target)) return new Unknown(`reference(${target.expression})`);
        throw this.error('GH_BICEP_TYPE', `reference() needs a resource id, got ${describe(target)}`, node);
      }
      case 'getsecret':
        return new Unknown(`getSecret(${args.map((a) => JSON.stringify(a)).join(', ')})`);
      case 'externalinput':
      case 'readcliarg':
        return new Unknown(`${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
      case 'deployer':
        return { objectId: '22222222-2222-2222-2222-222222222222', tenantId: this.scope.tenantId, userPrincipalName: 'gatehouse@local' };
      default:
        break;
    }
    if (l.startsWith('list') && !hasBuiltin(l)) return new Unknown(`${name}(…)`);
    if (BICEP_FUNCTIONS.has(l)) return new Unknown(`${name}(…)`);
    try {
      return callBuiltin(name, args.map((a) => (a instanceof LambdaValue ? a : materialize(a))), this.fnCtx);
    } catch (err) {
      if (err instanceof EvalError) throw new LocatedError(err.code as ErrorCode, err.message, this.source, nameAt);
      throw err;
    }
  }

  private load(fn: string, args: unknown[], node: Expr, displayName: string): unknown {
    const rel = args[0];
    if (typeof rel !== 'string') throw this.error('GH_BICEP_TYPE', `${fn}() needs a file path`, node);
    const path = this.resolvePath(rel);
    const decode = (bytes: Buffer, enc: unknown): string => {
      const e = typeof enc === 'string' ? enc.toLowerCase() : 'utf-8';
      let s: string;
      if (e === 'utf-16' || e === 'utf-16le') s = new TextDecoder('utf-16le').decode(bytes);
      else if (e === 'utf-16be') s = new TextDecoder('utf-16be').decode(bytes);
      else if (e === 'us-ascii') s = bytes.toString('ascii');
      else if (e === 'iso-8859-1') s = bytes.toString('latin1');
      else s = new TextDecoder('utf-8').decode(bytes);
      return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
    };
    try {
      if (fn === 'loaddirectoryfileinfo') {
        const glob = typeof args[1] === 'string' ? args[1] : '*';
        const re = new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
        this.ctx.files.add(path);
        return readdirSync(path)
          .filter((n) => statSync(resolve(path, n)).isFile() && re.test(n))
          .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0))
          .map((n) => ({ relativePath: `${rel.replace(/\/$/, '')}/${n}`, baseName: n, extension: extname(n) }));
      }
      const bytes = this.ctx.readBytes(path);
      if (fn === 'loadfileasbase64') return bytes.toString('base64');
      if (fn === 'loadtextcontent') {
        const text = decode(bytes, args[1]);
        if (text.length > 0) this.ctx.loadedTexts.set(text, path);
        return text;
      }
      const text = decode(bytes, args[2]);
      let value: unknown;
      if (fn === 'loadjsoncontent') value = JSON.parse(stripJsonComments(text));
      else value = parseYaml(text);
      if (typeof args[1] === 'string' && args[1] !== '') value = jsonPath(value, args[1]);
      return value;
    } catch (e) {
      if (e instanceof LocatedError || e instanceof EvalError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw this.error('GH_BICEP_FILE', `${displayName}('${rel}'): ${code === 'ENOENT' ? `no such file ${path}` : (e as Error).message}`, node);
    }
  }
}

// ---- resources ----------------------------------------------------------------------------------------

export class ResourceSymbol {
  readonly nested = new Map<string, ResourceSymbol>();
  readonly body: ReturnType<typeof unwrapBody>;
  /** A resource of a Bicep extension (Kubernetes, Microsoft Graph, http …): listed nowhere, not evaluated. */
  readonly extension: boolean;
  private readonly byParent = new Map<ResourceInstance | undefined, Lazy<ResourceInstance[]>>();

  constructor(
    readonly file: BicepFile,
    readonly decl: ResourceDecl,
    readonly parentSym: ResourceSymbol | undefined,
  ) {
    this.body = unwrapBody(decl.value);
    const hasExtensions = file.program.statements.some((st) => st.kind === 'extension');
    const t = parseTypeString(decl.typeString).type;
    this.extension =
      (parentSym?.extension ?? false) ||
      (hasExtensions && !parentSym && (!/^[\w-]+\.[\w.-]+\//.test(t) || objectProp(this.body.obj, 'name') === undefined));
    if (this.extension && !parentSym)
      file.ctx.warn('GH_BICEP_UNSUPPORTED', `'${decl.name}' is a resource of a Bicep extension ('${decl.typeString}'); extension resources are not evaluated locally`, file.source, decl.start);
    if (this.body.obj.kind === 'object') {
      for (const it of this.body.obj.items) {
        if (it.kind === 'resource') {
          if (this.nested.has(it.decl.name)) file.ctx.report(new LocatedError('GH_BICEP_DUPLICATE_SYMBOL', `'${it.decl.name}' is declared more than once`, file.source, it.decl.nameSpan.start));
          this.nested.set(it.decl.name, new ResourceSymbol(file, it.decl, this));
        }
      }
    } else if (this.body.obj.kind !== 'error') {
      file.ctx.report(new LocatedError('GH_BICEP_SYNTAX', 'a resource body must be an object', file.source, this.body.obj.start));
    }
  }

  instancesFor(parent: ResourceInstance | undefined): ResourceInstance[] {
    let lazy = this.byParent.get(parent);
    if (!lazy) {
      lazy = new Lazy(() => this.makeInstances(parent), `resource '${this.decl.name}'`);
      this.byParent.set(parent, lazy);
    }
    return lazy.get();
  }

  private makeInstances(parent: ResourceInstance | undefined): ResourceInstance[] {
    const env: Env = parent ? parent.env : { file: this.file, locals: undefined, parent: undefined };
    const loop = this.body.loop;
    if (!loop) return [new ResourceInstance(this, env, undefined, parent)];
    const src = this.file.eval(loop.source, env);
    if (isUnknown(src)) {
      const msg = `the loop of '${this.decl.name}' depends on a value known only after deployment (${src.expression})`;
      if (!this.file.lenient) throw this.file.error('GH_BICEP_UNKNOWN_CONDITION', msg, loop.source);
      this.file.ctx.warn('GH_BICEP_UNKNOWN_CONDITION', `${msg}: no instances are evaluated`, this.file.source, loop.source.start);
      return [];
    }
    if (!Array.isArray(src)) throw this.file.error('GH_BICEP_TYPE', `a for loop needs an array, got ${describe(src)}`, loop.source);
    return src.map((item, i) => {
      const locals = new Map<string, unknown>();
      if (loop.item) locals.set(loop.item, item);
      if (loop.index) locals.set(loop.index, i);
      return new ResourceInstance(this, child(env, locals), i, parent);
    });
  }

  value(parent: ResourceInstance | undefined): unknown {
    if (this.parentSym && !parent) throw new EvalError(`'${this.decl.name}' is a nested resource: use parent::${this.decl.name}`, 'GH_BICEP_UNDEFINED_SYMBOL');
    const xs = this.instancesFor(parent);
    if (this.body.loop) return xs.map((x) => new ResourceRef(x));
    return new ResourceRef(xs[0]!);
  }

  /** Every instance of this symbol and its nested symbols (depth first), for the resource list. */
  allInstances(parent?: ResourceInstance): ResourceInstance[] {
    const out: ResourceInstance[] = [];
    for (const inst of this.instancesFor(parent)) {
      out.push(inst);
      for (const n of this.nested.values()) {
        try {
          out.push(...n.allInstances(inst));
        } catch {
          /* reported by evaluateAll */
        }
      }
    }
    return out;
  }

  evaluateAll(parent?: ResourceInstance): void {
    let insts: ResourceInstance[];
    try {
      insts = this.instancesFor(parent);
    } catch (e) {
      this.file.ctx.report(e, this.file.source, this.decl.start);
      return;
    }
    for (const inst of insts) {
      try {
        if (!inst.condition()) continue;
        inst.id();
        inst.body();
      } catch (e) {
        this.file.ctx.report(e, this.file.source, this.decl.start);
      }
      for (const n of this.nested.values()) n.evaluateAll(inst);
    }
  }
}

type ScopeInfo = { kind: 'rg'; sub: string; rg: string } | { kind: 'sub'; sub: string } | { kind: 'tenant' } | { kind: 'mg'; mg: string } | { kind: 'ext'; baseId: string };

export class ResourceInstance implements ResourceEntry {
  readonly env: Env;
  readonly type: string;
  readonly apiVersion: string | undefined;
  readonly existing: boolean;
  readonly symbolicName: string;
  readonly origin: ResourceOrigin;
  private readonly props = new Map<string, Lazy<unknown>>();
  private readonly cond: Lazy<boolean>;
  private readonly parentLazy: Lazy<ResourceInstance | undefined>;
  private readonly scopeLazy: Lazy<ScopeInfo>;
  private readonly idLazy: Lazy<string>;
  private readonly bodyLazy: Lazy<JsonObject>;

  constructor(
    readonly symbol: ResourceSymbol,
    env: Env,
    readonly index: number | undefined,
    readonly nestingParent: ResourceInstance | undefined,
  ) {
    this.env = { ...env, resource: this };
    const file = symbol.file;
    const decl = symbol.decl;
    const t = parseTypeString(decl.typeString);
    if (nestingParent && !t.type.includes('/')) {
      this.type = `${nestingParent.type}/${t.type}`;
      this.apiVersion = t.apiVersion ?? nestingParent.apiVersion;
    } else {
      this.type = t.type;
      this.apiVersion = t.apiVersion;
      if (!symbol.extension && !/^[\w.-]+\/[\w./-]+$/.test(t.type)) file.ctx.report(new LocatedError('GH_BICEP_SYNTAX', `'${decl.typeString}' is not a resource type ('Namespace/type@version')`, file.source, decl.typeSpan.start));
    }
    this.existing = decl.existing;
    this.symbolicName = nestingParent ? `${nestingParent.symbolicName}::${decl.name}` : decl.name + (index !== undefined ? `[${index}]` : '');
    const pos = file.source.positionAt(decl.start);
    this.origin = { file: file.path, line: pos.line, column: pos.column };
    this.cond = new Lazy(() => {
      if (symbol.extension) return false;
      if (nestingParent && !nestingParent.condition()) return false;
      if (!symbol.body.cond) return true;
      const c = file.eval(symbol.body.cond, this.env);
      if (isUnknown(c)) {
        const msg = `the condition of '${decl.name}' depends on a value known only after deployment (${c.expression})`;
        if (!file.lenient) throw file.error('GH_BICEP_UNKNOWN_CONDITION', msg, symbol.body.cond);
        file.ctx.warn('GH_BICEP_UNKNOWN_CONDITION', `${msg}: evaluated as deployed`, file.source, symbol.body.cond.start);
        return true;
      }
      if (typeof c !== 'boolean') throw file.error('GH_BICEP_TYPE', `the condition of '${decl.name}' must be a bool, got ${describe(c)}`, symbol.body.cond);
      return c;
    }, `the condition of '${decl.name}'`);
    this.parentLazy = new Lazy(() => {
      if (nestingParent) return nestingParent;
      const pe = objectProp(symbol.body.obj, 'parent');
      if (!pe) return undefined;
      const p = file.eval(pe, this.env);
      if (!(p instanceof ResourceRef)) throw file.error('GH_BICEP_TYPE', `'parent' must be a resource symbol, got ${describe(p)}`, pe);
      return p.inst;
    }, `the parent of '${decl.name}'`);
    this.scopeLazy = new Lazy(() => this.computeScope(), `the scope of '${decl.name}'`);
    this.idLazy = new Lazy(() => this.computeId(), `the id of '${decl.name}'`);
    this.bodyLazy = new Lazy(() => this.computeBody(), `resource '${decl.name}'`);
  }

  prop(name: string): unknown {
    let l = this.props.get(name);
    if (!l) {
      const e = objectProp(this.symbol.body.obj, name);
      l = new Lazy(() => (e ? this.symbol.file.eval(e, this.env) : undefined), `'${this.symbol.decl.name}.${name}'`);
      this.props.set(name, l);
    }
    return l.get();
  }

  condition(): boolean {
    return this.cond.get();
  }

  parent(): ResourceInstance | undefined {
    return this.parentLazy.get();
  }

  ownName(): string {
    const n = this.prop('name');
    if (n === undefined) throw this.symbol.file.error('GH_BICEP_EVAL', `the resource '${this.symbol.decl.name}' has no 'name'`, this.symbol.decl);
    if (isUnknown(n)) {
      const at = objectProp(this.symbol.body.obj, 'name') ?? this.symbol.decl;
      const msg = `the name of '${this.symbol.decl.name}' depends on a value known only after deployment (${n.expression})`;
      if (!this.symbol.file.lenient) throw this.symbol.file.error('GH_BICEP_UNKNOWN_CONDITION', msg, at);
      this.symbol.file.ctx.warn('GH_BICEP_UNKNOWN_CONDITION', `${msg}: named '{${this.symbol.decl.name}}' here`, this.symbol.file.source, at.start);
      return `{${this.symbol.decl.name}}`;
    }
    if (typeof n !== 'string') throw this.symbol.file.error('GH_BICEP_TYPE', `the name of '${this.symbol.decl.name}' must be a string, got ${describe(n)}`, objectProp(this.symbol.body.obj, 'name') ?? this.symbol.decl);
    return n;
  }

  fullName(): string {
    const p = this.parent();
    return p ? `${p.fullName()}/${this.ownName()}` : this.ownName();
  }

  private computeScope(): ScopeInfo {
    const p = this.parent();
    if (p) return p.scopeLazy.get();
    const file = this.symbol.file;
    const se = objectProp(this.symbol.body.obj, 'scope');
    const s = file.scope;
    if (se) {
      const v = this.prop('scope');
      const info = scopeInfoOf(v, s);
      if (!info) throw file.error('GH_BICEP_TYPE', `'scope' must be a resource group, subscription, tenant, management group or resource, got ${describe(v)}`, se);
      return info;
    }
    return defaultScopeInfo(s);
  }

  id(): string {
    return this.idLazy.get();
  }

  private computeId(): string {
    const scope = this.scopeLazy.get();
    const p = this.parent();
    const own = this.ownName();
    const names = p ? [...p.fullName().split('/'), own] : own.split('/');
    const [ns, ...types] = this.type.split('/');
    if (names.length !== types.length)
      throw this.symbol.file.error('GH_BICEP_RESOURCE_ID', `the resource type '${this.type}' needs ${types.length} name segment(s) but the name '${names.join('/')}' has ${names.length}`, objectProp(this.symbol.body.obj, 'name') ?? this.symbol.decl);
    return scopePrefix(scope) + `/providers/${ns}/` + types.map((t, i) => `${t}/${names[i]}`).join('/');
  }

  body(): JsonObject {
    return this.bodyLazy.get();
  }

  private computeBody(): JsonObject {
    const obj = this.symbol.body.obj;
    if (obj.kind !== 'object') throw this.symbol.file.error('GH_BICEP_SYNTAX', 'a resource body must be an object', obj);
    const out = this.symbol.file.evalObject(obj.items, this.env, new Set(['parent', 'scope', 'dependsOn', 'name']));
    const unknown = firstUnknownPath(out, '');
    if (unknown && !this.existing)
      this.symbol.file.ctx.warn('GH_BICEP_UNKNOWN_VALUE', `'${this.symbol.decl.name}'${unknown.path}: the value is known only after a deployment in Azure (${unknown.expression}); Gatehouse leaves it unknown`, this.symbol.file.source, this.symbol.decl.start);
    return { name: this.fullName(), ...out };
  }

  /** `r.x` as Bicep compiles it (§4 of the spec): id/name/type/apiVersion direct, the rest via reference(). */
  member(name: string, node: Expr): unknown {
    if (this.symbol.extension) return new Unknown(`${this.symbol.decl.name}.${name}`);
    switch (name) {
      case 'id':
        return this.id();
      case 'name':
        return this.ownName();
      case 'type':
        return this.type;
      case 'apiVersion':
        return this.apiVersion ?? null;
      default:
        break;
    }
    const ctx = this.symbol.file.ctx;
    if (name === 'properties') return ctx.reference(this, false);
    const full = ctx.reference(this, true);
    if (isUnknown(full)) return new Unknown(`${full.expression}.${name}`);
    if (isObject(full)) {
      const k = findKey(full, name);
      if (k !== undefined) return full[k];
      return new Unknown(`reference('${this.id()}', 'Full').${name}`);
    }
    throw this.symbol.file.error('GH_BICEP_EVAL', `cannot read '${name}' of resource '${this.symbol.decl.name}'`, node);
  }
}

function defaultScopeInfo(s: ScopeContext): ScopeInfo {
  switch (s.targetScope) {
    case 'resourceGroup':
      return { kind: 'rg', sub: s.subscriptionId, rg: s.resourceGroup };
    case 'subscription':
      return { kind: 'sub', sub: s.subscriptionId };
    case 'managementGroup':
      return { kind: 'mg', mg: s.managementGroup };
    case 'tenant':
      return { kind: 'tenant' };
  }
}

function scopePrefix(s: ScopeInfo): string {
  switch (s.kind) {
    case 'rg':
      return `/subscriptions/${s.sub}/resourceGroups/${s.rg}`;
    case 'sub':
      return `/subscriptions/${s.sub}`;
    case 'mg':
      return `/providers/Microsoft.Management/managementGroups/${s.mg}`;
    case 'tenant':
      return '';
    case 'ext':
      return s.baseId;
  }
}

/** Reads a scope value: resourceGroup(…), subscription(…), tenant(), managementGroup(…) or a resource. */
function scopeInfoOf(v: unknown, s: ScopeContext): ScopeInfo | undefined {
  if (v instanceof ResourceRef) {
    const t = v.inst.type.toLowerCase();
    if (t === 'microsoft.resources/resourcegroups') {
      const sub = /^\/subscriptions\/([^/]+)/i.exec(v.inst.id())?.[1] ?? s.subscriptionId;
      return { kind: 'rg', sub, rg: v.inst.ownName() };
    }
    if (t === 'microsoft.management/managementgroups') return { kind: 'mg', mg: v.inst.ownName() };
    return { kind: 'ext', baseId: v.inst.id() };
  }
  if (!isObject(v)) return undefined;
  const id = typeof v.id === 'string' ? v.id : '';
  const type = typeof v.type === 'string' ? v.type.toLowerCase() : '';
  if (type === 'microsoft.resources/resourcegroups') {
    const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)$/i.exec(id);
    if (m) return { kind: 'rg', sub: m[1]!, rg: m[2]! };
  }
  if (type === 'microsoft.management/managementgroups' && typeof v.name === 'string') return { kind: 'mg', mg: v.name };
  if (typeof v.subscriptionId === 'string' && /^\/subscriptions\/[^/]+$/i.test(id)) return { kind: 'sub', sub: v.subscriptionId };
  if (id.startsWith('/tenants/')) return { kind: 'tenant' };
  return undefined;
}

// ---- modules ------------------------------------------------------------------------------------------

export class ModuleSymbol {
  readonly body: ReturnType<typeof unwrapBody>;
  private readonly lazy: Lazy<ModuleInstance[]>;
  constructor(
    readonly file: BicepFile,
    readonly decl: ModuleDecl,
  ) {
    this.body = unwrapBody(decl.value);
    this.lazy = new Lazy(() => this.makeInstances(), `module '${decl.name}'`);
  }

  instancesFor(): ModuleInstance[] {
    return this.lazy.get();
  }

  private makeInstances(): ModuleInstance[] {
    const env: Env = { file: this.file, locals: undefined, parent: undefined };
    const loop = this.body.loop;
    if (!loop) return [new ModuleInstance(this, env, undefined)];
    const src = this.file.eval(loop.source, env);
    if (isUnknown(src)) {
      if (!this.file.lenient) throw this.file.error('GH_BICEP_UNKNOWN_CONDITION', `the loop of '${this.decl.name}' depends on a value known only after deployment`, loop.source);
      this.file.ctx.warn('GH_BICEP_UNKNOWN_CONDITION', `the loop of '${this.decl.name}' depends on a value known only after deployment: no instances are evaluated`, this.file.source, loop.source.start);
      return [];
    }
    if (!Array.isArray(src)) throw this.file.error('GH_BICEP_TYPE', `a for loop needs an array, got ${describe(src)}`, loop.source);
    return src.map((item, i) => {
      const locals = new Map<string, unknown>();
      if (loop.item) locals.set(loop.item, item);
      if (loop.index) locals.set(loop.index, i);
      return new ModuleInstance(this, child(env, locals), i);
    });
  }

  value(): unknown {
    const xs = this.instancesFor();
    if (this.body.loop) return xs.map((x) => new ModuleRef(x));
    return new ModuleRef(xs[0]!);
  }

  evaluateAll(): void {
    let insts: ModuleInstance[];
    try {
      insts = this.instancesFor();
    } catch (e) {
      this.file.ctx.report(e, this.file.source, this.decl.start);
      return;
    }
    for (const m of insts) {
      let unit: DeploymentUnit;
      try {
        if (!m.condition()) continue;
        unit = m.unit();
      } catch (e) {
        this.file.ctx.report(e, this.file.source, this.decl.start);
        continue;
      }
      unit.evaluateAll();
    }
  }
}

export class ModuleInstance {
  private readonly cond: Lazy<boolean>;
  private readonly unitLazy: Lazy<DeploymentUnit>;
  private readonly nameLazy: Lazy<string>;
  constructor(
    readonly symbol: ModuleSymbol,
    readonly env: Env,
    readonly index: number | undefined,
  ) {
    const file = symbol.file;
    this.cond = new Lazy(() => {
      if (!symbol.body.cond) return true;
      const c = file.eval(symbol.body.cond, env);
      if (isUnknown(c)) {
        if (!file.lenient) throw file.error('GH_BICEP_UNKNOWN_CONDITION', `the condition of module '${symbol.decl.name}' depends on a value known only after deployment`, symbol.body.cond);
        file.ctx.warn('GH_BICEP_UNKNOWN_CONDITION', `the condition of module '${symbol.decl.name}' depends on a value known only after deployment: evaluated as deployed`, file.source, symbol.body.cond.start);
        return true;
      }
      if (typeof c !== 'boolean') throw file.error('GH_BICEP_TYPE', `the condition must be a bool, got ${describe(c)}`, symbol.body.cond);
      return c;
    }, `the condition of module '${symbol.decl.name}'`);
    this.nameLazy = new Lazy(() => {
      const ne = objectProp(symbol.body.obj, 'name');
      if (ne) {
        const n = file.eval(ne, env);
        if (typeof n !== 'string') throw file.error('GH_BICEP_TYPE', `a module name must be a string, got ${describe(n)}`, ne);
        return n;
      }
      // Bicep's generated name (ExpressionFactory.CreateGeneratedModuleName)
      const hash = uniqueString(symbol.decl.name, file.scope.deploymentName);
      const suffix = index !== undefined ? `-${index}-${hash}` : `-${hash}`;
      return symbol.decl.name.slice(0, 64 - suffix.length) + suffix;
    }, `the name of module '${symbol.decl.name}'`);
    this.unitLazy = new Lazy(() => this.load(), `module '${symbol.decl.name}'`);
  }

  condition(): boolean {
    return this.cond.get();
  }

  name(): string {
    return this.nameLazy.get();
  }

  unit(): DeploymentUnit {
    return this.unitLazy.get();
  }

  private load(): DeploymentUnit {
    const file = this.symbol.file;
    const decl = this.symbol.decl;
    if (/^(br|ts)[:/]/.test(decl.path)) throw new LocatedError('GH_BICEP_UNSUPPORTED', `registry modules ('${decl.path}') cannot be evaluated locally: copy the module next to the file`, file.source, decl.pathSpan.start);
    const path = file.resolvePath(decl.path);
    const toJson = path.toLowerCase().endsWith('.json');
    const obj = this.symbol.body.obj;
    // params: one thunk per property, so a module param is evaluated only when the module reads it
    const params: ParamThunks = new Map();
    const pe = objectProp(obj, 'params');
    if (pe && pe.kind === 'object' && pe.items.every((i) => i.kind === 'prop' && typeof i.key === 'string')) {
      for (const it of pe.items) {
        if (it.kind !== 'prop' || typeof it.key !== 'string') continue;
        const value = it.value;
        const lazy = new Lazy(() => file.eval(value, this.env), `module '${decl.name}' param '${it.key}'`);
        // an ARM JSON module sees plain values: a resource is passed as its id (as Bicep compiles it)
        params.set(it.key, toJson ? () => armValue(lazy.get()) : () => lazy.get());
      }
    } else if (pe) {
      const v = file.eval(pe, this.env);
      if (isObject(v)) for (const [k, x] of Object.entries(v)) params.set(k, () => x);
      else if (!isUnknown(v)) throw file.error('GH_BICEP_TYPE', `module params must be an object, got ${describe(v)}`, pe);
    }
    // scope
    let scope: ScopeContext = { ...file.scope, deploymentName: this.name() };
    const se = objectProp(obj, 'scope');
    if (se) {
      const v = file.eval(se, this.env);
      const info = scopeInfoOf(v, file.scope);
      if (!info || info.kind === 'ext') throw file.error('GH_BICEP_TYPE', `a module scope must be a resource group, subscription, management group or tenant`, se);
      if (info.kind === 'rg') scope = { ...scope, targetScope: 'resourceGroup', subscriptionId: info.sub, resourceGroup: info.rg };
      else if (info.kind === 'sub') scope = { ...scope, targetScope: 'subscription', subscriptionId: info.sub };
      else if (info.kind === 'mg') scope = { ...scope, targetScope: 'managementGroup', managementGroup: info.mg };
      else scope = { ...scope, targetScope: 'tenant' };
    }
    const unit = file.ctx.loadUnit(path, scope, params, { file: file.source, offset: decl.pathSpan.start });
    // arguments for params the module does not declare
    if (unit instanceof BicepFile) {
      const declared = new Set([...unit.symbols].filter(([, s]) => s.kind === 'param').map(([k]) => k.toLowerCase()));
      for (const k of params.keys()) if (!declared.has(k.toLowerCase())) file.ctx.report(new LocatedError('GH_BICEP_PARAM_UNKNOWN', `the module '${decl.path}' has no parameter '${k}'`, file.source, decl.start));
      // a required parameter the module declaration does not give: say so where the module is used
      const given = new Set([...params.keys()].map((k) => k.toLowerCase()));
      if (!unit.lenient)
        for (const [k, sym] of unit.symbols)
          if (sym.kind === 'param' && !sym.decl.value && !sym.decl.type?.nullable && !given.has(k.toLowerCase()))
            file.ctx.report(new LocatedError('GH_BICEP_PARAM_MISSING', `module '${decl.name}' gives no value for the parameter '${k}' of '${decl.path}', which has no default`, file.source, decl.start));
    }
    return unit;
  }
}

// ---- helpers ------------------------------------------------------------------------------------------

/** The JSON value of something Bicep-only (resource → its id, module outputs → an object). */
export function materialize(v: unknown, depth = 0): unknown {
  if (depth > 64) return v;
  if (v instanceof ResourceRef) return v.inst.symbol.file.ctx.reference(v.inst, true);
  if (v instanceof ModuleOutputs) {
    const o: JsonObject = {};
    for (const n of v.inst.unit().outputNames()) o[n] = v.inst.unit().output(n);
    return o;
  }
  if (v instanceof ModuleRef) return { name: v.inst.name() };
  if (v instanceof NamespaceRef) throw new EvalError(`'${v.name}' is a namespace, not a value`, 'GH_BICEP_TYPE');
  if (v instanceof LambdaValue) throw new EvalError('a lambda can only be an argument of map, filter, reduce, sort …', 'GH_BICEP_TYPE');
  if (Array.isArray(v)) {
    if (!v.some((x) => typeof x === 'object' && x !== null)) return v;
    return v.map((x) => materialize(x, depth + 1));
  }
  return v;
}

function firstUnknownPath(v: unknown, path: string, depth = 0): { path: string; expression: string } | undefined {
  if (depth > 60) return undefined;
  if (isUnknown(v)) return { path, expression: v.expression };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = firstUnknownPath(v[i], `${path}[${i}]`, depth + 1);
      if (r) return r;
    }
  } else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const r = firstUnknownPath(x, `${path}.${k}`, depth + 1);
      if (r) return r;
    }
  }
  return undefined;
}

function armValue(v: unknown): unknown {
  if (v instanceof ResourceRef) return v.inst.id();
  return materialize(v);
}

function interpolationString(v: unknown): string {
  return toArmString(v);
}

/** Checks a value against a declared type: simple types, literal unions, arrays of T, object types, user types. */
function checkType(t: TypeExpr, value: unknown, bad: (msg: string) => never, resolve?: (name: string) => TypeExpr | undefined, path = '', depth = 0): void {
  if (value === null || isUnknown(value) || depth > 20) return;
  const at = path ? ` at ${path}` : '';
  if (t.literals && t.literals.length > 0 && !t.isArray) {
    if (!t.literals.some((l) => deepEquals(l, value))) bad(`${JSON.stringify(value)}${at} is not one of ${t.literals.map((l) => JSON.stringify(l)).join(' | ')}`);
    return;
  }
  let name = t.name;
  if (name && !['string', 'int', 'bool', 'object', 'array', 'any', 'null'].includes(name) && resolve) {
    const target = resolve(name);
    if (target) return checkType(target, value, bad, resolve, path, depth + 1);
    return;
  }
  if (name === 'secureString') name = 'string';
  if (name === 'secureObject') name = 'object';
  const actual = typeof value === 'string' ? 'string' : typeof value === 'number' ? 'int' : typeof value === 'boolean' ? 'bool' : Array.isArray(value) ? 'array' : isObject(value) ? 'object' : 'other';
  if (name === 'string' || name === 'int' || name === 'bool' || name === 'object' || name === 'array') {
    if (actual !== name) bad(`expected ${name}${at}, got ${describe(value)}`);
  }
  if (t.items && Array.isArray(value)) value.forEach((x, i) => checkType(t.items!, x, bad, resolve, `${path}[${i}]`, depth + 1));
  if (t.properties && isObject(value)) {
    const extra = t.properties.find((p) => p.name === '*');
    for (const p of t.properties) {
      if (p.name === '*') continue;
      const k = findKey(value, p.name);
      if (k === undefined || value[k] === null) {
        if (!p.optional) bad(`the property '${p.name}'${at} is required`);
        continue;
      }
      checkType(p.type, value[k], bad, resolve, `${path}.${p.name}`, depth + 1);
    }
    if (extra)
      for (const [k, v] of Object.entries(value)) if (!t.properties.some((p) => p.name.toLowerCase() === k.toLowerCase())) checkType(extra.type, v, bad, resolve, `${path}.${k}`, depth + 1);
  }
}

/** A JSONPath subset: .a.b, ['a'], [0], [*], [?(@.x > 3)] — what loadJsonContent's second argument takes. */
export function jsonPath(value: unknown, path: string): unknown {
  let p = path.trim();
  if (p.startsWith('$')) p = p.slice(1);
  let nodes: unknown[] = [value];
  let multi = false;
  const re = /^(?:\.([A-Za-z_][\w-]*)|\['([^']*)'\]|\[(\d+)\]|\[\*\]|\.\*|\[\?\(@\.([\w]+)\s*(==|!=|>=|<=|>|<)\s*('([^']*)'|-?\d+(?:\.\d+)?|true|false)\)\])/;
  while (p.length) {
    const m = re.exec(p);
    if (!m) throw new EvalError(`JSONPath '${path}' is not supported`, 'GH_BICEP_EVAL');
    p = p.slice(m[0].length);
    if (m[1] !== undefined || m[2] !== undefined) {
      const k = (m[1] ?? m[2])!;
      nodes = nodes.flatMap((n) => (isObject(n) && k in n ? [n[k]] : []));
    } else if (m[3] !== undefined) nodes = nodes.flatMap((n) => (Array.isArray(n) && Number(m[3]) < n.length ? [n[Number(m[3])]] : []));
    else if (m[4] !== undefined) {
      multi = true;
      const lit = m[7] !== undefined ? m[7] : m[6] === 'true' ? true : m[6] === 'false' ? false : Number(m[6]);
      const op = m[5]!;
      nodes = nodes.flatMap((n) => (Array.isArray(n) ? n : isObject(n) ? Object.values(n) : [])).filter((x) => {
        if (!isObject(x)) return false;
        const v = x[m[4]!] as never;
        switch (op) {
          case '==':
            return v === lit;
          case '!=':
            return v !== lit;
          case '>':
            return v > (lit as never);
          case '<':
            return v < (lit as never);
          case '>=':
            return v >= (lit as never);
          default:
            return v <= (lit as never);
        }
      });
    } else {
      multi = true;
      nodes = nodes.flatMap((n) => (Array.isArray(n) ? n : isObject(n) ? Object.values(n) : []));
    }
  }
  if (multi) return nodes;
  if (nodes.length === 0) throw new EvalError(`JSONPath '${path}' matches nothing`, 'GH_BICEP_EVAL');
  return nodes[0];
}

export { CycleError };
