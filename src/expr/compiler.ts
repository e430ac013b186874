/**
 * Compiles the syntax tree into JavaScript closures, once, at load. Names are resolved at compile
 * time (locals to frame slots, types against the allow-list), so a type outside the allow-list or
 * an unknown name is a load-time diagnostic; everything else runs through the runtime's .NET
 * semantics (integer division, ordinal ==, null dereference → NullReferenceException …).
 */
import type { Arg, Block, Expr, Initializer, Param, Program, Stmt, TypeNode } from './ast.js';
import { DotNetException } from './errors.js';
import { CsObject, EnumValue, LimitExceeded, csEquals, csToString, ex, isCsTrue, iterate, type Runtime } from './runtime/core.js';
import { asType, castTo, isInstance, OutRef, rtype, type RType, type TypeInfo } from './runtime/types.js';
import { callMember, callStatic, construct, getIndex, getMember, getStaticProp, hasStatic, hasStaticProp, memberReader, methodCaller, setIndex, setMember, staticReturn } from './runtime/dispatch.js';
import { REGISTRY } from './runtime/library.js';
import { formatInterpolationHole } from './runtime/format.js';
import { AnonymousObject } from './runtime/collections.js';
import { MISS, StringMemo } from './runtime/memo.js';
import { PURE_STRING_METHODS } from './runtime/strings.js';

export class CompileError extends Error {
  constructor(readonly code: 'GH_EXPR_SYNTAX' | 'GH_EXPR_TYPE_NOT_ALLOWED' | 'GH_EXPR_UNKNOWN_NAME' | 'GH_EXPR_UNSUPPORTED', message: string, readonly offset: number) {
    super(message);
  }
}

export interface Frame {
  vars: unknown[];
  readonly parent: Frame | undefined;
  readonly rt: Runtime;
  ret: unknown;
}

type Code = (f: Frame) => unknown;
/** Statement completion: 0 normal, 1 break, 2 continue, 3 return. */
type SCode = (f: Frame) => number;

/** A static type as far as the compiler knows it: 'int' | 'long' | 'double' | 'decimal' | 'char' | 'string' | 'bool' | 'byte' | … or undefined. */
type ST = string | undefined;

type Compiled =
  | { k: 'value'; code: Code; st: ST }
  | { k: 'type'; type: RType; start: number }
  | { k: 'ns'; path: string; start: number };

interface VarInfo {
  slot: number;
  st: ST;
}

class FnScope {
  readonly blocks: Map<string, VarInfo>[] = [new Map()];
  count = 0;
  constructor(readonly parent: FnScope | undefined) {}
  declare(name: string, st: ST, at: number): VarInfo {
    const top = this.blocks[this.blocks.length - 1]!;
    for (const b of this.blocks) {
      if (b.has(name)) throw new CompileError('GH_EXPR_SYNTAX', `a local variable named '${name}' is already defined in this scope`, at);
    }
    const v = { slot: this.count++, st };
    top.set(name, v);
    return v;
  }
  lookup(name: string): { depth: number; v: VarInfo } | undefined {
    let s: FnScope | undefined = this;
    let depth = 0;
    while (s) {
      for (let i = s.blocks.length - 1; i >= 0; i--) {
        const v = s.blocks[i]!.get(name);
        if (v) return { depth, v };
      }
      s = s.parent;
      depth++;
    }
    return undefined;
  }
}

const INTEGRAL = new Set(['int', 'long', 'uint', 'ulong', 'short', 'ushort', 'byte', 'sbyte', 'char']);
const FLOATING = new Set(['double', 'float', 'decimal']);
const NUMERIC = new Set([...INTEGRAL, ...FLOATING]);

function promote(a: ST, b: ST): ST {
  if (a === undefined || b === undefined) return undefined;
  if (!NUMERIC.has(a) || !NUMERIC.has(b)) return undefined;
  if (a === 'decimal' || b === 'decimal') return 'decimal';
  if (FLOATING.has(a) || FLOATING.has(b)) return 'double';
  if (a === 'long' || b === 'long' || a === 'ulong' || b === 'ulong' || a === 'uint' || b === 'uint') return 'long';
  return 'int';
}

const PRIM_OF: Record<string, string> = {
  'System.String': 'string', 'System.Int32': 'int', 'System.Int64': 'long', 'System.Double': 'double', 'System.Single': 'float',
  'System.Decimal': 'decimal', 'System.Boolean': 'bool', 'System.Char': 'char', 'System.Byte': 'byte', 'System.Int16': 'short',
  'System.UInt16': 'ushort', 'System.UInt32': 'uint', 'System.UInt64': 'ulong', 'System.SByte': 'sbyte',
};

function stOf(t: RType): ST {
  if (t.ranks.length > 0) return t.name === 'System.Byte' && t.ranks.length === 1 ? 'byte[]' : 'array';
  return PRIM_OF[t.name] ?? t.name;
}

function num(v: unknown, st: ST): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && (st === 'char' || v.length === 1)) return v.charCodeAt(0);
  if (v === null || v === undefined) throw ex.nullRef();
  if (v instanceof EnumValue) return v.value;
  if (typeof v === 'bigint') return Number(v);
  throw ex.invalidCast(v, 'System.Double');
}

/** Known property types that matter for arithmetic and char handling. */
const MEMBER_ST: Record<string, ST> = { Length: 'int', Count: 'int', StatusCode: 'int', Port: 'int', Year: 'int', Month: 'int', Day: 'int', Hour: 'int', Minute: 'int', Second: 'int', Millisecond: 'int', Ticks: 'long', TotalSeconds: 'double', TotalMilliseconds: 'double', TotalMinutes: 'double', TotalHours: 'double', TotalDays: 'double', DayOfYear: 'int' };
const METHOD_ST: Record<string, ST> = { IndexOf: 'int', LastIndexOf: 'int', IndexOfAny: 'int', CompareTo: 'int', Count: 'int', GetHashCode: 'int', ToUnixTimeSeconds: 'long', ToUnixTimeMilliseconds: 'long', Next: 'int', ToString: 'string', Substring: 'string', ToLower: 'string', ToUpper: 'string', ToLowerInvariant: 'string', ToUpperInvariant: 'string', Trim: 'string', Replace: 'string', Contains: 'bool', StartsWith: 'bool', EndsWith: 'bool', Equals: 'bool', Any: 'bool', All: 'bool' };


/**
 * The static shape of API Management's `context` object (spec 3.3), so that a misspelt member or a
 * property used like a method (`context.Request.MatchedParameters("x")`) is a load-time error.
 * Values are the static type of the member: 'ctx:…' for modelled objects, a primitive name, or ''
 * (dynamic). Methods are marked with '()'.
 */
const CONTEXT_MODEL: Record<string, { name: string; members: Record<string, string> }> = {
  'ctx:context': { name: 'IProxyRequestContext', members: { Api: 'ctx:api', Deployment: 'ctx:deployment', Elapsed: '', LastError: 'ctx:lasterror', Operation: 'ctx:operation', Product: 'ctx:product', Request: 'ctx:request', RequestId: '', Response: 'ctx:response', Subscription: 'ctx:subscription', Timestamp: '', Tracing: 'bool', User: 'ctx:user', Variables: '', Trace: '()', Backend: '', Workspace: '', GraphQL: '', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:request': { name: 'IRequest', members: { Body: '', Certificate: '', Headers: '', IpAddress: 'string', MatchedParameters: '', Method: 'string', OriginalUrl: 'ctx:url', Url: 'ctx:url', PrivateEndpointConnection: '', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:response': { name: 'IResponse', members: { Body: '', Headers: '', StatusCode: 'int', StatusReason: 'string', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:url': { name: 'IUrl', members: { Host: 'string', Path: 'string', Port: 'int', Query: '', QueryString: 'string', Scheme: 'string', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:deployment': { name: 'IDeployment', members: { Gateway: '', GatewayId: 'string', Region: 'string', ServiceId: 'string', ServiceName: 'string', Certificates: '', SustainabilityInfo: '', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:lasterror': { name: 'ILastError', members: { Source: 'string', Reason: 'string', Message: 'string', Scope: 'string', Section: 'string', Path: 'string', PolicyId: 'string', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:operation': { name: 'IOperation', members: { Id: 'string', Method: 'string', Name: 'string', UrlTemplate: 'string', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:api': { name: 'IApi', members: { Id: 'string', IsCurrentRevision: 'bool', Name: 'string', Path: 'string', Revision: 'string', ServiceUrl: 'ctx:url', Version: 'string', Protocols: '', SubscriptionKeyParameterNames: '', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:product': { name: 'IProduct', members: { ApprovalRequired: 'bool', Groups: '', Id: 'string', Name: 'string', State: '', SubscriptionsLimit: '', SubscriptionRequired: 'bool', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:subscription': { name: 'ISubscription', members: { CreatedDate: '', EndDate: '', Id: 'string', Key: 'string', Name: 'string', PrimaryKey: 'string', SecondaryKey: 'string', StartDate: '', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
  'ctx:user': { name: 'IUser', members: { Email: 'string', FirstName: 'string', Groups: '', Id: 'string', Identities: '', LastName: 'string', Note: 'string', RegistrationDate: '', ToString: '()', GetHashCode: '()', Equals: '()', GetType: '()' } },
};

for (const m of Object.values(CONTEXT_MODEL)) Object.setPrototypeOf(m.members, null);
Object.setPrototypeOf(CONTEXT_MODEL, null);
Object.setPrototypeOf(MEMBER_ST, null);
Object.setPrototypeOf(METHOD_ST, null);

/** API Management allows only some members of some types (DateTime, Regex, IPAddress, Enum …). */
function checkAllowedMember(info: TypeInfo | undefined, name: string, at: number): void {
  if (!info?.allowed || info.allowed.has(name)) return;
  throw new CompileError('GH_EXPR_TYPE_NOT_ALLOWED', `usage of member '${name}' of type '${info.fullName}' is not allowed in policy expressions (API Management allows only ${[...info.allowed].sort().join(', ')})`, at);
}

function contextMember(tst: ST, name: string, at: number, invoked: boolean): ST {
  if (!tst || !tst.startsWith('ctx:')) return undefined;
  const m = CONTEXT_MODEL[tst];
  if (!m) return undefined;
  const t = m.members[name];
  if (t === undefined) throw new CompileError('GH_EXPR_UNKNOWN_NAME', `'${m.name}' does not contain a definition for '${name}'`, at);
  if (invoked && t !== '()') throw new CompileError('GH_EXPR_SYNTAX', `non-invocable member '${m.name}.${name}' cannot be used like a method`, at);
  if (!invoked && t === '()') throw new CompileError('GH_EXPR_SYNTAX', `'${m.name}.${name}' is a method; call it with ( )`, at);
  return t === '' || t === '()' ? undefined : t;
}

export interface CompileOutput {
  readonly run: (rt: Runtime) => unknown;
  /** The memos of the program's call sites (see memo.ts), for statistics. */
  readonly memos: readonly StringMemo[];
}

export function compileProgram(program: Program): CompileOutput {
  const c = new Compiler();
  const scope = new FnScope(undefined);
  if (program.kind === 'ExprProgram') {
    const code = c.value(program.expr, scope);
    return {
      run: (rt) => code({ vars: new Array(scope.count), parent: undefined, rt, ret: undefined }),
      memos: c.memos,
    };
  }
  const body = c.blockBody(program.block, scope, true);
  if (!c.alwaysReturns(program.block)) {
    throw new CompileError('GH_EXPR_SYNTAX', 'not all code paths return a value: a @{ } expression must end with a return statement', program.block.end - 1);
  }
  return {
    run: (rt) => {
      const f: Frame = { vars: new Array(scope.count), parent: undefined, rt, ret: undefined };
      body(f);
      return f.ret;
    },
    memos: c.memos,
  };
}

class Compiler {
  /** One memo per call site of a pure string function (memo.ts): state of this compiled program only. */
  readonly memos: StringMemo[] = [];
  private memo(): StringMemo {
    const m = new StringMemo();
    this.memos.push(m);
    return m;
  }

  // ───── types ─────
  resolveType(t: TypeNode): RType {
    const args = t.args.map((a) => this.resolveType(a));
    let name = t.name;
    if (name === 'var') throw new CompileError('GH_EXPR_SYNTAX', "'var' is not a type here", t.start);
    if (args.length > 0) name = `${name}\`${args.length}`;
    const info = REGISTRY.get(name) ?? (args.length > 0 ? REGISTRY.get(t.name) : undefined);
    if (!info) {
      throw new CompileError('GH_EXPR_TYPE_NOT_ALLOWED', `the type '${t.name}' is not allowed in policy expressions (it is not on API Management's list of .NET types, or Gatehouse does not implement it)`, t.start);
    }
    let r = rtype(info, args, t.ranks, t.nullable);
    if (t.nullable && info.defaultValue === undefined) r = { ...r, nullable: false };
    return r;
  }

  // ───── expressions ─────
  value(e: Expr, s: FnScope): Code {
    return this.val(e, s).code;
  }

  val(e: Expr, s: FnScope): { code: Code; st: ST } {
    const c = this.expr(e, s);
    if (c.k === 'value') return c;
    if (c.k === 'type') throw new CompileError('GH_EXPR_SYNTAX', `'${c.type.name}' is a type, which is not valid in the given context`, c.start);
    if (REGISTRY.isNamespace(c.path)) throw new CompileError('GH_EXPR_SYNTAX', `'${c.path}' is a namespace, which is not valid in the given context`, c.start);
    throw new CompileError('GH_EXPR_TYPE_NOT_ALLOWED', `the name '${c.path}' is not a local, not 'context', and not a type API Management allows in expressions`, c.start);
  }

  private v(code: Code, st: ST = undefined): Compiled {
    return { k: 'value', code, st };
  }

  expr(e: Expr, s: FnScope): Compiled {
    switch (e.kind) {
      case 'Literal': {
        const value = e.value;
        const st: ST = e.type === 'null' ? undefined : e.type === 'uint' ? 'long' : e.type === 'ulong' ? 'long' : e.type === 'float' ? 'double' : e.type;
        return this.v(() => value, st);
      }
      case 'Interpolated':
        return this.v(this.interpolated(e, s), 'string');
      case 'Name':
        return this.name(e, s);
      case 'PredefinedType':
        return { k: 'type', type: this.resolveType(e.type), start: e.start };
      case 'Member':
      case 'Call':
      case 'Index': {
        // C#'s ?. and ?[] short-circuit the whole rest of the chain: inside it a null stops as SHORT,
        // and the outermost access turns SHORT into null
        const c = this.postfix(e, s);
        if (c.k !== 'value' || !chainHasConditional(e)) return c;
        const code = c.code;
        return this.v((f) => {
          const v = code(f);
          return v === SHORT ? null : v;
        }, c.st);
      }
      case 'Unary':
        return this.unary(e, s);
      case 'Binary':
        return this.binary(e, s);
      case 'Assign':
        return this.v(this.assign(e, s));
      case 'Conditional': {
        const test = this.value(e.test, s);
        const a = this.val(e.then, s);
        const b = this.val(e.else, s);
        return this.v((f) => (isCsTrue(test(f)) ? a.code(f) : b.code(f)), a.st === b.st ? a.st : promote(a.st, b.st));
      }
      case 'Cast': {
        const type = this.resolveType(e.type);
        const operand = this.val(e.operand, s);
        const at = e.start;
        const ost = operand.st;
        const code = operand.code;
        if (ost === 'char' && type.ranks.length === 0 && PRIM_OF[type.name] && PRIM_OF[type.name] !== 'char' && PRIM_OF[type.name] !== 'string') {
          return this.v((f) => {
            const v = code(f);
            return castTo(typeof v === 'string' ? v.charCodeAt(0) : v, type);
          }, stOf(type));
        }
        return this.v((f) => {
          const v = code(f);
          f.rt.at = at;
          return castTo(v, type);
        }, stOf(type));
      }
      case 'Is': {
        const operand = this.value(e.operand, s);
        const neg = e.negated;
        if (e.pattern) {
          const p = this.value(e.pattern, s);
          return this.v((f) => csEquals(operand(f), p(f)) !== neg, 'bool');
        }
        const type = this.resolveType(e.type!);
        if (e.designation) {
          const slot = s.declare(e.designation, stOf(type), e.start).slot;
          return this.v((f) => {
            const v = operand(f);
            const ok = isInstance(v, type);
            if (ok) f.vars[slot] = v;
            return ok !== neg;
          }, 'bool');
        }
        return this.v((f) => isInstance(operand(f), type) !== neg, 'bool');
      }
      case 'As': {
        const operand = this.value(e.operand, s);
        const type = this.resolveType(e.type);
        return this.v((f) => asType(operand(f), type), stOf(type));
      }
      case 'TypeOf': {
        const type = this.resolveType(e.type);
        return this.v(() => construct(undefined as unknown as Runtime, REGISTRY.get('System.Type')!, [type.name], []));
      }
      case 'NameOf':
        return this.v(() => e.name, 'string');
      case 'Default': {
        if (!e.type) return this.v(() => null);
        const type = this.resolveType(e.type);
        const d = type.ranks.length === 0 && !type.nullable ? type.info?.defaultValue : undefined;
        return this.v(() => d ?? null, stOf(type));
      }
      case 'Lambda':
        return this.v(this.lambda(e.params, e.body, s));
      case 'New':
        return this.newObject(e, s);
      case 'NewArray':
        return this.newArray(e, s);
      case 'NewAnonymous': {
        const names = e.members.map((m) => m.name);
        const values = e.members.map((m) => this.value(m.value, s));
        return this.v((f) => new AnonymousObject(names, values.map((v) => v(f))));
      }
      case 'Checked':
        return this.expr(e.operand, s);
      case 'Throw': {
        const value = this.value(e.value, s);
        const at = e.start;
        return this.v((f) => {
          f.rt.at = at;
          throw toThrowable(value(f));
        });
      }
      case 'Switch': {
        const value = this.value(e.value, s);
        const arms = e.arms.map((a) => ({ pattern: a.pattern ? this.value(a.pattern, s) : undefined, guard: a.guard ? this.value(a.guard, s) : undefined, result: this.value(a.result, s) }));
        return this.v((f) => {
          const v = value(f);
          for (const a of arms) {
            if (a.pattern && !csEquals(v, a.pattern(f))) continue;
            if (a.guard && !isCsTrue(a.guard(f))) continue;
            return a.result(f);
          }
          throw new DotNetException('System.Runtime.CompilerServices.SwitchExpressionException', 'Non-exhaustive switch expression failed to match its input.');
        });
      }
      default:
        throw new CompileError('GH_EXPR_UNSUPPORTED', `unsupported expression`, (e as Expr).start);
    }
  }

  private interpolated(e: Extract<Expr, { kind: 'Interpolated' }>, s: FnScope): Code {
    const parts = e.parts.map((p) => {
      if (typeof p === 'string') return p;
      const code = this.value(p.expr, s);
      const align = p.align ? this.value(p.align, s) : undefined;
      return { code, align, format: p.format };
    });
    return (f) => {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else out += formatInterpolationHole(p.code(f), p.format, p.align ? Number(p.align(f)) : undefined);
      }
      return f.rt.str(out);
    };
  }

  private readVar(depth: number, slot: number): Code {
    if (depth === 0) return (f) => f.vars[slot];
    if (depth === 1) return (f) => f.parent!.vars[slot];
    return (f) => {
      let fr = f;
      for (let i = 0; i < depth; i++) fr = fr.parent!;
      return fr.vars[slot];
    };
  }

  private writeVar(depth: number, slot: number): (f: Frame, v: unknown) => void {
    if (depth === 0) return (f, v) => void (f.vars[slot] = v);
    return (f, v) => {
      let fr = f;
      for (let i = 0; i < depth; i++) fr = fr.parent!;
      fr.vars[slot] = v;
    };
  }

  private name(e: Extract<Expr, { kind: 'Name' }>, s: FnScope): Compiled {
    const local = s.lookup(e.name);
    if (local) return this.v(this.readVar(local.depth, local.v.slot), local.v.st);
    if (e.name === 'context') return this.v((f) => f.rt.context, 'ctx:context');
    const typeName = e.typeArgs ? `${e.name}\`${e.typeArgs.length}` : e.name;
    const info = REGISTRY.get(typeName);
    if (info) {
      const args = (e.typeArgs ?? []).map((t) => this.resolveType(t));
      return { k: 'type', type: rtype(info, args), start: e.start };
    }
    return { k: 'ns', path: e.name, start: e.start };
  }

  private postfix(e: Extract<Expr, { kind: 'Member' | 'Call' | 'Index' }>, s: FnScope): Compiled {
    if (e.kind === 'Member') return this.member(e, s);
    if (e.kind === 'Call') return this.call(e, s);
    return this.index(e, s);
  }

  /** The target of a member access, call or indexer: a chain stays raw (it may yield SHORT). */
  private chainTarget(e: Expr, s: FnScope): Compiled {
    return e.kind === 'Member' || e.kind === 'Call' || e.kind === 'Index' ? this.postfix(e, s) : this.expr(e, s);
  }

  private index(e: Extract<Expr, { kind: 'Index' }>, s: FnScope): Compiled {
    const t0 = this.chainTarget(e.target, s);
    if (t0.k !== 'value') this.val(e.target, s);
    const target = (t0 as { code: Code }).code;
    const args = this.args(e.args, s);
    const at = e.start;
    const cond = e.conditional;
    const code: Code = (f) => {
      const t = target(f);
      if (t === SHORT) return SHORT;
      if (cond && (t === null || t === undefined)) return SHORT;
      f.rt.at = at;
      return getIndex(f.rt, t, args.map((a) => a(f)));
    };
    const tst = (t0 as { st: ST }).st;
    return this.v(code, tst === 'string' ? 'char' : tst === 'byte[]' ? 'byte' : undefined);
  }

  private member(e: Extract<Expr, { kind: 'Member' }>, s: FnScope): Compiled {
    const target = this.chainTarget(e.target, s);
    if (target.k === 'ns') {
      const path = `${target.path}.${e.name}`;
      const info = REGISTRY.get(e.typeArgs ? `${path}\`${e.typeArgs.length}` : path);
      if (info) return { k: 'type', type: rtype(info, (e.typeArgs ?? []).map((t) => this.resolveType(t))), start: target.start };
      return { k: 'ns', path, start: target.start };
    }
    if (target.k === 'type') {
      const info = target.type.info!;
      checkAllowedMember(info, e.name, e.nameStart);
      if (hasStaticProp(info, e.name)) {
        const at = e.start;
        const name = e.name;
        return this.v((f) => {
          f.rt.at = at;
          return getStaticProp(f.rt, info, name);
        }, staticReturn(info, e.name));
      }
      if (hasStatic(info, e.name)) {
        // a method group used as a delegate: s.Any(char.IsDigit), list.Select(int.Parse)
        const name = e.name;
        return this.v((f) => (...a: unknown[]) => callStatic(f.rt, info, name, a, undefined));
      }
      throw new CompileError('GH_EXPR_UNSUPPORTED', `'${info.fullName}' has no member '${e.name}' that Gatehouse implements`, e.nameStart);
    }
    const obj = target.code;
    const name = e.name;
    const at = e.nameStart;
    const cond = e.conditional;
    const tst = target.st;
    if (tst && tst.includes('.')) checkAllowedMember(REGISTRY.get(tst), name, at);
    const st = contextMember(tst, name, at, false) ?? MEMBER_ST[name];
    const read = memberReader(name);
    return this.v((f) => {
      const t = obj(f);
      if (t === SHORT) return SHORT;
      if (t === null || t === undefined) {
        if (cond) return SHORT;
        if (name === 'HasValue') return false;
      }
      f.rt.at = at;
      return read(f.rt, t);
    }, tst === 'ctx:context' && name === 'Variables' ? undefined : st);
  }

  private args(args: readonly Arg[], s: FnScope): Code[] {
    return args.map((a) => {
      if (a.modifier === 'out' || a.modifier === 'ref') {
        let target: { depth: number; slot: number };
        if (a.declare) {
          const v = s.declare(a.declare.name, a.declare.type ? stOf(this.resolveType(a.declare.type)) : undefined, a.value.start);
          target = { depth: 0, slot: v.slot };
        } else {
          if (a.value.kind !== 'Name') throw new CompileError('GH_EXPR_UNSUPPORTED', 'out/ref arguments must be local variables', a.value.start);
          const l = s.lookup(a.value.name);
          if (!l) throw new CompileError('GH_EXPR_UNKNOWN_NAME', `the name '${a.value.name}' does not exist in the current context`, a.value.start);
          target = { depth: l.depth, slot: l.v.slot };
        }
        const read = this.readVar(target.depth, target.slot);
        const write = this.writeVar(target.depth, target.slot);
        return (f: Frame) => new OutRef(() => read(f), (v) => write(f, v));
      }
      return this.value(a.value, s);
    });
  }

  private call(e: Extract<Expr, { kind: 'Call' }>, s: FnScope): Compiled {
    const callee = e.callee;
    const at = e.start;
    if (callee.kind === 'Name' && callee.name === '$tuple') {
      const items = this.args(e.args, s);
      return this.v((f) => construct(f.rt, REGISTRY.get('System.Tuple')!, items.map((a) => a(f)), []));
    }
    if (callee.kind === 'Name' && callee.name === 'nameof' && !s.lookup('nameof')) {
      const a = e.args[0]?.value;
      const n = a?.kind === 'Name' ? a.name : a?.kind === 'Member' ? a.name : '';
      return this.v(() => n, 'string');
    }
    if (callee.kind === 'Member') {
      const target = this.chainTarget(callee.target, s);
      const typeArgs = callee.typeArgs?.map((t) => this.resolveType(t));
      const args = this.args(e.args, s);
      const name = callee.name;
      const nameAt = callee.nameStart;
      if (target.k === 'ns') {
        const path = `${target.path}`;
        throw new CompileError(REGISTRY.isNamespace(path) ? 'GH_EXPR_TYPE_NOT_ALLOWED' : 'GH_EXPR_TYPE_NOT_ALLOWED', `the name '${path}' is not a local, not 'context', and not a type API Management allows in expressions`, target.start);
      }
      if (target.k === 'type') {
        const info = target.type.info!;
        checkAllowedMember(info, name, nameAt);
        if (!hasStatic(info, name)) {
          if (hasStaticProp(info, name)) {
            // a static property holding a delegate is not a thing in the allowed types
            throw new CompileError('GH_EXPR_SYNTAX', `'${info.fullName}.${name}' is not a method`, nameAt);
          }
          throw new CompileError('GH_EXPR_UNSUPPORTED', `'${info.fullName}' has no static method '${name}' that Gatehouse implements`, nameAt);
        }
        const n = args.length;
        const st = staticReturn(info, name);
        if (n === 1 && info.memoizable?.has(name) && !e.args[0]!.modifier) {
          // a pure function of one string (UrlDecode, FromBase64String …): large inputs are memoized per call site
          const a0 = args[0]!;
          const memo = this.memo();
          return this.v((f) => {
            const v0 = a0(f);
            f.rt.at = nameAt;
            if (!StringMemo.fits(v0)) return callStatic(f.rt, info, name, [v0], typeArgs);
            const kept = memo.find(v0);
            if (kept !== MISS) return kept;
            const r = callStatic(f.rt, info, name, [v0], typeArgs);
            memo.keep(v0, r);
            return r;
          }, st);
        }
        if (n === 1) {
          const a0 = args[0]!;
          return this.v((f) => {
            const v0 = a0(f);
            f.rt.at = nameAt;
            return callStatic(f.rt, info, name, [v0], typeArgs);
          }, st);
        }
        return this.v((f) => {
          const vals = args.map((a) => a(f));
          f.rt.at = nameAt;
          return callStatic(f.rt, info, name, vals, typeArgs);
        }, st);
      }
      const obj = target.code;
      const cond = callee.conditional;
      contextMember(target.st, name, nameAt, true);
      if (target.st && target.st.includes('.') && !target.st.startsWith('ctx:')) checkAllowedMember(REGISTRY.get(target.st), name, nameAt);
      const st = METHOD_ST[name];
      const tst = target.st;
      const stResult = name === 'ToCharArray' ? 'array' : tst === 'string' && (name === 'Split') ? 'array' : st;
      const call = methodCaller(name, typeArgs);
      if (PURE_STRING_METHODS.has(name) && !typeArgs && e.args.every((a) => !a.modifier && a.value.kind === 'Literal')) {
        // s.Replace("-----BEGIN CERTIFICATE-----", ""): with constant arguments the result depends on s
        // alone, so a large s is memoized per call site (only when s is a string: a StringBuilder changes)
        const memo = this.memo();
        const consts = args.map((a) => a(undefined as unknown as Frame));
        return this.v((f) => {
          const t = obj(f);
          if (t === SHORT) return SHORT;
          if (cond && (t === null || t === undefined)) return SHORT;
          f.rt.at = nameAt;
          if (!StringMemo.fits(t)) return call(f.rt, t, consts.slice());
          const kept = memo.find(t);
          if (kept !== MISS) return kept;
          const r = call(f.rt, t, consts.slice());
          memo.keep(t, r);
          return r;
        }, stResult);
      }
      const n = args.length;
      return this.v((f) => {
        const t = obj(f);
        if (t === SHORT) return SHORT;
        if (cond && (t === null || t === undefined)) return SHORT;
        const vals = new Array<unknown>(n);
        for (let i = 0; i < n; i++) vals[i] = args[i]!(f);
        f.rt.at = nameAt;
        return call(f.rt, t, vals);
      }, stResult);
    }
    // a delegate: local function, lambda in a variable
    const fn = this.value(callee, s);
    const args = this.args(e.args, s);
    return this.v((f) => {
      const target = fn(f);
      f.rt.at = at;
      if (target === null || target === undefined) throw ex.nullRef();
      if (typeof target !== 'function') throw new DotNetException('Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', 'Method name expected');
      return (target as (...a: unknown[]) => unknown)(...args.map((a) => a(f)));
    });
  }

  private unary(e: Extract<Expr, { kind: 'Unary' }>, s: FnScope): Compiled {
    if (e.op === '++pre' || e.op === '--pre' || e.op === '++post' || e.op === '--post') {
      const delta = e.op.startsWith('++') ? 1 : -1;
      const post = e.op.endsWith('post');
      const { get, set } = this.lvalue(e.operand, s);
      const st = this.val(e.operand, s).st;
      return this.v((f) => {
        const old = get(f);
        const nv = st === 'char' && typeof old === 'string' ? String.fromCharCode(old.charCodeAt(0) + delta) : num(old, st) + delta;
        set(f, nv);
        return post ? old : nv;
      }, st);
    }
    const o = this.val(e.operand, s);
    const code = o.code;
    const st = o.st;
    switch (e.op) {
      case '!':
        return this.v((f) => !isCsTrue(code(f)), 'bool');
      case '-':
        return this.v((f) => -num(code(f), st), st === 'char' ? 'int' : st);
      case '+':
        return this.v((f) => num(code(f), st), st === 'char' ? 'int' : st);
      case '~':
        return this.v((f) => ~num(code(f), st), st === 'char' ? 'int' : st);
    }
  }

  private binary(e: Extract<Expr, { kind: 'Binary' }>, s: FnScope): Compiled {
    const l = this.val(e.left, s);
    const r = this.val(e.right, s);
    const L = l.code;
    const R = r.code;
    const op = e.op;
    const at = e.start;
    switch (op) {
      case '&&':
        return this.v((f) => isCsTrue(L(f)) && isCsTrue(R(f)), 'bool');
      case '||':
        return this.v((f) => isCsTrue(L(f)) || isCsTrue(R(f)), 'bool');
      case '??':
        return this.v((f) => {
          const v = L(f);
          return v === null || v === undefined ? R(f) : v;
        }, l.st ?? r.st);
      case '==':
        return this.v((f) => csEquals(L(f), R(f)), 'bool');
      case '!=':
        return this.v((f) => !csEquals(L(f), R(f)), 'bool');
      default:
        break;
    }
    const fn = binaryOp(op, l.st, r.st);
    const st = resultType(op, l.st, r.st);
    return this.v((f) => {
      const a = L(f);
      const b = R(f);
      f.rt.at = at;
      return fn(a, b, f.rt);
    }, st);
  }

  private lvalue(e: Expr, s: FnScope): { get: Code; set: (f: Frame, v: unknown) => void } {
    if (e.kind === 'Name') {
      const l = s.lookup(e.name);
      if (!l) throw new CompileError('GH_EXPR_UNKNOWN_NAME', `the name '${e.name}' does not exist in the current context`, e.start);
      return { get: this.readVar(l.depth, l.v.slot), set: this.writeVar(l.depth, l.v.slot) };
    }
    if (e.kind === 'Index') {
      const target = this.value(e.target, s);
      const args = this.args(e.args, s);
      const at = e.start;
      // the target and index are evaluated once per get/set pair by caching in the frame would need slots; evaluate twice (they have no side effects in practice)
      return {
        get: (f) => {
          f.rt.at = at;
          return getIndex(f.rt, target(f), args.map((a) => a(f)));
        },
        set: (f, v) => {
          f.rt.at = at;
          setIndex(f.rt, target(f), args.map((a) => a(f)), v);
        },
      };
    }
    if (e.kind === 'Member') {
      const target = this.value(e.target, s);
      const name = e.name;
      const at = e.nameStart;
      return {
        get: (f) => {
          f.rt.at = at;
          return getMember(f.rt, target(f), name);
        },
        set: (f, v) => {
          f.rt.at = at;
          setMember(f.rt, target(f), name, v);
        },
      };
    }
    throw new CompileError('GH_EXPR_SYNTAX', 'the left-hand side of an assignment must be a variable, property or indexer', e.start);
  }

  private assign(e: Extract<Expr, { kind: 'Assign' }>, s: FnScope): Code {
    const { get, set } = this.lvalue(e.target, s);
    const vv = this.val(e.value, s);
    const value = vv.code;
    if (e.op === '=') {
      return (f) => {
        const v = value(f);
        set(f, v);
        return v;
      };
    }
    if (e.op === '??=') {
      return (f) => {
        const cur = get(f);
        if (cur !== null && cur !== undefined) return cur;
        const v = value(f);
        set(f, v);
        return v;
      };
    }
    const op = e.op.slice(0, -1);
    const tst = this.val(e.target, s).st;
    const fn = binaryOp(op, tst, vv.st);
    return (f) => {
      let v = fn(get(f), value(f), f.rt);
      if (tst === 'char' && typeof v === 'number') v = String.fromCharCode(v);
      set(f, v);
      return v;
    };
  }

  private lambda(params: readonly Param[], body: Expr | Block, s: FnScope, counted = false): Code {
    const inner = new FnScope(s);
    const slots = params.map((p) => inner.declare(p.name, p.type ? stOf(this.resolveType(p.type)) : undefined, p.start).slot);
    const n = slots.length;
    if (body.kind === 'Block') {
      const code = this.blockBody(body, inner, false);
      return (f) => withArity(n, (...a: unknown[]) => {
        const rt = f.rt;
        const nf: Frame = { vars: new Array(inner.count), parent: f, rt, ret: undefined };
        for (let i = 0; i < n; i++) nf.vars[i] = a[i];
        rt.step();
        rt.enter();
        try {
          code(nf);
        } finally {
          rt.leave();
        }
        return nf.ret;
      });
    }
    const code = this.value(body, inner);
    if (n === 1 && !counted) {
      return (f) => (a0: unknown) => {
        // every lambda call counts as a step: LINQ over large sequences is bounded like a loop
        f.rt.step();
        const nf: Frame = { vars: new Array(inner.count), parent: f, rt: f.rt, ret: undefined };
        nf.vars[0] = a0;
        return code(nf);
      };
    }
    return (f) =>
      withArity(n, (...a: unknown[]) => {
        const nf: Frame = { vars: new Array(inner.count), parent: f, rt: f.rt, ret: undefined };
        for (let i = 0; i < n; i++) nf.vars[i] = a[i];
        f.rt.step();
        f.rt.enter();
        try {
          return code(nf);
        } finally {
          f.rt.leave();
        }
      });
  }

  private newObject(e: Extract<Expr, { kind: 'New' }>, s: FnScope): Compiled {
    const type = this.resolveType(e.type);
    const info = type.info!;
    if (!info.construct) throw new CompileError('GH_EXPR_UNSUPPORTED', `Gatehouse cannot create '${info.fullName}' with new`, e.type.start);
    const args = this.args(e.args ?? [], s);
    const init = e.init ? this.initializer(e.init, s) : undefined;
    const at = e.start;
    return this.v((f) => {
      const vals = args.map((a) => a(f));
      f.rt.at = at;
      const obj = construct(f.rt, info, vals, type.args);
      if (init) init(f, obj);
      return obj;
    }, stOf(type));
  }

  private initializer(init: Initializer, s: FnScope): (f: Frame, obj: unknown) => void {
    if (init.kind === 'Object') {
      const members = init.members.map((m) => ({
        name: m.name,
        start: m.start,
        value: 'kind' in m.value && (m.value.kind === 'Object' || m.value.kind === 'Collection' || m.value.kind === 'Index') && !('start' in m.value) ? undefined : this.value(m.value as Expr, s),
        nested: 'kind' in m.value && !('start' in m.value) ? this.initializer(m.value as Initializer, s) : undefined,
      }));
      return (f, obj) => {
        for (const m of members) {
          f.rt.at = m.start;
          if (m.nested) m.nested(f, getMember(f.rt, obj, m.name));
          else setMember(f.rt, obj, m.name, m.value!(f));
        }
      };
    }
    if (init.kind === 'Index') {
      const items = init.items.map((i) => ({ index: i.index.map((x) => this.value(x, s)), value: this.value(i.value, s) }));
      return (f, obj) => {
        for (const i of items) setIndex(f.rt, obj, i.index.map((x) => x(f)), i.value(f));
      };
    }
    const items = init.items.map((i) => (Array.isArray(i) ? i.map((x) => this.value(x, s)) : [this.value(i, s)]));
    return (f, obj) => {
      for (const i of items) callMember(f.rt, obj, 'Add', i.map((x) => x(f)), undefined);
    };
  }

  private newArray(e: Extract<Expr, { kind: 'NewArray' }>, s: FnScope): Compiled {
    const elem = e.type ? this.resolveType(e.type) : undefined;
    const isBytes = elem !== undefined && elem.ranks.length === 0 && elem.name === 'System.Byte';
    const dflt = elem && elem.ranks.length === 0 && !elem.nullable ? elem.info?.defaultValue ?? null : null;
    const elemName = elem ? (elem.ranks.length ? 'System.Object' : elem.name) : undefined;
    if (e.items) {
      const items = e.items.map((x) => this.value(x, s));
      return this.v((f) => {
        const vals = items.map((x) => x(f));
        if (isBytes) return Buffer.from(vals.map((v) => Number(v) & 0xff));
        return tagArray(vals, elemName ?? inferElem(vals));
      }, isBytes ? 'byte[]' : 'array');
    }
    if (e.sizes.length !== 1) throw new CompileError('GH_EXPR_UNSUPPORTED', 'multi-dimensional arrays are not supported', e.start);
    const size = this.value(e.sizes[0]!, s);
    return this.v((f) => {
      const n = Number(size(f));
      if (!Number.isInteger(n) || n < 0) throw new DotNetException('System.OverflowException', 'Arithmetic operation resulted in an overflow.');
      f.rt.size(n);
      if (isBytes) return Buffer.alloc(n);
      return tagArray(new Array(n).fill(dflt), elemName!);
    }, isBytes ? 'byte[]' : 'array');
  }

  // ───── statements ─────
  alwaysReturns(st: Stmt): boolean {
    switch (st.kind) {
      case 'Return':
      case 'Throw':
        return true;
      case 'Block':
        return st.body.some((x) => this.alwaysReturns(x));
      case 'If':
        return st.else !== undefined && this.alwaysReturns(st.then) && this.alwaysReturns(st.else);
      case 'Try':
        return (this.alwaysReturns(st.body) && st.catches.every((c) => this.alwaysReturns(c.body))) || (st.finally !== undefined && this.alwaysReturns(st.finally));
      case 'Switch':
        return st.sections.some((x) => x.labels.includes('default')) && st.sections.every((x) => x.body.some((b) => this.alwaysReturns(b)));
      case 'Using':
        return st.body !== undefined && this.alwaysReturns(st.body);
      case 'While':
        return st.test.kind === 'Literal' && st.test.value === true;
      case 'For':
        return st.test === undefined;
      default:
        return false;
    }
  }

  blockBody(b: Block, s: FnScope, top: boolean): SCode {
    void top;
    return this.statements(b.body, s);
  }

  private statements(list: readonly Stmt[], s: FnScope): SCode {
    s.blocks.push(new Map());
    // local functions are visible in the whole block
    const fnInits: ((f: Frame) => void)[] = [];
    const fnDecls: { st: Extract<Stmt, { kind: 'LocalFunction' }>; slot: number }[] = [];
    for (const st of list) if (st.kind === 'LocalFunction') fnDecls.push({ st, slot: s.declare(st.name, undefined, st.start).slot });
    const codes = list.filter((x) => x.kind !== 'LocalFunction').map((x) => this.statement(x, s));
    // local functions see every local of the block (compiled after the statements declared them)
    for (const { st, slot } of fnDecls) {
      const make = this.lambda(st.params, st.body, s, true);
      fnInits.push((f) => {
        f.vars[slot] = make(f);
      });
    }
    s.blocks.pop();
    const n = codes.length;
    if (fnInits.length === 0) {
      return (f) => {
        for (let i = 0; i < n; i++) {
          const r = codes[i]!(f);
          if (r !== 0) return r;
        }
        return 0;
      };
    }
    return (f) => {
      for (const i of fnInits) i(f);
      for (let i = 0; i < n; i++) {
        const r = codes[i]!(f);
        if (r !== 0) return r;
      }
      return 0;
    };
  }

  private statement(st: Stmt, s: FnScope): SCode {
    const at = st.start;
    switch (st.kind) {
      case 'Block':
        return this.statements(st.body, s);
      case 'Empty':
        return () => 0;
      case 'ExprStmt': {
        const code = this.value(st.expr, s);
        return (f) => {
          f.rt.step();
          code(f);
          return 0;
        };
      }
      case 'VarDecl': {
        const declared = st.type ? this.resolveType(st.type) : undefined;
        const parts = st.vars.map((v) => {
          const init = v.init ? this.val(v.init, s) : undefined;
          if (!declared && !init) throw new CompileError('GH_EXPR_SYNTAX', 'implicitly-typed variables must be initialized', v.start);
          const info = s.declare(v.name, declared ? stOf(declared) : init?.st, v.start);
          const slot = info.slot;
          const conv = declared ? implicitConversion(declared, init?.st) : undefined;
          const code = init?.code;
          const dflt = declared && declared.ranks.length === 0 && !declared.nullable ? declared.info?.defaultValue ?? null : null;
          return (f: Frame) => {
            if (!code) {
              f.vars[slot] = dflt;
              return;
            }
            const val = code(f);
            f.vars[slot] = conv ? conv(val) : val;
          };
        });
        if (parts.length === 1) {
          const only = parts[0]!;
          return (f) => {
            f.rt.step();
            only(f);
            return 0;
          };
        }
        return (f) => {
          f.rt.step();
          for (const p of parts) p(f);
          return 0;
        };
      }
      case 'If': {
        const test = this.value(st.test, s);
        const then = this.scoped(st.then, s);
        const els = st.else ? this.scoped(st.else, s) : undefined;
        return (f) => {
          f.rt.step();
          if (isCsTrue(test(f))) return then(f);
          return els ? els(f) : 0;
        };
      }
      case 'Return': {
        const value = st.value ? this.value(st.value, s) : undefined;
        return (f) => {
          f.ret = value ? value(f) : undefined;
          return 3;
        };
      }
      case 'While': {
        const test = this.value(st.test, s);
        const body = this.scoped(st.body, s);
        return (f) => {
          while (isCsTrue(test(f))) {
            f.rt.step();
            const r = body(f);
            if (r === 1) break;
            if (r === 3) return 3;
          }
          return 0;
        };
      }
      case 'DoWhile': {
        const test = this.value(st.test, s);
        const body = this.scoped(st.body, s);
        return (f) => {
          do {
            f.rt.step();
            const r = body(f);
            if (r === 1) break;
            if (r === 3) return 3;
          } while (isCsTrue(test(f)));
          return 0;
        };
      }
      case 'For': {
        s.blocks.push(new Map());
        const init = st.init.map((x) => this.statement(x, s));
        const test = st.test ? this.value(st.test, s) : undefined;
        const update = st.update.map((x) => this.value(x, s));
        const body = this.scoped(st.body, s);
        s.blocks.pop();
        return (f) => {
          for (const i of init) i(f);
          while (!test || isCsTrue(test(f))) {
            f.rt.step();
            const r = body(f);
            if (r === 1) break;
            if (r === 3) return 3;
            for (const u of update) u(f);
          }
          return 0;
        };
      }
      case 'Foreach': {
        const iterable = this.value(st.iterable, s);
        s.blocks.push(new Map());
        const declared = st.type ? this.resolveType(st.type) : undefined;
        const slot = s.declare(st.name, declared ? stOf(declared) : undefined, st.start).slot;
        const body = this.scoped(st.body, s);
        s.blocks.pop();
        return (f) => {
          const src = iterable(f);
          f.rt.at = at;
          for (const item of iterate(src)) {
            f.rt.step();
            f.vars[slot] = declared ? castTo(item, declared) : item;
            const r = body(f);
            if (r === 1) break;
            if (r === 3) return 3;
          }
          return 0;
        };
      }
      case 'Break':
        return () => 1;
      case 'Continue':
        return () => 2;
      case 'Throw': {
        const value = st.value ? this.value(st.value, s) : undefined;
        return (f) => {
          f.rt.at = at;
          if (!value) {
            const cur = (f as Frame & { $caught?: unknown }).$caught;
            if (cur) throw cur;
            throw ex.invalidOp('throw without an exception outside a catch clause');
          }
          throw toThrowable(value(f));
        };
      }
      case 'Try': {
        const body = this.statements(st.body.body, s);
        const catches = st.catches.map((c) => {
          s.blocks.push(new Map());
          const type = c.type ? this.resolveType(c.type) : undefined;
          const slot = c.name ? s.declare(c.name, undefined, st.start).slot : -1;
          const filter = c.filter ? this.value(c.filter, s) : undefined;
          const code = this.statements(c.body.body, s);
          s.blocks.pop();
          return { type, slot, filter, code };
        });
        const fin = st.finally ? this.statements(st.finally.body, s) : undefined;
        return (f) => {
          try {
            return body(f);
          } catch (err) {
            if (err instanceof LimitExceeded || !(err instanceof DotNetException)) throw err;
            const exObj = wrapException(err);
            for (const c of catches) {
              if (c.type && !exceptionMatches(err, c.type)) continue;
              if (c.slot >= 0) f.vars[c.slot] = exObj;
              if (c.filter && !isCsTrue(c.filter(f))) continue;
              const prev = (f as Frame & { $caught?: unknown }).$caught;
              (f as Frame & { $caught?: unknown }).$caught = err;
              try {
                return c.code(f);
              } finally {
                (f as Frame & { $caught?: unknown }).$caught = prev;
              }
            }
            throw err;
          } finally {
            if (fin) {
              const r = fin(f);
              if (r !== 0) return r; // eslint-disable-line no-unsafe-finally
            }
          }
        };
      }
      case 'Switch': {
        const value = this.value(st.value, s);
        s.blocks.push(new Map());
        const sections = st.sections.map((sec) => ({
          labels: sec.labels.map((l) => (l === 'default' ? 'default' : this.value(l, s))),
          body: this.statements(sec.body, s),
        }));
        s.blocks.pop();
        return (f) => {
          f.rt.step();
          const v = value(f);
          let chosen = sections.findIndex((sec) => sec.labels.some((l) => l !== 'default' && csEquals(v, l(f))));
          if (chosen < 0) chosen = sections.findIndex((sec) => sec.labels.includes('default'));
          if (chosen < 0) return 0;
          const r = sections[chosen]!.body(f);
          return r === 1 ? 0 : r;
        };
      }
      case 'Using': {
        const decl = st.decl ? this.statement(st.decl, s) : undefined;
        const body = st.body ? this.scoped(st.body, s) : undefined;
        return (f) => {
          if (decl) decl(f);
          return body ? body(f) : 0;
        };
      }
      case 'LocalFunction':
        throw new CompileError('GH_EXPR_SYNTAX', 'a local function must be declared directly in a block', st.start);
      default:
        throw new CompileError('GH_EXPR_UNSUPPORTED', 'unsupported statement', (st as Stmt).start);
    }
  }

  private scoped(st: Stmt, s: FnScope): SCode {
    if (st.kind === 'Block') return this.statements(st.body, s);
    s.blocks.push(new Map());
    const c = this.statement(st, s);
    s.blocks.pop();
    return c;
  }
}

/** What a null-conditional access yields inside its chain; the outermost access makes it null. */
const SHORT = Symbol('null-conditional short-circuit');

function chainHasConditional(e: Expr): boolean {
  for (;;) {
    if (e.kind === 'Member' || e.kind === 'Index') {
      if (e.conditional) return true;
      e = e.target;
    } else if (e.kind === 'Call' && e.callee.kind === 'Member') e = e.callee;
    else return false;
  }
}

/** Delegates report their parameter count (LINQ passes an index only to two-parameter lambdas). */
function withArity<T extends (...a: unknown[]) => unknown>(n: number, fn: T): T {
  if (fn.length !== n) Object.defineProperty(fn, 'length', { value: n });
  return fn;
}

function tagArray(vals: unknown[], elemType: string): unknown[] {
  Object.defineProperty(vals, '$type', { value: `${elemType}[]`, enumerable: false });
  return vals;
}

function inferElem(vals: unknown[]): string {
  if (vals.length > 0 && vals.every((v) => typeof v === 'string')) return 'System.String';
  if (vals.length > 0 && vals.every((v) => typeof v === 'number' && Number.isInteger(v))) return 'System.Int32';
  return 'System.Object';
}

/** Implicit conversions on declaration: int → double keeps the number; char → int; int → char is an error in C#. */
function implicitConversion(t: RType, from: ST): ((v: unknown) => unknown) | undefined {
  const p = PRIM_OF[t.name];
  if (t.ranks.length === 0 && p && INTEGRAL.has(p) && p !== 'char' && from === 'char') return (v) => (typeof v === 'string' ? v.charCodeAt(0) : v);
  if (t.ranks.length === 0 && t.info?.fullName.startsWith('Newtonsoft.Json.Linq.J') && (from === 'string' || from === 'int' || from === 'bool' || from === 'double' || from === 'long')) {
    return (v) => castTo(v, t);
  }
  // XName and XNamespace have implicit conversions from string
  if (t.ranks.length === 0 && (t.name === 'System.Xml.Linq.XName' || t.name === 'System.Xml.Linq.XNamespace')) return (v) => (typeof v === 'string' ? castTo(v, t) : v);
  return undefined;
}

function resultType(op: string, a: ST, b: ST): ST {
  if (['<', '>', '<=', '>='].includes(op)) return 'bool';
  if (op === '+' && (a === 'string' || b === 'string')) return 'string';
  if (op === '<<' || op === '>>') return a === 'char' ? 'int' : a;
  if ((op === '&' || op === '|' || op === '^') && a === 'bool') return 'bool';
  return promote(a, b);
}

function isIntegralValue(v: unknown, st: ST): boolean {
  if (st !== undefined) return INTEGRAL.has(st);
  return typeof v === 'number' && Number.isInteger(v);
}

function addValues(a: unknown, b: unknown, sa: ST, sb: ST, rt: Runtime): unknown {
  // XNamespace + string → XName (an operator of the type, not string concatenation)
  if (a instanceof CsObject && (a as { $addsStrings?: boolean }).$addsStrings) return (a as unknown as { $add: (x: unknown) => unknown }).$add(b);
  const aStr = sa === 'string' || (typeof a === 'string' && sa !== 'char') || (a !== null && typeof a === 'object' && sb === 'string');
  const bStr = sb === 'string' || (typeof b === 'string' && sb !== 'char') || (b !== null && typeof b === 'object' && sa === 'string');
  if (aStr || bStr || ((a === null || a === undefined) && (b === null || b === undefined))) {
    if (sa === undefined && sb === undefined && a === null && b === null) return '';
    return rt.str(csToString(a) + csToString(b));
  }
  if (a === null || a === undefined || b === null || b === undefined) {
    // null + number: lifted operator gives null
    return null;
  }
  if (typeof a === 'object' && typeof (a as { $add?: unknown }).$add === 'function') return (a as { $add: (x: unknown) => unknown }).$add(b);
  const r = num(a, sa) + num(b, sb);
  return wrapInt(r, sa, sb);
}

function wrapInt(r: number, sa: ST, sb: ST): number {
  const t = promote(sa, sb);
  if (t === 'int') return r | 0;
  // decimal is a double here: keep 15 significant digits so that 0.1m + 0.2m is 0.3 as in .NET
  if (t === 'decimal') return Number(r.toPrecision(15));
  return r;
}

function binaryOp(op: string, sa: ST, sb: ST): (a: unknown, b: unknown, rt: Runtime) => unknown {
  switch (op) {
    case '+':
      return (a, b, rt) => addValues(a, b, sa, sb, rt);
    case '-':
      return (a, b) => {
        if (a === null || a === undefined || b === null || b === undefined) return null;
        if (typeof a === 'object' && typeof (a as { $sub?: unknown }).$sub === 'function') return (a as { $sub: (x: unknown) => unknown }).$sub(b);
        return wrapInt(num(a, sa) - num(b, sb), sa, sb);
      };
    case '*':
      return (a, b) => {
        if (a === null || a === undefined || b === null || b === undefined) return null;
        const t = promote(sa, sb);
        if (t === 'int') return Math.imul(num(a, sa), num(b, sb));
        if (t === 'decimal') return Number((num(a, sa) * num(b, sb)).toPrecision(15));
        return num(a, sa) * num(b, sb);
      };
    case '/':
      return (a, b) => {
        if (a === null || a === undefined || b === null || b === undefined) return null;
        const x = num(a, sa);
        const y = num(b, sb);
        const floating = (sa !== undefined && FLOATING.has(sa)) || (sb !== undefined && FLOATING.has(sb));
        if (!floating && isIntegralValue(a, sa) && isIntegralValue(b, sb)) {
          if (y === 0) throw ex.divZero();
          return Math.trunc(x / y);
        }
        return x / y;
      };
    case '%':
      return (a, b) => {
        if (a === null || a === undefined || b === null || b === undefined) return null;
        const x = num(a, sa);
        const y = num(b, sb);
        const floating = (sa !== undefined && FLOATING.has(sa)) || (sb !== undefined && FLOATING.has(sb));
        if (!floating && isIntegralValue(a, sa) && isIntegralValue(b, sb) && y === 0) throw ex.divZero();
        return x % y;
      };
    case '<':
    case '>':
    case '<=':
    case '>=':
      return (a, b) => {
        if (a === null || a === undefined || b === null || b === undefined) return false;
        let c: number;
        if (a instanceof CsObject && typeof (a as unknown as { CompareTo?: unknown }).CompareTo === 'function') c = (a as unknown as { CompareTo: (x: unknown) => number }).CompareTo(b);
        else c = num(a, sa) - num(b, sb);
        return op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0;
      };
    case '&':
    case '|':
    case '^':
      return (a, b) => {
        if (typeof a === 'boolean' && typeof b === 'boolean') return op === '&' ? a && b : op === '|' ? a || b : a !== b;
        if (a instanceof EnumValue && b instanceof EnumValue) {
          const v = op === '&' ? a.value & b.value : op === '|' ? a.value | b.value : a.value ^ b.value;
          return new EnumValue(a.enumType, [a.name, b.name].join(', '), v);
        }
        const x = num(a, sa);
        const y = num(b, sb);
        const big = Math.abs(x) > 0x7fffffff || Math.abs(y) > 0x7fffffff;
        if (big) {
          const bx = BigInt.asIntN(64, BigInt(Math.trunc(x)));
          const by = BigInt.asIntN(64, BigInt(Math.trunc(y)));
          return Number(BigInt.asIntN(64, op === '&' ? bx & by : op === '|' ? bx | by : bx ^ by));
        }
        return op === '&' ? x & y : op === '|' ? x | y : x ^ y;
      };
    case '<<':
    case '>>':
      return (a, b) => {
        const x = num(a, sa);
        const n = num(b, sb);
        const wide = sa === 'long' || sa === 'ulong' || Math.abs(x) > 0x7fffffff;
        if (wide) {
          const bx = BigInt.asIntN(64, BigInt(Math.trunc(x)));
          const sh = BigInt(n & 63);
          return Number(BigInt.asIntN(64, op === '<<' ? bx << sh : bx >> sh));
        }
        return op === '<<' ? x << (n & 31) : x >> (n & 31);
      };
    default:
      throw new CompileError('GH_EXPR_UNSUPPORTED', `operator '${op}' is not supported`, 0);
  }
}

function toThrowable(v: unknown): DotNetException {
  if (v === null || v === undefined) return ex.nullRef();
  if (v instanceof CsObject && typeof (v as unknown as { $toError?: unknown }).$toError === 'function') return (v as unknown as { $toError: () => DotNetException }).$toError();
  return new DotNetException('System.InvalidCastException', 'The type caught or thrown must be derived from System.Exception');
}

function wrapException(err: DotNetException): unknown {
  const info = REGISTRY.get('System.Exception') as TypeInfo & { wrap?: (e: DotNetException) => unknown };
  return info.wrap ? info.wrap(err) : err;
}

function exceptionMatches(err: DotNetException, t: RType): boolean {
  const n = t.name;
  if (n === 'System.Exception') return true;
  if (n === err.typeName) return true;
  if (n === 'System.SystemException') return err.typeName.startsWith('System.');
  if (n === 'System.ArgumentException') return err.typeName === 'System.ArgumentNullException' || err.typeName === 'System.ArgumentOutOfRangeException';
  if (n === 'System.FormatException') return err.typeName === 'System.UriFormatException';
  if (n === 'Newtonsoft.Json.JsonException') return err.typeName.startsWith('Newtonsoft.Json.');
  return false;
}
