/**
 * The entry point of the configuration front-ends: evaluateDeployment(main.bicep | folder | ARM
 * template.json, options) → every resource with its id, full name, evaluated properties and where
 * it was declared, the outputs, all diagnostics, the files read, and the network model.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../core/diagnostics.js';
import { SourceFile } from '../core/source.js';
import { Secret } from '../core/secret.js';
import { LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION_ID, type ArmResource, type ResourceOrigin } from '../model/resources.js';
import { DeploymentContext, LocatedError, rootScope, type DeploymentUnit, type ParamThunks } from './arm/context.js';
import { ArmTemplate, readArmParameters } from './arm/template.js';
import { BicepFile } from './bicep/evaluator.js';
import type { NetworkModel } from './network.js';
import { Unknown, clone, isObject } from './arm/value.js';
import './bicep/errors.js';

export type { NetworkModel } from './network.js';
export { Unknown, isUnknown } from './arm/value.js';

export interface EvaluatedResource extends ArmResource {
  readonly origin: ResourceOrigin;
  /** The symbol that declared it: 'apim', 'vnet::apimSubnet', 'nsgRules[2]' (ARM: the resource's name in the template). */
  readonly symbolicName: string;
  /** An `existing` reference: not created by this deployment, only read. */
  readonly existing: boolean;
  /** Values Azure assigns at deployment, as reference() returns them here (gatewayUrl, privateIPAddresses …); they are in `properties` too. */
  readonly runtime?: Record<string, unknown>;
  /** For policy resources whose properties.value was loaded from a file: that file (policy diagnostics point into it). */
  readonly policyFile?: string;
}

export interface DeploymentResult {
  readonly resources: EvaluatedResource[];
  readonly outputs: Record<string, unknown>;
  readonly diagnostics: Diagnostic[];
  /** Every file read (templates, modules, parameter files, loadTextContent …), for reload watching. */
  readonly files: string[];
  readonly network: NetworkModel;
}

export interface EvaluateOptions {
  /** Parameter values (a string for an int/bool/object/array parameter is converted, as `--param` gives strings). */
  readonly params?: Record<string, unknown>;
  /** A .bicepparam file or an ARM parameters .json file. */
  readonly parametersFile?: string;
  /** `gatehouse check`: a param with neither value nor default evaluates to Unknown instead of an error. */
  readonly unknownParamsAllowed?: boolean;
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  readonly deploymentName?: string;
  /** resourceGroup().location (default westeurope). */
  readonly location?: string;
  /** utcNow() and friends; fixed by default so evaluation is reproducible. */
  readonly now?: Date;
}

/** main.bicep | a folder holding main.bicep | an ARM template .json | a .bicepparam naming its template. */
export function resolveEntry(entry: string): string {
  const p = resolve(entry);
  if (existsSync(p) && statSync(p).isDirectory()) {
    for (const name of ['main.bicep', 'azuredeploy.json', 'main.json']) if (existsSync(join(p, name))) return join(p, name);
    return join(p, 'main.bicep');
  }
  return p;
}

export async function evaluateDeployment(entry: string, options: EvaluateOptions = {}): Promise<DeploymentResult> {
  return evaluateDeploymentSync(entry, options);
}

export function evaluateDeploymentSync(entry: string, options: EvaluateOptions = {}): DeploymentResult {
  try {
    return evaluate(entry, options);
  } catch (e) {
    // a bug must not take the caller down: report it like any other diagnostic
    return {
      resources: [],
      outputs: {},
      diagnostics: [{ severity: 'error', code: 'GH_INTERNAL', message: `evaluating ${entry} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`, file: resolve(entry) }],
      files: [],
      network: { privateAddresses: [], publicAddresses: [], subnets: [], securityRules: [] },
    };
  }
}

function evaluate(entry: string, options: EvaluateOptions): DeploymentResult {
  const ctx = new DeploymentContext({ ...(options.unknownParamsAllowed !== undefined ? { unknownParamsAllowed: options.unknownParamsAllowed } : {}), ...(options.now ? { now: options.now } : {}) });
  const base = rootScope('resourceGroup', options.subscriptionId ?? LOCAL_SUBSCRIPTION_ID, options.resourceGroup ?? LOCAL_RESOURCE_GROUP, options.deploymentName ?? 'gatehouse');
  const scope = options.location ? { ...base, location: options.location } : base;
  const unknownAllowed = options.unknownParamsAllowed ?? false;
  ctx.loadUnit = (path, s, params, from) => {
    try {
      if (path.toLowerCase().endsWith('.json')) return new ArmTemplate(ctx, path, s, params, { unknownParamsAllowed: unknownAllowed });
      return new BicepFile(ctx, path, s, { params, unknownParamsAllowed: unknownAllowed, from });
    } catch (e) {
      if (e instanceof LocatedError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new LocatedError('GH_BICEP_FILE', `cannot read '${path}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, from.file, from.offset);
    }
  };

  let path = resolveEntry(entry);
  const params: ParamThunks = new Map();
  let root: DeploymentUnit | undefined;
  let paramsUnit: BicepFile | undefined;
  try {
    // parameters: file first, then explicit values
    let paramsFile = options.parametersFile ? resolve(options.parametersFile) : undefined;
    if (path.toLowerCase().endsWith('.bicepparam')) {
      paramsFile = path;
    }
    if (paramsFile) {
      if (paramsFile.toLowerCase().endsWith('.bicepparam')) {
        paramsUnit = new BicepFile(ctx, paramsFile, scope, { unknownParamsAllowed: unknownAllowed });
        for (const [k, v] of paramsUnit.paramAssignments()) params.set(k, v);
        if (path === paramsFile) {
          if (!paramsUnit.usingPath) throw new LocatedError('GH_BICEP_FILE', `'${paramsFile}' has no 'using' declaration naming its template`, paramsFile, undefined);
          path = paramsUnit.usingPath;
        } else if (paramsUnit.usingPath && resolve(paramsUnit.usingPath) !== path) {
          ctx.warn('GH_BICEP_FILE', `the parameters file is for '${paramsUnit.usingPath}' ('using'), not for '${path}'`, paramsUnit.source, 0);
        }
      } else {
        for (const [k, v] of readArmParameters(ctx, paramsFile)) params.set(k, () => v);
      }
    }
    for (const [k, v] of Object.entries(options.params ?? {})) params.set(k, () => v);
    root = path.toLowerCase().endsWith('.json')
      ? new ArmTemplate(ctx, path, scope, params, { unknownParamsAllowed: unknownAllowed, coerceStrings: new Set(Object.keys(options.params ?? {})) })
      : new BicepFile(ctx, path, scope, { params: coerceFor(ctx, path, params, options.params), unknownParamsAllowed: unknownAllowed });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') ctx.diagnostics.error('GH_FILE_NOT_FOUND', `${(e as NodeJS.ErrnoException).path ?? path}: no such file`, { file: path });
    else ctx.report(e, path);
  }
  if (!root) return { resources: [], outputs: {}, diagnostics: ctx.diagnostics.items, files: [...ctx.files], network: { privateAddresses: [], publicAddresses: [], subnets: [], securityRules: [] } };
  const unit = root;
  ctx.addResourceSource(() => unit.resources());

  if (unit instanceof BicepFile) {
    const declared = new Set([...unit.symbols].filter(([, s]) => s.kind === 'param').map(([k]) => k.toLowerCase()));
    for (const k of params.keys())
      if (!declared.has(k.toLowerCase())) {
        if (paramsUnit && paramsUnit.symbols.has(k)) {
          const sym = paramsUnit.symbols.get(k);
          ctx.report(new LocatedError('GH_BICEP_PARAM_UNKNOWN', `'${path}' declares no parameter '${k}'`, paramsUnit.source, sym?.kind === 'param' ? sym.decl.nameSpan.start : 0));
        }
        else ctx.report(new LocatedError('GH_BICEP_PARAM_UNKNOWN', `'${path}' declares no parameter '${k}'`, path, undefined));
      }
  }
  paramsUnit?.evaluateAll();
  unit.evaluateAll();

  const outputs: Record<string, unknown> = {};
  for (const n of unit.outputNames()) {
    try {
      // @secure() outputs stay out of logs (ARM does not return them either)
      const secure = (unit instanceof BicepFile || unit instanceof ArmTemplate) && unit.isSecureOutput(n);
      outputs[n] = secure ? new Secret(unit.output(n)) : unit.output(n);
    } catch (e) {
      ctx.report(e, path);
    }
  }
  const resources: EvaluatedResource[] = [];
  for (const r of unit.resources()) {
    try {
      if (!r.condition()) continue;
      if (r.type.toLowerCase() === 'microsoft.resources/deployments') continue;
      const body = r.body();
      const out: Record<string, unknown> = { ...clone(body), type: r.type, name: r.fullName(), id: r.id() };
      if (r.apiVersion) out.apiVersion = r.apiVersion;
      out.origin = r.origin;
      if (ctx.loadedTexts.size) {
        const loaded: Record<string, string> = {};
        collectLoaded(body, '', ctx.loadedTexts, loaded, 0);
        if (loaded['properties.value'] && /\/(policies|policyFragments)$/i.test(r.type)) out.policyFile = loaded['properties.value'];
      }
      out.symbolicName = r.symbolicName;
      out.existing = r.existing;
      if (!r.existing) {
        const ref = ctx.reference(r, false);
        if (isObject(ref)) {
          // as a GET after the deployment shows it: the declared properties plus what Azure assigns
          const runtime = runtimeOnly(ref, isObject(body.properties) ? body.properties : {});
          if (Object.keys(runtime).length) {
            out.runtime = runtime;
            out.properties = { ...(isObject(out.properties) ? out.properties : {}), ...clone(runtime) };
          }
        }
      }
      resources.push(out as unknown as EvaluatedResource);
    } catch (e) {
      let src: SourceFile | undefined;
      try {
        src = new SourceFile(r.origin.file, ctx.readText(r.origin.file));
      } catch {
        src = undefined;
      }
      if (src && r.origin.line !== undefined) ctx.report(e, src, src.offsetAt({ line: r.origin.line, column: r.origin.column ?? 1 }));
      else ctx.report(e, r.origin.file);
    }
  }
  const network = ctx.network.build();
  return { resources, outputs, diagnostics: sortDiagnostics(ctx.diagnostics.items, [...ctx.files]), files: [...ctx.files], network };
}

function collectLoaded(v: unknown, path: string, texts: Map<string, string>, out: Record<string, string>, depth: number): void {
  if (depth > 40) return;
  if (typeof v === 'string') {
    const f = texts.get(v);
    if (f) out[path] = f;
  } else if (Array.isArray(v)) v.forEach((x, i) => collectLoaded(x, `${path}[${i}]`, texts, out, depth + 1));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) collectLoaded(x, path ? `${path}.${k}` : k, texts, out, depth + 1);
}

/** In file order (the order files were read: main first), then by line and column. */
function sortDiagnostics(ds: Diagnostic[], files: string[]): Diagnostic[] {
  const rank = (f: string | undefined) => (f === undefined ? -1 : files.indexOf(f) < 0 ? files.length : files.indexOf(f));
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d.file) - rank(b.d.file) || (a.d.line ?? 0) - (b.d.line ?? 0) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i)
    .map((x) => x.d);
}

function runtimeOnly(ref: Record<string, unknown>, declared: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ref)) if (!(k in declared)) out[k] = clone(v);
  return out;
}

/** `--param port=8443` gives a string; convert it when the Bicep param is int, bool, object or array. */
function coerceFor(ctx: DeploymentContext, path: string, params: ParamThunks, explicit: Record<string, unknown> | undefined): ParamThunks {
  if (!explicit) return params;
  let text: string;
  try {
    text = ctx.readText(path);
  } catch {
    return params;
  }
  const out: ParamThunks = new Map(params);
  for (const [k, v] of Object.entries(explicit)) {
    if (typeof v !== 'string') continue;
    const m = new RegExp(`^\\s*param\\s+${k}\\s+(int|bool|object|array)\\b`, 'm').exec(text);
    if (!m) continue;
    const t = m[1];
    let c: unknown = v;
    if (t === 'int' && /^-?\d+$/.test(v.trim())) c = Number(v);
    else if (t === 'bool' && /^(true|false)$/i.test(v.trim())) c = v.trim().toLowerCase() === 'true';
    else if (t === 'object' || t === 'array') {
      try {
        c = JSON.parse(v);
      } catch {
        c = v;
      }
    }
    out.set(k, () => c);
  }
  return out;
}

export { Unknown as UnknownValue };
