/**
 * The ARM JSON front-end: evaluates a deployment template (both layouts `bicep build` writes —
 * `resources` as an array, and languageVersion 2.0 with resources keyed by symbolic name) with
 * the same function library and the same deployment context as the Bicep evaluator, so a .bicep
 * file and the JSON compiled from it give the same resources.
 */
import { SourceFile } from '../../core/source.js';
import type { ErrorCode } from '../../core/errors.js';
import type { ResourceOrigin } from '../../model/resources.js';
import { CycleError, Lazy, LocatedError, type DeploymentContext, type DeploymentUnit, type ParamThunks, type ResourceEntry } from './context.js';
import { ArmSyntaxError, armLiteral, isArmExpression, parseArmExpression, type ArmExpr } from './expression.js';
import { callBuiltin, describe, type FunctionContext, type ScopeContext, type TargetScope } from './functions.js';
import { EvalError, LambdaValue, Unknown, deepEquals, findKey, isObject, isRuntime, isUnknown, markRuntime, type JsonObject } from './value.js';

interface Env {
  readonly copy: Map<string, number> | undefined;
  /** The loop copyIndex() without a name refers to. */
  readonly currentLoop: string | undefined;
  readonly lambdaVars: Map<string, unknown> | undefined;
  /** Inside a user function: its parameters. */
  readonly fnParams: Map<string, unknown> | undefined;
  /** A JSON path for diagnostics. */
  readonly path: string;
  /** Where in the file to start looking for an expression that failed (its declaration). */
  readonly from?: number;
}

const ROOT_ENV: Env = { copy: undefined, currentLoop: undefined, lambdaVars: undefined, fnParams: undefined, path: '' };

const RESOURCE_META_KEYS = new Set(['type', 'apiversion', 'name', 'condition', 'copy', 'dependson', 'resources', 'comments', 'existing', 'scope', 'subscriptionid', 'resourcegroup', 'import']);

export function readArmParameters(ctx: DeploymentContext, path: string): Map<string, unknown> {
  const text = ctx.readText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LocatedError('GH_ARM_TEMPLATE', `the parameters file is not valid JSON: ${(e as Error).message}`, path, undefined);
  }
  const params = isObject(json) && isObject(json.parameters) ? json.parameters : isObject(json) ? json : {};
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(params)) {
    if (k.startsWith('$')) continue;
    if (isObject(v) && 'value' in v) out.set(k, v.value);
    else if (isObject(v) && 'reference' in v) out.set(k, new Unknown(`Key Vault reference for parameter '${k}'`));
    else out.set(k, v);
  }
  return out;
}

export class ArmTemplate implements DeploymentUnit {
  readonly path: string;
  readonly source: SourceFile;
  readonly template: JsonObject;
  readonly scope: ScopeContext;
  readonly symbolic: boolean;
  private readonly params = new Map<string, Lazy<unknown>>();
  private readonly paramDefs = new Map<string, JsonObject>();
  private readonly vars = new Map<string, Lazy<unknown>>();
  private readonly outputsLazy = new Map<string, Lazy<unknown>>();
  private readonly functions = new Map<string, JsonObject>();
  readonly resourceDecls: ArmResourceDecl[] = [];
  readonly fnCtx: FunctionContext;

  constructor(
    readonly ctx: DeploymentContext,
    path: string,
    scope: ScopeContext,
    provided: ParamThunks,
    readonly options: { unknownParamsAllowed?: boolean; coerceStrings?: Set<string>; inlineTemplate?: JsonObject; inlineOffset?: number } = {},
  ) {
    this.path = path;
    let template: unknown;
    if (options.inlineTemplate) {
      template = options.inlineTemplate;
      this.source = new SourceFile(path, ctx.readText(path));
    } else {
      const text = ctx.readText(path);
      this.source = new SourceFile(path, text);
      try {
        template = JSON.parse(text);
      } catch (e) {
        throw new LocatedError('GH_ARM_TEMPLATE', `the template is not valid JSON: ${(e as Error).message}`, this.source, 0);
      }
    }
    if (!isObject(template)) throw new LocatedError('GH_ARM_TEMPLATE', 'the template must be a JSON object', this.source, 0);
    this.template = template;
    const schema = typeof template.$schema === 'string' ? template.$schema : '';
    let target: TargetScope = 'resourceGroup';
    if (/subscriptionDeploymentTemplate/i.test(schema)) target = 'subscription';
    else if (/managementGroupDeploymentTemplate/i.test(schema)) target = 'managementGroup';
    else if (/tenantDeploymentTemplate/i.test(schema)) target = 'tenant';
    this.scope = { ...scope, targetScope: target };
    this.symbolic = typeof template.languageVersion === 'string';
    const self = this;
    this.fnCtx = {
      get scope() {
        return self.scope;
      },
      now: ctx.now,
      newGuid: () => ctx.newGuid(),
    };
    // parameters
    const pdefs = isObject(template.parameters) ? template.parameters : {};
    for (const [name, def] of Object.entries(pdefs)) {
      const d = isObject(def) ? def : {};
      this.paramDefs.set(name.toLowerCase(), d);
      let thunk = provided.get(name);
      if (!thunk) for (const [k, v] of provided) if (k.toLowerCase() === name.toLowerCase()) thunk = v;
      this.params.set(
        name.toLowerCase(),
        new Lazy(() => {
          let v: unknown;
          if (thunk) v = coerce(thunk(), d, options.coerceStrings?.has(name) ?? false);
          else if ('defaultValue' in d) v = this.evalJson(d.defaultValue, this.envAt('parameters', name), `parameters.${name}.defaultValue`);
          else if (d.nullable === true) v = null;
          else if (options.unknownParamsAllowed) v = new Unknown(`parameter '${name}'`);
          else throw this.err('GH_BICEP_PARAM_MISSING', `parameter '${name}' has no value and no default`, `"${name}"`);
          if (!isUnknown(v) && Array.isArray(d.allowedValues)) {
            const allowed = d.allowedValues;
            const ok = Array.isArray(v) ? v.every((x) => allowed.some((a) => deepEquals(a, x))) : allowed.some((a) => deepEquals(a, v));
            if (!ok) throw this.err('GH_BICEP_PARAM_INVALID', `parameter '${name}': ${JSON.stringify(v)} is not one of the allowed values`, `"${name}"`);
          }
          return v;
        }, `parameter '${name}'`),
      );
    }
    // variables (including "copy" variable loops)
    const vdefs = isObject(template.variables) ? template.variables : {};
    for (const [name, def] of Object.entries(vdefs)) {
      if (name === 'copy' && Array.isArray(def)) {
        for (const c of def) {
          if (!isObject(c) || typeof c.name !== 'string') continue;
          const loop = c;
          const lname = c.name;
          this.vars.set(lname.toLowerCase(), new Lazy(() => this.copyArray(loop, this.envAt('variables', 'copy'), `variables.copy.${lname}`), `variable '${lname}'`));
        }
        continue;
      }
      this.vars.set(name.toLowerCase(), new Lazy(() => this.evalJson(def, this.envAt('variables', name), `variables.${name}`), `variable '${name}'`));
    }
    // user functions
    if (Array.isArray(template.functions)) {
      for (const ns of template.functions) {
        if (!isObject(ns) || typeof ns.namespace !== 'string' || !isObject(ns.members)) continue;
        for (const [fname, f] of Object.entries(ns.members)) if (isObject(f)) this.functions.set(`${ns.namespace}.${fname}`.toLowerCase(), f);
      }
    }
    // outputs
    const odefs = isObject(template.outputs) ? template.outputs : {};
    for (const [name, def] of Object.entries(odefs)) {
      this.outputsLazy.set(
        name,
        new Lazy(() => {
          const d = isObject(def) ? def : {};
          if (isObject(d.copy)) return this.copyArray(d.copy, this.envAt('outputs', name), `outputs.${name}.copy`);
          return this.evalJson(d.value, this.envAt('outputs', name), `outputs.${name}.value`);
        }, `output '${name}'`),
      );
    }
    // resources
    const res = template.resources;
    const list: [string, unknown][] = Array.isArray(res) ? res.map((r, i) => [`resources[${i}]`, r]) : isObject(res) ? Object.entries(res) : [];
    let searchFrom = options.inlineOffset ?? 0;
    for (const [key, r] of list) {
      if (!isObject(r)) continue;
      const symbol = Array.isArray(res) ? (typeof r.name === 'string' ? r.name : key) : key;
      const at = this.findOffset(r, searchFrom);
      searchFrom = at;
      this.addDecl(r, symbol, undefined, at);
    }
  }

  private addDecl(r: JsonObject, symbol: string, parent: ArmResourceDecl | undefined, at: number): void {
    const decl = new ArmResourceDecl(this, r, symbol, parent, at);
    this.resourceDecls.push(decl);
    if (Array.isArray(r.resources)) for (const c of r.resources) if (isObject(c)) this.addDecl(c, `${symbol}/${String(c.name ?? '')}`, decl, this.findOffset(c, at));
  }

  /** Best-effort position of a resource in the JSON text (for diagnostics and origins). */
  private findOffset(r: JsonObject, from: number): number {
    const t = this.source.text;
    const needle = typeof r.type === 'string' ? JSON.stringify(r.type) : undefined;
    if (!needle) return from;
    const i = t.indexOf(needle, from);
    return i < 0 ? from : i;
  }

  /** An environment whose diagnostics are looked for after `"section": { … "name"`. */
  private envAt(section: string, name: string): Env {
    const t = this.source.text;
    const base = this.options.inlineOffset ?? 0;
    const sec = t.indexOf(`"${section}"`, base);
    const at = sec < 0 ? -1 : t.indexOf(JSON.stringify(name), sec);
    return at < 0 ? { ...ROOT_ENV, from: base } : { ...ROOT_ENV, from: at };
  }

  err(code: ErrorCode, message: string, near?: string, offset?: number, from?: number): LocatedError {
    let at = offset;
    if (at === undefined && near) {
      // the expression as it is written in the file (JSON-escaped), else as parsed
      let i = this.source.text.indexOf(JSON.stringify(near).slice(1, -1), from ?? this.options.inlineOffset ?? 0);
      if (i < 0 && from !== undefined) i = this.source.text.indexOf(JSON.stringify(near).slice(1, -1), this.options.inlineOffset ?? 0);
      if (i < 0) i = this.source.text.indexOf(near);
      if (i >= 0) at = i;
    }
    return new LocatedError(code, message, this.source, at ?? 0);
  }

  // ---- unit interface ----------------------------------------------------------------------------
  output(name: string): unknown {
    const l = this.outputsLazy.get(name) ?? [...this.outputsLazy].find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    if (!l) throw new EvalError(`the template '${this.path}' has no output '${name}'`, 'GH_BICEP_UNDEFINED_SYMBOL');
    return l.get();
  }
  outputNames(): string[] {
    return [...this.outputsLazy.keys()];
  }

  isSecureOutput(name: string): boolean {
    const o = isObject(this.template.outputs) ? this.template.outputs[name] : undefined;
    return isObject(o) && typeof o.type === 'string' && /^secure(string|object)$/i.test(o.type);
  }
  resources(): ResourceEntry[] {
    const out: ResourceEntry[] = [];
    for (const d of this.resourceDecls) {
      try {
        for (const inst of d.instances()) {
          out.push(inst);
          if (inst.isDeployment) {
            try {
              if (inst.condition()) out.push(...inst.nested().resources());
            } catch {
              /* reported by evaluateAll */
            }
          }
        }
      } catch {
        /* reported by evaluateAll */
      }
    }
    return out;
  }
  evaluateAll(): void {
    const attempt = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        this.ctx.report(e, this.source, 0);
      }
    };
    for (const l of this.params.values()) attempt(() => l.get());
    for (const l of this.vars.values()) attempt(() => l.get());
    for (const d of this.resourceDecls) {
      let insts: ArmResourceInstance[] = [];
      attempt(() => (insts = d.instances()));
      for (const inst of insts) {
        attempt(() => {
          if (!inst.condition()) return;
          inst.id();
          inst.body();
          if (inst.isDeployment) inst.nested().evaluateAll();
        });
      }
    }
    for (const l of this.outputsLazy.values()) attempt(() => l.get());
    // a resource defined twice in one template
    const seen = new Map<string, ArmResourceInstance[]>();
    for (const d of this.resourceDecls) {
      try {
        for (const i of d.instances()) {
          if (i.existing || i.isDeployment || !i.condition()) continue;
          const id = i.id().toLowerCase();
          seen.set(id, [...(seen.get(id) ?? []), i]);
        }
      } catch {
        /* reported above */
      }
    }
    for (const [, list] of seen) {
      if (list.length < 2) continue;
      const names = list.map((i) => i.symbolicName).join(', ');
      const oneLoop = list.every((i) => i.decl === list[0]!.decl);
      for (const i of list) {
        if (oneLoop) this.ctx.warn('GH_BICEP_DUPLICATE_RESOURCE', `resources ${names} have the same id ${i.id()}; the last one wins`, this.source, i.decl.offset);
        else this.ctx.report(this.err('GH_BICEP_DUPLICATE_RESOURCE', `resources ${names} have the same id ${i.id()}`, undefined, i.decl.offset));
      }
    }
  }

  // ---- evaluation --------------------------------------------------------------------------------
  /** Evaluates a JSON value: expression strings, nested objects with property copy loops. */
  evalJson(v: unknown, env: Env, path: string): unknown {
    if (typeof v === 'string') return isArmExpression(v) ? this.evalString(v, env, path) : armLiteral(v);
    if (Array.isArray(v)) return v.map((x, i) => this.evalJson(x, env, `${path}[${i}]`));
    if (isObject(v)) {
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'copy' && Array.isArray(x) && x.every((c) => isObject(c) && 'input' in c)) {
          // a property loop: copyIndex() without a name still means the resource's loop
          for (const c of x as JsonObject[]) out[String(c.name)] = this.copyArray(c, env, `${path}.copy`, false);
          continue;
        }
        let key = k;
        if (isArmExpression(k)) {
          const kv = this.evalString(k, env, `${path}.${k}`);
          key = typeof kv === 'string' ? kv : String(kv);
        } else if (k.startsWith('[[')) key = armLiteral(k);
        out[key] = this.evalJson(x, { ...env, path: `${path}.${key}` }, `${path}.${key}`);
      }
      return out;
    }
    return v;
  }

  copyArray(c: JsonObject, env: Env, path: string, current = true): unknown[] | Unknown {
    const count = this.evalJson(c.count, env, `${path}.count`);
    if (isUnknown(count)) return new Unknown(`copy count of ${path}`);
    if (typeof count !== 'number') throw this.err('GH_BICEP_TYPE', `${path}: copy count must be an int, got ${describe(count)}`);
    const name = typeof c.name === 'string' ? c.name : '';
    const out: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const copy = new Map(env.copy ?? []);
      copy.set(name.toLowerCase(), i);
      out.push(this.evalJson(c.input, { ...env, copy, currentLoop: current ? name.toLowerCase() : env.currentLoop }, `${path}[${i}]`));
    }
    return out;
  }

  evalString(s: string, env: Env, path: string): unknown {
    let e: ArmExpr;
    try {
      e = parseArmExpression(s);
    } catch (x) {
      if (x instanceof ArmSyntaxError) throw this.err('GH_ARM_EXPRESSION', `${path}: ${x.message} in ${s.length > 80 ? s.slice(0, 80) + '…' : s}`, s, undefined, env.from);
      throw x;
    }
    try {
      return this.ev(e, env);
    } catch (x) {
      if (x instanceof LocatedError) throw x;
      if (x instanceof CycleError) throw Object.assign(this.err('GH_BICEP_CYCLE', x.message, s, undefined, env.from), { cycle: x });
      if (x instanceof EvalError) throw this.err(x.code as ErrorCode, `${path}: ${x.message}`, s, undefined, env.from);
      throw x;
    }
  }

  private ev(e: ArmExpr, env: Env): unknown {
    switch (e.k) {
      case 'str':
        return e.v;
      case 'num':
        return e.v;
      case 'prop': {
        // reference('module').outputs.x: evaluate only that output (other outputs may not be ready)
        const base = this.evalBase(e.base, env, e.name);
        return this.access(base, e.name);
      }
      case 'idx': {
        const base = this.ev(e.base, env);
        const idx = this.ev(e.index, env);
        if (isUnknown(base)) return base;
        if (isUnknown(idx)) return new Unknown('…[?]');
        if (Array.isArray(base)) {
          if (typeof idx !== 'number') throw new EvalError(`an array index must be an int, got ${describe(idx)}`, 'GH_BICEP_TYPE');
          if (idx < 0 || idx >= base.length) {
            if (isRuntime(base)) return new Unknown(`…[${idx}]`);
            throw new EvalError(`index ${idx} is outside the array of length ${base.length}`, 'GH_BICEP_EVAL');
          }
          return base[idx];
        }
        if (typeof idx === 'string') return this.access(base, idx);
        throw new EvalError(`cannot index ${describe(base)} with ${describe(idx)}`, 'GH_BICEP_TYPE');
      }
      case 'call':
        return this.call(e, env);
    }
  }

  private evalBase(base: ArmExpr, env: Env, _next: string): unknown {
    if (base.k === 'prop' && base.name.toLowerCase() === 'outputs' && base.base.k === 'call' && base.base.name.toLowerCase() === 'reference') {
      const inst = this.resolveReferenceTarget(base.base, env);
      if (inst?.isDeployment) return new LazyOutputs(inst.nested());
    }
    return this.ev(base, env);
  }

  private access(base: unknown, name: string): unknown {
    if (base instanceof LazyOutputs) {
      const v = base.unit.output(name);
      return { type: typeof v, value: v };
    }
    if (isUnknown(base)) return new Unknown(`${base.expression}.${name}`);
    if (isObject(base)) {
      const k = findKey(base, name);
      if (k !== undefined) return base[k];
      if (isRuntime(base)) return new Unknown(`….${name}`);
      throw new EvalError(`the language expression property '${name}' doesn't exist, available properties are '${Object.keys(base).join(', ')}'`, 'GH_BICEP_EVAL');
    }
    throw new EvalError(`cannot read property '${name}' of ${describe(base)}`, 'GH_BICEP_TYPE');
  }

  private resolveReferenceTarget(e: Extract<ArmExpr, { k: 'call' }>, env: Env): ArmResourceInstance | undefined {
    const first = e.args[0];
    if (!first) return undefined;
    const target = this.ev(first, env);
    if (typeof target !== 'string') return undefined;
    if (this.symbolic) {
      const decl = this.resourceDecls.find((d) => d.symbol === target);
      if (decl) return this.pickInstance(decl, env);
    }
    const want = target.toLowerCase();
    for (const d of this.resourceDecls) {
      if (!d.isDeployment) continue;
      for (const inst of d.instances()) {
        try {
          if (inst.id().toLowerCase() === want || (!target.startsWith('/') && inst.fullName().toLowerCase() === want)) return inst;
        } catch {
          /* skip */
        }
      }
    }
    return undefined;
  }

  /** reference('sym') inside a copy loop means the current iteration's instance. */
  private pickInstance(decl: ArmResourceDecl, env: Env): ArmResourceInstance | undefined {
    const insts = decl.instances();
    if (insts.length === 1 && !decl.loopName) return insts[0];
    const i = decl.loopName ? env.copy?.get(decl.loopName.toLowerCase()) : undefined;
    return i !== undefined ? insts[i] : insts[0];
  }

  private call(e: Extract<ArmExpr, { k: 'call' }>, env: Env): unknown {
    const name = e.name.toLowerCase();
    const a = (i: number) => this.ev(e.args[i]!, env);
    switch (name) {
      case 'parameters': {
        const n = a(0);
        if (typeof n !== 'string') throw new EvalError('parameters() needs a name', 'GH_BICEP_TYPE');
        if (env.fnParams) {
          for (const [k, v] of env.fnParams) if (k.toLowerCase() === n.toLowerCase()) return v;
        }
        const l = this.params.get(n.toLowerCase());
        if (!l) throw new EvalError(`the template has no parameter '${n}'`, 'GH_BICEP_UNDEFINED_SYMBOL');
        return l.get();
      }
      case 'variables': {
        const n = a(0);
        if (typeof n !== 'string') throw new EvalError('variables() needs a name', 'GH_BICEP_TYPE');
        const l = this.vars.get(n.toLowerCase());
        if (!l) throw new EvalError(`the template has no variable '${n}'`, 'GH_BICEP_UNDEFINED_SYMBOL');
        return l.get();
      }
      case 'copyindex': {
        let loop = env.currentLoop;
        let offset = 0;
        for (const arg of e.args.map((x) => this.ev(x, env))) {
          if (typeof arg === 'string') loop = arg.toLowerCase();
          else if (typeof arg === 'number') offset = arg;
        }
        const i = loop !== undefined ? env.copy?.get(loop) : undefined;
        if (i === undefined) throw new EvalError(`copyIndex() is used outside a copy loop${loop ? ` named '${loop}'` : ''}`, 'GH_BICEP_EVAL');
        return i + offset;
      }
      case 'if': {
        const c = a(0);
        if (isUnknown(c)) return new Unknown('if(…)');
        return c === true ? a(1) : a(2);
      }
      case 'lambda': {
        const names = e.args.slice(0, -1).map((x) => this.ev(x, env));
        const body = e.args[e.args.length - 1]!;
        return new LambdaValue(names.length, (args) => {
          const vars = new Map(env.lambdaVars ?? []);
          names.forEach((n, i) => vars.set(String(n), args[i]));
          return this.ev(body, { ...env, lambdaVars: vars });
        });
      }
      case 'lambdavariables': {
        const n = a(0);
        if (typeof n !== 'string' || !env.lambdaVars?.has(n)) throw new EvalError(`lambdaVariables('${String(n)}') is not defined here`, 'GH_BICEP_UNDEFINED_SYMBOL');
        return env.lambdaVars.get(n);
      }
      case 'reference': {
        const inst = this.resolveReferenceTarget(e, env);
        const full = e.args.length > 2 && String(a(2)).toLowerCase() === 'full';
        if (inst && inst.isDeployment) {
          const unit = inst.nested();
          const outputs: JsonObject = {};
          for (const n of unit.outputNames()) outputs[n] = { type: 'Object', value: unit.output(n) };
          return markRuntime(full ? { properties: { outputs } } : { outputs });
        }
        const target = a(0);
        if (typeof target !== 'string') return new Unknown('reference(…)');
        if (this.symbolic) {
          const decl = this.resourceDecls.find((d) => d.symbol === target);
          if (decl) {
            const i = this.pickInstance(decl, env);
            if (i) return this.ctx.reference(i, full);
          }
        }
        return this.ctx.referenceById(target, full);
      }
      case 'references': {
        const target = a(0);
        const decl = this.resourceDecls.find((d) => d.symbol === target);
        if (!decl) return new Unknown(`references(${JSON.stringify(target)})`);
        const full = e.args.length > 1 && String(a(1)).toLowerCase() === 'full';
        return decl.instances().map((i) => this.ctx.reference(i, full));
      }
      case 'resourceinfo': {
        const target = a(0);
        const decl = this.resourceDecls.find((d) => d.symbol === target);
        const i = decl ? this.pickInstance(decl, env) : undefined;
        if (!i) throw new EvalError(`resourceInfo(): no resource '${String(target)}'`, 'GH_BICEP_UNDEFINED_SYMBOL');
        return { id: i.id(), name: i.fullName(), type: i.type, apiVersion: i.apiVersion ?? null };
      }
      case 'externalinputs':
      case 'environmentvariables':
        return new Unknown(`${e.name}(…)`);
      default:
        break;
    }
    if (name.startsWith('list')) return new Unknown(`${e.name}(…)`); // listKeys, listSecrets …: values of the real service
    const udf = this.functions.get(name);
    if (udf) {
      const defs = Array.isArray(udf.parameters) ? udf.parameters : [];
      const args = e.args.map((x) => this.ev(x, env));
      const fnParams = new Map<string, unknown>();
      defs.forEach((d, i) => {
        if (isObject(d) && typeof d.name === 'string') fnParams.set(d.name, args[i]);
      });
      const out = isObject(udf.output) ? udf.output.value : undefined;
      return this.evalJson(out, { ...ROOT_ENV, fnParams }, `functions.${e.name}`);
    }
    if (e.name.includes('.')) throw new EvalError(`unknown function '${e.name}'`, 'GH_BICEP_UNKNOWN_FUNCTION');
    const args = e.args.map((x) => this.ev(x, env));
    return callBuiltin(e.name, args, this.fnCtx);
  }

  // ---- used by resource declarations ---------------------------------------------------------------
  evalIn(v: unknown, env: Env, path: string): unknown {
    return this.evalJson(v, env, path);
  }
}

class LazyOutputs {
  constructor(readonly unit: DeploymentUnit) {}
}

function coerce(v: unknown, def: JsonObject, fromCli: boolean): unknown {
  if (!fromCli || typeof v !== 'string') return v;
  const t = typeof def.type === 'string' ? def.type.toLowerCase() : '';
  if (t === 'int' && /^-?\d+$/.test(v.trim())) return Number(v);
  if (t === 'bool' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  if (t === 'object' || t === 'array' || t === 'secureobject') {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

// ---- resources -------------------------------------------------------------------------------------

class ArmResourceDecl {
  readonly loopName: string | undefined;
  readonly isDeployment: boolean;
  readonly extension: boolean;
  private readonly lazy: Lazy<ArmResourceInstance[]>;
  constructor(
    readonly t: ArmTemplate,
    readonly json: JsonObject,
    readonly symbol: string,
    readonly parent: ArmResourceDecl | undefined,
    readonly offset: number,
  ) {
    this.loopName = isObject(json.copy) && typeof json.copy.name === 'string' ? json.copy.name : undefined;
    this.isDeployment = typeof json.type === 'string' && json.type.toLowerCase() === 'microsoft.resources/deployments';
    this.extension = (parent?.extension ?? false) || 'import' in json || 'extension' in json;
    if (this.extension && !parent)
      t.ctx.warn('GH_BICEP_UNSUPPORTED', `'${symbol}' is a resource of a template extension ('${String(json.type)}'); extension resources are not evaluated locally`, t.source, offset);
    this.lazy = new Lazy(() => this.make(), `resource '${symbol}'`);
  }
  instances(): ArmResourceInstance[] {
    return this.lazy.get();
  }
  private make(): ArmResourceInstance[] {
    const parents = this.parent ? this.parent.instances() : [undefined];
    const out: ArmResourceInstance[] = [];
    for (const p of parents) {
      const start = this.t.source.text.lastIndexOf('{', this.offset);
      const base: Env = p ? p.env : { ...ROOT_ENV, from: start < 0 ? this.offset : start };
      if (isObject(this.json.copy)) {
        const count = this.t.evalIn(this.json.copy.count, base, `${this.symbol}.copy.count`);
        if (isUnknown(count)) {
          if (!this.t.options.unknownParamsAllowed) throw this.t.err('GH_BICEP_UNKNOWN_CONDITION', `the copy count of '${this.symbol}' depends on a value known only after deployment`, undefined, this.offset);
          this.t.ctx.warn('GH_BICEP_UNKNOWN_CONDITION', `the copy count of '${this.symbol}' depends on a value known only after deployment: no instances are evaluated`, this.t.source, this.offset);
          continue;
        }
        if (typeof count !== 'number') throw this.t.err('GH_BICEP_TYPE', `the copy count of '${this.symbol}' must be an int`, undefined, this.offset);
        const name = (this.loopName ?? '').toLowerCase();
        for (let i = 0; i < count; i++) {
          const copy = new Map(base.copy ?? []);
          copy.set(name, i);
          out.push(new ArmResourceInstance(this, { ...base, copy, currentLoop: name }, p, i));
        }
      } else out.push(new ArmResourceInstance(this, base, p, undefined));
    }
    return out;
  }
}

class ArmResourceInstance implements ResourceEntry {
  readonly type: string;
  readonly apiVersion: string | undefined;
  readonly existing: boolean;
  readonly symbolicName: string;
  readonly origin: ResourceOrigin;
  readonly isDeployment: boolean;
  readonly extension: boolean;
  private readonly nameLazy: Lazy<string>;
  private readonly condLazy: Lazy<boolean>;
  private readonly idLazy: Lazy<string>;
  private readonly bodyLazy: Lazy<JsonObject>;
  private readonly nestedLazy: Lazy<DeploymentUnit>;

  constructor(
    readonly decl: ArmResourceDecl,
    readonly env: Env,
    readonly parent: ArmResourceInstance | undefined,
    readonly index: number | undefined,
  ) {
    const t = decl.t;
    const j = decl.json;
    const rawType = typeof j.type === 'string' ? j.type : '';
    this.type = parent && !rawType.includes('/') ? `${parent.type}/${rawType}` : rawType;
    this.apiVersion = typeof j.apiVersion === 'string' ? j.apiVersion : parent?.apiVersion;
    this.existing = j.existing === true;
    this.isDeployment = decl.isDeployment;
    this.extension = decl.extension;
    this.symbolicName = decl.symbol + (index !== undefined ? `[${index}]` : '');
    const pos = t.source.positionAt(decl.offset);
    this.origin = { file: t.path, line: pos.line, column: pos.column };
    this.nameLazy = new Lazy(() => {
      const n = t.evalIn(j.name, env, `${decl.symbol}.name`);
      if (isUnknown(n)) {
        if (!t.options.unknownParamsAllowed) throw t.err('GH_BICEP_UNKNOWN_CONDITION', `the name of '${decl.symbol}' depends on a value known only after deployment`, undefined, decl.offset);
        t.ctx.warn('GH_BICEP_UNKNOWN_CONDITION', `the name of '${decl.symbol}' depends on a value known only after deployment: named '{${decl.symbol}}' here`, t.source, decl.offset);
        return `{${decl.symbol}}`;
      }
      if (typeof n !== 'string') throw t.err('GH_BICEP_TYPE', `the name of '${decl.symbol}' must be a string`, undefined, decl.offset);
      if (parent && !n.includes('/')) return `${parent.fullName()}/${n}`;
      return n;
    }, `the name of '${decl.symbol}'`);
    this.condLazy = new Lazy(() => {
      if (this.extension) return false;
      if (parent && !parent.condition()) return false;
      if (!('condition' in j)) return true;
      const c = t.evalIn(j.condition, env, `${decl.symbol}.condition`);
      if (isUnknown(c)) {
        if (!t.options.unknownParamsAllowed) throw t.err('GH_BICEP_UNKNOWN_CONDITION', `the condition of '${decl.symbol}' depends on a value known only after deployment`, undefined, decl.offset);
        t.ctx.warn('GH_BICEP_UNKNOWN_CONDITION', `the condition of '${decl.symbol}' depends on a value known only after deployment: evaluated as deployed`, t.source, decl.offset);
        return true;
      }
      return c === true;
    }, `the condition of '${decl.symbol}'`);
    this.idLazy = new Lazy(() => this.computeId(), `the id of '${decl.symbol}'`);
    this.bodyLazy = new Lazy(() => {
      const out: JsonObject = { name: this.fullName() };
      for (const [k, v] of Object.entries(j)) {
        if (RESOURCE_META_KEYS.has(k.toLowerCase())) continue;
        if (this.isDeployment && k === 'properties') continue; // the nested template is a unit of its own
        out[k] = t.evalIn(v, env, `${decl.symbol}.${k}`);
      }
      return out;
    }, `resource '${decl.symbol}'`);
    this.nestedLazy = new Lazy(() => this.loadNested(), `deployment '${decl.symbol}'`);
  }

  condition(): boolean {
    return this.condLazy.get();
  }
  fullName(): string {
    return this.nameLazy.get();
  }
  id(): string {
    return this.idLazy.get();
  }
  body(): JsonObject {
    return this.bodyLazy.get();
  }
  nested(): DeploymentUnit {
    return this.nestedLazy.get();
  }

  private scopeOf(): { prefix: string; scope: ScopeContext } {
    const t = this.decl.t;
    const j = this.decl.json;
    const s = t.scope;
    if (this.parent) return this.parent.scopeOf();
    const sub = 'subscriptionId' in j ? t.evalIn(j.subscriptionId, this.env, `${this.decl.symbol}.subscriptionId`) : undefined;
    const rg = 'resourceGroup' in j ? t.evalIn(j.resourceGroup, this.env, `${this.decl.symbol}.resourceGroup`) : undefined;
    if (typeof sub === 'string' || typeof rg === 'string') {
      const subId = typeof sub === 'string' ? sub : s.subscriptionId;
      if (typeof rg === 'string') return { prefix: `/subscriptions/${subId}/resourceGroups/${rg}`, scope: { ...s, targetScope: 'resourceGroup', subscriptionId: subId, resourceGroup: rg } };
      return { prefix: `/subscriptions/${subId}`, scope: { ...s, targetScope: 'subscription', subscriptionId: subId } };
    }
    if ('scope' in j) {
      const v = t.evalIn(j.scope, this.env, `${this.decl.symbol}.scope`);
      if (typeof v === 'string') {
        const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?$/i.exec(v);
        if (m && m[2]) return { prefix: v, scope: { ...s, targetScope: 'resourceGroup', subscriptionId: m[1]!, resourceGroup: m[2] } };
        if (m) return { prefix: v, scope: { ...s, targetScope: 'subscription', subscriptionId: m[1]! } };
        const mg = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)$/i.exec(v);
        if (mg) return { prefix: v, scope: { ...s, targetScope: 'managementGroup', managementGroup: mg[1]! } };
        if (v === '/' || v === '') return { prefix: '', scope: { ...s, targetScope: 'tenant' } };
        if (v.startsWith('/')) return { prefix: v, scope: s };
        // relative form 'Microsoft.Network/virtualNetworks/vnet1' → in the current scope
        const parts = v.split('/');
        const types = parts.filter((_, i) => i % 2 === 1 || i === 0);
        const names = parts.filter((_, i) => i % 2 === 0 && i > 0);
        const path = `${types[0]}/` + types.slice(1).map((x, i) => `${x}/${names[i]}`).join('/');
        return { prefix: `${defaultPrefix(s)}/providers/${path}`, scope: s };
      }
    }
    return { prefix: defaultPrefix(s), scope: s };
  }

  private computeId(): string {
    const { prefix } = this.scopeOf();
    const names = this.fullName().split('/');
    const [ns, ...types] = this.type.split('/');
    if (names.length !== types.length) throw this.decl.t.err('GH_BICEP_RESOURCE_ID', `the resource type '${this.type}' needs ${types.length} name segment(s) but the name '${names.join('/')}' has ${names.length}`, undefined, this.decl.offset);
    return `${prefix}/providers/${ns}/` + types.map((x, i) => `${x}/${names[i]}`).join('/');
  }

  private loadNested(): DeploymentUnit {
    const t = this.decl.t;
    const j = this.decl.json;
    const props = isObject(j.properties) ? j.properties : {};
    const { scope } = this.scopeOf();
    const childScope: ScopeContext = { ...scope, deploymentName: this.fullName() };
    const innerScope = isObject(props.expressionEvaluationOptions) && String(props.expressionEvaluationOptions.scope).toLowerCase() === 'inner';
    const params: ParamThunks = new Map();
    const pv = isObject(props.parameters) ? props.parameters : {};
    for (const [k, v] of Object.entries(pv)) {
      const lazy = new Lazy(() => {
        if (isObject(v) && 'value' in v) return t.evalIn(v.value, this.env, `${this.decl.symbol}.properties.parameters.${k}`);
        if (isObject(v) && 'reference' in v) return new Unknown(`Key Vault reference for '${k}'`);
        return t.evalIn(v, this.env, `${this.decl.symbol}.properties.parameters.${k}`);
      }, `parameter '${k}' of '${this.decl.symbol}'`);
      params.set(k, () => lazy.get());
    }
    if (isObject(props.template)) {
      if (!innerScope && isObject(props.template) && Object.keys(pv).length === 0 && props.template.parameters === undefined && !innerScope) {
        // outer scope: expressions of the nested template see the parent's parameters and variables
      }
      return new ArmTemplate(t.ctx, t.path, childScope, params, { inlineTemplate: props.template, inlineOffset: this.decl.offset, unknownParamsAllowed: t.options.unknownParamsAllowed ?? false });
    }
    if (isObject(props.templateLink)) throw t.err('GH_BICEP_UNSUPPORTED', `'${this.decl.symbol}' links a template by URI; only inline templates are evaluated locally`, undefined, this.decl.offset);
    throw t.err('GH_ARM_TEMPLATE', `the deployment '${this.decl.symbol}' has no template`, undefined, this.decl.offset);
  }
}

function defaultPrefix(s: ScopeContext): string {
  switch (s.targetScope) {
    case 'resourceGroup':
      return `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}`;
    case 'subscription':
      return `/subscriptions/${s.subscriptionId}`;
    case 'managementGroup':
      return `/providers/Microsoft.Management/managementGroups/${s.managementGroup}`;
    case 'tenant':
      return '';
  }
}
