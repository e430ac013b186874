/**
 * What both front-ends share while they evaluate one deployment: the table of resources (declared
 * and `existing`, from every module), reference() with values from the network model, the
 * diagnostics and the list of files read.
 */
import { readFileSync } from 'node:fs';
import { DiagnosticBag } from '../../core/diagnostics.js';
import type { ErrorCode } from '../../core/errors.js';
import { SourceFile } from '../../core/source.js';
import type { ResourceOrigin } from '../../model/resources.js';
import { NetworkAllocator, type NetworkResource } from '../network.js';
import { EvalError, Unknown, clone, isObject, markRuntime, type JsonObject } from './value.js';
import { armGuid, type ScopeContext } from './functions.js';

/** One resource as the deployment sees it, whichever front-end declared it. */
export interface ResourceEntry extends NetworkResource {
  readonly symbolicName: string;
  readonly type: string;
  readonly apiVersion: string | undefined;
  readonly existing: boolean;
  readonly origin: ResourceOrigin;
  /** False when a condition (`if`) leaves the resource out. */
  condition(): boolean;
  id(): string;
  /** The full name ('apim/api/operation'). */
  fullName(): string;
  /** The evaluated declaration: name (full), location, sku, properties … (no parent/scope/dependsOn). */
  body(): JsonObject;
}

/** A value computed once on demand, with cycle detection. A failed computation is retried next time. */
export class Lazy<T> {
  private state: 'init' | 'pending' | 'done' | 'failed' = 'init';
  private value: T | undefined;
  private error: unknown;
  constructor(private readonly compute: () => T, readonly describe: string) {}
  get(): T {
    if (this.state === 'done') return this.value as T;
    if (this.state === 'failed') throw this.error;
    if (this.state === 'pending') throw new CycleError(this);
    this.state = 'pending';
    try {
      this.value = this.compute();
      this.state = 'done';
      return this.value;
    } catch (e) {
      // Evaluation is deterministic, so an error is kept — except a cycle, which depends on where
      // the evaluation started (a lookup may meet a declaration that is being evaluated).
      const cycle = e instanceof CycleError ? e : (e as { cycle?: unknown })?.cycle;
      if (cycle instanceof CycleError && !cycle.closed) {
        if (cycle.target === this) cycle.closed = true;
        else cycle.chain.unshift(this.describe);
        (e as Error).message = cycle.render();
      }
      const code = (e as { code?: unknown }).code;
      if (code === 'GH_BICEP_CYCLE' || !(e instanceof Error)) this.state = 'init';
      else {
        this.state = 'failed';
        this.error = e;
      }
      throw e;
    }
  }
  get done(): boolean {
    return this.state === 'done';
  }
}

export class CycleError extends EvalError {
  /** The declarations between the one met twice and itself, filled in as the error goes up. */
  readonly chain: string[] = [];
  closed = false;
  constructor(readonly target: { readonly describe: string }) {
    super(`${target.describe} depends on itself (a cycle)`, 'GH_BICEP_CYCLE');
  }
  render(): string {
    if (!this.closed) return `${this.target.describe} depends on itself (a cycle${this.chain.length ? ` through ${this.chain.join(' → ')}` : ''})`;
    return `a cycle: ${[this.target.describe, ...this.chain, this.target.describe].join(' → ')}`;
  }
}

/** An error at a place in a file: what front-ends throw so the diagnostic can point at it. */
export class LocatedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly file: SourceFile | string,
    readonly offset: number | undefined,
    readonly length = 1,
  ) {
    super(message);
  }
}

const MAX_DIAGNOSTICS = 500;

export const LOCAL_TENANT_ID = '11111111-1111-1111-1111-111111111111';

export class DeploymentContext {
  readonly diagnostics = new DiagnosticBag();
  readonly files = new Set<string>();
  readonly network: NetworkAllocator;
  /** Every resource entry of the deployment, registered by the front-ends as they meet them. */
  private readonly walkers: (() => ResourceEntry[])[] = [];
  private readonly references = new Map<ResourceEntry, { props: unknown; full: unknown }>();
  private readonly reported = new Set<string>();
  readonly now: Date;
  /** Loads a module (a .bicep or ARM .json file): set by the deployment entry point. */
  loadUnit: UnitLoader = () => {
    throw new EvalError('no module loader', 'GH_INTERNAL');
  };
  private readonly textCache = new Map<string, string>();
  /** Text that loadTextContent() returned → the file it came from (for policyFile). */
  readonly loadedTexts = new Map<string, string>();

  constructor(
    readonly options: { unknownParamsAllowed?: boolean; now?: Date } = {},
  ) {
    this.now = options.now ?? new Date('2024-01-01T00:00:00Z');
    this.network = new NetworkAllocator({ resources: () => this.allResources() });
  }

  /** Reads a file as UTF-8 text (BOM removed), remembering it for reload watching. */
  readText(path: string): string {
    let t = this.textCache.get(path);
    if (t === undefined) {
      this.files.add(path);
      t = readFileSync(path, 'utf8');
      if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
      this.textCache.set(path, t);
    }
    return t;
  }

  /** Uses this text for a path instead of reading the file (editors' unsaved buffers, tests, fuzzing). */
  provideText(path: string, text: string): void {
    this.textCache.set(path, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    this.files.add(path);
  }

  readBytes(path: string): Buffer {
    this.files.add(path);
    return readFileSync(path);
  }

  private guidCounter = 0;
  /** newGuid() values: reproducible within a deployment (the n-th call gives the same value each run). */
  newGuid(): string {
    return armGuid('gatehouse-newGuid', String(this.guidCounter++));
  }

  /** A front-end registers a function listing its resources (called again whenever needed). */
  addResourceSource(walk: () => ResourceEntry[]): void {
    this.walkers.push(walk);
  }

  allResources(): ResourceEntry[] {
    const out: ResourceEntry[] = [];
    for (const w of this.walkers) {
      try {
        out.push(...w());
      } catch {
        /* a part that cannot be listed now (a cycle in progress) is skipped by lookups */
      }
    }
    return out;
  }

  findDeclared(id: string): ResourceEntry | undefined {
    const want = id.toLowerCase();
    for (const r of this.allResources()) {
      if (r.existing) continue;
      try {
        if (r.id().toLowerCase() === want && r.condition()) return r;
      } catch {
        /* skip */
      }
    }
    return undefined;
  }

  /** reference(resource[, 'Full']): the declared body merged with what the network model assigns. */
  reference(entry: ResourceEntry, full: boolean): unknown {
    if (entry.existing) {
      let id: string;
      try {
        id = entry.id();
      } catch (e) {
        throw e;
      }
      const declared = this.findDeclared(id);
      if (declared) return this.reference(declared, full);
      return new Unknown(`reference('${id}'${full ? ", 'Full'" : ''})`);
    }
    let cached = this.references.get(entry);
    if (!cached) {
      const body = entry.body();
      const declaredProps = isObject(body.properties) ? clone(body.properties) : {};
      const runtime = this.network.runtimeProperties(entry.type, entry.id(), body);
      const props = mergeRuntime(declaredProps, runtime);
      const fullObj: JsonObject = { ...clone(body), properties: props, apiVersion: entry.apiVersion ?? null, resourceId: entry.id() };
      cached = { props: markRuntime(props), full: markRuntime(fullObj) };
      this.references.set(entry, cached);
    }
    return full ? cached.full : cached.props;
  }

  referenceById(id: string, full: boolean): unknown {
    const e = this.findDeclared(id);
    if (e) return this.reference(e, full);
    return new Unknown(`reference('${id}'${full ? ", 'Full'" : ''})`);
  }

  /** Adds a diagnostic once (the same error reached twice through two paths is reported once). */
  report(e: unknown, fallbackFile?: SourceFile | string, fallbackOffset?: number): void {
    let d;
    if (e instanceof LocatedError) {
      d = { code: e.code, message: e.message, file: e.file, offset: e.offset };
    } else if (e instanceof EvalError) {
      d = { code: e.code as ErrorCode, message: e.message, file: fallbackFile, offset: fallbackOffset };
    } else if (e instanceof RangeError) {
      d = { code: 'GH_BICEP_EVAL' as ErrorCode, message: `evaluation is too deep (${e.message}): a chain of declarations is too long`, file: fallbackFile, offset: fallbackOffset };
    } else {
      d = { code: 'GH_INTERNAL' as ErrorCode, message: e instanceof Error ? `${e.message}` : String(e), file: fallbackFile, offset: fallbackOffset };
    }
    const path = typeof d.file === 'string' ? d.file : d.file?.path;
    const key = `${path}:${d.offset}:${d.code}:${d.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    if (this.diagnostics.items.length >= MAX_DIAGNOSTICS) {
      if (this.diagnostics.items.length === MAX_DIAGNOSTICS) this.diagnostics.error('GH_CONFIG_INVALID', `more than ${MAX_DIAGNOSTICS} problems: the rest are not reported`, d.file === undefined ? undefined : { file: d.file });
      return;
    }
    this.diagnostics.error(d.code, d.message, d.file === undefined ? undefined : d.offset === undefined ? { file: d.file } : { file: d.file, offset: d.offset });
  }

  warn(code: ErrorCode, message: string, file: SourceFile | string, offset?: number): void {
    const path = typeof file === 'string' ? file : file.path;
    const key = `w:${path}:${offset}:${code}:${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.warning(code, message, offset === undefined ? { file } : { file, offset });
  }
}

/** Declared properties win; runtime-only values fill in (arrays of sub-resources merged item by item). */
function mergeRuntime(declared: JsonObject, runtime: JsonObject): JsonObject {
  const out: JsonObject = { ...declared };
  for (const [k, v] of Object.entries(runtime)) {
    const d = out[k];
    if (d === undefined) out[k] = v;
    else if (isObject(d) && isObject(v)) out[k] = mergeRuntime(d, v);
    else if (Array.isArray(d) && Array.isArray(v) && d.length === v.length) out[k] = d.map((x, i) => (isObject(x) && isObject(v[i]) ? mergeRuntime(x, v[i] as JsonObject) : x));
  }
  return out;
}

export function rootScope(targetScope: ScopeContext['targetScope'], subscriptionId: string, resourceGroup: string, deploymentName: string): ScopeContext {
  return { targetScope, tenantId: LOCAL_TENANT_ID, subscriptionId, resourceGroup, location: 'westeurope', managementGroup: 'gatehouse-mg', deploymentName };
}

/** One evaluated template: a Bicep file or an ARM JSON template, with its own parameters and scope. */
export interface DeploymentUnit {
  readonly path: string;
  output(name: string): unknown;
  outputNames(): string[];
  /** Every resource of the unit and its modules, in declaration order (modules in place). */
  resources(): ResourceEntry[];
  /** Evaluates everything, reporting every error into the context's diagnostics. */
  evaluateAll(): void;
}

export type ParamThunks = Map<string, () => unknown>;

export type UnitLoader = (path: string, scope: ScopeContext, params: ParamThunks, from: { file: SourceFile | string; offset?: number }) => DeploymentUnit;
