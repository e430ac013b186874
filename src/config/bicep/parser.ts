/**
 * The Bicep parser (grammar after Azure/bicep docs/grammar.md and src/Bicep.Core/Parsing): a
 * recursive-descent parser over the lexer's tokens that reports every error it finds. A broken
 * statement is reported and skipped to the next line that starts a statement, so one typo does not
 * hide the errors after it.
 */
import type { ArrayItem, Decorator, Expr, ImportDecl, ObjectItem, Program, ResourceDecl, Span, Statement, TypeExpr } from './ast.js';
import { lex, type LexError, type Token } from './lexer.js';

export interface ParseError {
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

class ParseFail extends Error {}

const BINARY_PRECEDENCE: Record<string, number> = {
  '??': 30,
  '||': 40,
  '&&': 50,
  '==': 70,
  '!=': 70,
  '=~': 70,
  '!~': 70,
  '<': 80,
  '<=': 80,
  '>': 80,
  '>=': 80,
  '+': 90,
  '-': 90,
  '*': 100,
  '/': 100,
  '%': 100,
};

const MAX_DEPTH = 200;

export function parseBicep(text: string): { program: Program; errors: ParseError[] } {
  const lexErrors: LexError[] = [];
  const tokens = lex(text, lexErrors);
  const errors: ParseError[] = [...lexErrors];
  const p = new Parser(tokens, text, errors);
  const program = p.program();
  return { program, errors };
}

class Parser {
  i = 0;
  depth = 0;
  /** Inside ( … ) a new line may follow an operator. */
  parenDepth = 0;
  constructor(readonly toks: Token[], readonly text: string, readonly errors: ParseError[]) {}

  // ---- token helpers --------------------------------------------------------------------------
  peek(k = 0): Token {
    const t = this.toks[this.i + k];
    if (t) return t;
    const last = this.toks[this.toks.length - 1];
    const at = last ? last.end : 0;
    return { kind: 'eof', text: '', start: at, end: at };
  }
  next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length) this.i++;
    return t;
  }
  is(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text === text;
  }
  isIdent(text?: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'ident' && (text === undefined || t.text === text);
  }
  fail(message: string, t: Token = this.peek()): never {
    this.errors.push({ message, start: t.start, end: Math.max(t.end, t.start + 1) });
    throw new ParseFail(message);
  }
  expect(text: string, what = `'${text}'`): Token {
    if (!this.is(text)) this.fail(`expected ${what} but found ${this.describe(this.peek())}`);
    return this.next();
  }
  expectIdent(what = 'an identifier'): Token {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(`expected ${what} but found ${this.describe(t)}`);
    if (t.text.length > 255) this.fail('identifiers are at most 255 characters long', t);
    return this.next();
  }
  describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'the end of the file';
      case 'newline':
        return 'a new line';
      case 'string':
        return 'a string';
      case 'int':
        return `'${t.text}'`;
      default:
        return `'${t.text}'`;
    }
  }
  skipNewlines(): void {
    while (this.peek().kind === 'newline') this.i++;
  }
  span(start: number): Span {
    const prev = this.toks[this.i - 1];
    return { start, end: prev ? Math.max(prev.end, start) : start };
  }
  guard<T>(f: () => T): T {
    if (++this.depth > MAX_DEPTH) {
      this.depth = 0;
      this.fail('the expression is nested too deeply');
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  // ---- statements ------------------------------------------------------------------------------
  program(): Program {
    const statements: Statement[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek().kind === 'eof') break;
      const before = this.i;
      try {
        statements.push(this.statement());
        const t = this.peek();
        if (t.kind !== 'newline' && t.kind !== 'eof') this.fail(`expected a new line after the declaration but found ${this.describe(t)}`);
      } catch (e) {
        if (!(e instanceof ParseFail)) throw e;
        this.recover();
        if (this.i === before) this.next();
      }
    }
    return { statements };
  }

  /** Skips to the next line that starts at column 1 with something other than a closing bracket. */
  recover(): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      this.next();
      if (t.kind !== 'newline') continue;
      const n = this.peek();
      if (n.kind === 'eof') return;
      const prevChar = this.text.charCodeAt(n.start - 1);
      const atLineStart = n.start === 0 || prevChar === 10 || prevChar === 13;
      if (atLineStart && !(n.kind === 'punct' && (n.text === '}' || n.text === ']' || n.text === ')'))) return;
    }
  }

  decorators(): Decorator[] {
    const out: Decorator[] = [];
    while (this.is('@')) {
      const at = this.next();
      const call = this.postfix(this.primary());
      let name = '';
      if (call.kind === 'call') name = call.name;
      else if (call.kind === 'method') name = call.name;
      else this.fail('a decorator must be a function call', at);
      out.push({ call, name, start: at.start, end: call.end });
      this.skipNewlines();
    }
    return out;
  }

  statement(): Statement {
    const decorators = this.decorators();
    const kw = this.peek();
    const start = decorators[0]?.start ?? kw.start;
    if (kw.kind !== 'ident') this.fail(`expected a declaration (param, var, resource, module, output, type, func, import …) but found ${this.describe(kw)}`);
    switch (kw.text) {
      case 'param': {
        this.next();
        const name = this.expectIdent('a parameter name');
        let type: TypeExpr | undefined;
        let value: Expr | undefined;
        if (!this.is('=')) type = this.typeOrResource();
        if (this.is('=')) {
          this.next();
          value = this.expr();
        }
        return { kind: 'param', decorators, name: name.text, nameSpan: name, type, value, ...this.span(start) };
      }
      case 'var': {
        this.next();
        const name = this.expectIdent('a variable name');
        if (!this.is('=')) this.type();
        this.expect('=');
        const value = this.expr();
        return { kind: 'var', decorators, name: name.text, nameSpan: name, value, ...this.span(start) };
      }
      case 'output': {
        this.next();
        const name = this.expectIdent('an output name');
        const type = this.typeOrResource();
        this.expect('=');
        const value = this.expr();
        return { kind: 'output', decorators, name: name.text, nameSpan: name, type, value, ...this.span(start) };
      }
      case 'resource':
        return this.resource(decorators, start);
      case 'module': {
        this.next();
        const name = this.expectIdent('a module name');
        const path = this.plainString('the module path');
        this.expect('=');
        const value = this.declBody();
        return { kind: 'module', decorators, name: name.text, nameSpan: name, path: path.value, pathSpan: path.span, value, ...this.span(start) };
      }
      case 'type': {
        this.next();
        const name = this.expectIdent('a type name');
        this.expect('=');
        const type = this.type();
        return { kind: 'type', decorators, name: name.text, nameSpan: name, type, ...this.span(start) };
      }
      case 'func': {
        this.next();
        const name = this.expectIdent('a function name');
        this.expect('(');
        const params: { name: string; type: TypeExpr }[] = [];
        this.skipNewlines();
        while (!this.is(')')) {
          const pn = this.expectIdent('a parameter name');
          params.push({ name: pn.text, type: this.type() });
          this.skipNewlines();
          if (this.is(',')) {
            this.next();
            this.skipNewlines();
          } else if (!this.is(')')) this.fail(`expected ',' or ')' but found ${this.describe(this.peek())}`);
        }
        this.next();
        this.type();
        this.expect('=>');
        this.skipNewlines();
        const body = this.expr();
        return { kind: 'func', decorators, name: name.text, nameSpan: name, params, body, ...this.span(start) };
      }
      case 'import':
        return this.importDecl(decorators, start);
      case 'targetScope': {
        this.next();
        this.expect('=');
        const value = this.expr();
        return { kind: 'targetScope', decorators, value, ...this.span(start) };
      }
      case 'metadata': {
        this.next();
        const name = this.expectIdent('a metadata name');
        this.expect('=');
        const value = this.expr();
        return { kind: 'metadata', decorators, name: name.text, value, ...this.span(start) };
      }
      case 'using':
      case 'extends': {
        this.next();
        if (kw.text === 'using' && this.isIdent('none')) {
          this.next();
          return { kind: 'using', decorators, ...this.span(start) };
        }
        const path = this.plainString('a file path');
        let value: Expr | undefined;
        if (this.isIdent('with')) {
          this.next();
          value = this.expr();
        }
        return { kind: kw.text, decorators, path: path.value, pathSpan: path.span, value, ...this.span(start) };
      }
      case 'assert': {
        this.next();
        const name = this.expectIdent('an assertion name');
        this.expect('=');
        const value = this.expr();
        return { kind: 'assert', decorators, name: name.text, value, ...this.span(start) };
      }
      case 'extensionConfig':
      case 'extension':
      case 'test': {
        this.next();
        // not evaluated locally: keep the span, skip the rest of the declaration
        let depth = 0;
        for (;;) {
          const t = this.peek();
          if (t.kind === 'eof' || (t.kind === 'newline' && depth === 0)) break;
          if (t.kind === 'punct' && (t.text === '{' || t.text === '[' || t.text === '(')) depth++;
          if (t.kind === 'punct' && (t.text === '}' || t.text === ']' || t.text === ')')) depth--;
          this.next();
        }
        return { kind: kw.text === 'test' ? 'test' : 'extension', decorators, ...this.span(start) };
      }
      default:
        this.fail(`expected a declaration (param, var, resource, module, output, type, func, import …) but found '${kw.text}'`);
    }
  }

  resource(decorators: Decorator[], start: number): ResourceDecl {
    this.next();
    const name = this.expectIdent('a resource name');
    const type = this.plainString("the resource type ('Namespace/type@version')");
    let existing = false;
    if (this.isIdent('existing')) {
      this.next();
      existing = true;
    }
    this.expect('=');
    const value = this.declBody();
    return { kind: 'resource', decorators, name: name.text, nameSpan: name, typeString: type.value, typeSpan: type.span, existing, value, ...this.span(start) };
  }

  importDecl(decorators: Decorator[], start: number): ImportDecl {
    this.next();
    let items: ImportDecl['items'];
    let wildcardAlias: string | undefined;
    if (this.is('{')) {
      this.next();
      items = [];
      this.skipNewlines();
      while (!this.is('}')) {
        const t = this.peek();
        let name: string;
        if (t.kind === 'string') name = this.plainString('a name').value;
        else name = this.expectIdent('an imported name').text;
        let alias = name;
        if (this.isIdent('as')) {
          this.next();
          alias = this.expectIdent('an alias').text;
        } else if (t.kind === 'string') this.fail("a quoted import name needs 'as alias'");
        items.push({ name, alias, span: this.span(t.start) });
        if (this.is(',')) this.next();
        this.skipNewlines();
        if (this.peek().kind === 'eof') this.fail("expected '}'");
      }
      this.next();
    } else if (this.is('*')) {
      this.next();
      if (!this.isIdent('as')) this.fail("expected 'as' after 'import *'");
      this.next();
      wildcardAlias = this.expectIdent('a namespace alias').text;
    } else if (this.peek().kind === 'string') {
      // legacy provider import: import 'az@1.0.0' [as x]
      const p = this.plainString('a provider');
      while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof') this.next();
      return { kind: 'import', decorators, items: [], wildcardAlias: undefined, path: p.value, pathSpan: p.span, ...this.span(start) };
    } else this.fail("expected '{' or '*' after 'import'");
    if (!this.isIdent('from')) this.fail("expected 'from' and a file path");
    this.next();
    const path = this.plainString('a file path');
    return { kind: 'import', decorators, items, wildcardAlias, path: path.value, pathSpan: path.span, ...this.span(start) };
  }

  plainString(what: string): { value: string; span: Span } {
    const t = this.peek();
    if (t.kind !== 'string') this.fail(`expected ${what} as a string but found ${this.describe(t)}`);
    this.next();
    if (t.holes && t.holes.length > 0) this.fail(`${what} cannot use string interpolation`, t);
    return { value: t.pieces?.[0] ?? '', span: { start: t.start, end: t.end } };
  }

  /** object | if (cond) object | [for …] */
  declBody(): Expr {
    this.skipNewlines();
    if (this.isIdent('if') && this.is('(', 1)) return this.ifBody();
    return this.expr();
  }

  ifBody(): Expr {
    const start = this.next().start;
    this.expect('(');
    this.skipNewlines();
    const cond = this.expr();
    this.skipNewlines();
    this.expect(')');
    const body = this.primary();
    return { kind: 'if', cond, body, ...this.span(start) };
  }

  // ---- types -------------------------------------------------------------------------------------
  typeOrResource(): TypeExpr {
    if (this.isIdent('resource') && this.peek(1).kind === 'string') {
      const start = this.next().start;
      const t = this.plainString('a resource type');
      return { nullable: false, resourceType: t.value, ...this.span(start) };
    }
    return this.type();
  }

  type(): TypeExpr {
    return this.guard(() => {
      const start = this.peek().start;
      const first = this.postfixType();
      const members = [first];
      while (this.is('|') || (this.peek().kind === 'newline' && this.is('|', 1))) {
        this.skipNewlines();
        this.next();
        this.skipNewlines();
        members.push(this.postfixType());
      }
      if (members.length === 1) return first;
      const literals = members.flatMap((m) => m.literals ?? []);
      const nullable = members.some((m) => m.nullable || m.name === 'null');
      return { nullable, literals, ...this.span(start) };
    });
  }

  postfixType(): TypeExpr {
    let t = this.primaryType();
    for (;;) {
      if (this.is('?')) {
        this.next();
        t = { ...t, nullable: true, end: this.span(t.start).end };
      } else if (this.is('[') && this.is(']', 1)) {
        this.next();
        this.next();
        t = { nullable: false, isArray: true, name: 'array', items: t, ...this.span(t.start) };
      } else if (this.is('[') && (this.is('*', 1) || this.peek(1).kind === 'int') && this.is(']', 2)) {
        this.next();
        this.next();
        this.next();
        t = { nullable: false, ...this.span(t.start) };
      } else if (this.is('.') && this.peek(1).kind === 'ident') {
        this.next();
        this.next();
        t = { nullable: false, ...this.span(t.start) };
      } else return t;
    }
  }

  primaryType(): TypeExpr {
    const t = this.peek();
    const start = t.start;
    if (t.kind === 'ident') {
      if (t.text === 'resource' && this.peek(1).kind === 'string') return this.typeOrResource();
      this.next();
      let name = t.text;
      if (t.text === 'true' || t.text === 'false') return { nullable: false, literals: [t.text === 'true'], name: 'bool', ...this.span(start) };
      if (t.text === 'null') return { nullable: true, literals: [null], name: 'null', ...this.span(start) };
      while (this.is('.') && this.peek(1).kind === 'ident') {
        this.next();
        name += '.' + this.next().text;
      }
      if (this.is('<')) {
        // resourceInput<'type@ver'>, resourceOutput<…>.properties
        this.next();
        while (!this.is('>') && this.peek().kind !== 'eof' && this.peek().kind !== 'newline') this.next();
        this.expect('>');
      }
      return { nullable: false, name: name.startsWith('sys.') ? name.slice(4) : name, ...this.span(start) };
    }
    if (t.kind === 'string') {
      this.next();
      return { nullable: false, literals: [t.pieces?.[0] ?? ''], name: 'string', ...this.span(start) };
    }
    if (t.kind === 'int') {
      this.next();
      return { nullable: false, literals: [Number(t.text)], name: 'int', ...this.span(start) };
    }
    if (this.is('-') && this.peek(1).kind === 'int') {
      this.next();
      return { nullable: false, literals: [-Number(this.next().text)], name: 'int', ...this.span(start) };
    }
    if (this.is('(')) {
      this.next();
      const inner = this.type();
      this.expect(')');
      return { ...inner, ...this.span(start) };
    }
    if (this.is('{')) {
      this.next();
      this.skipNewlines();
      const properties: { name: string; type: TypeExpr; optional: boolean }[] = [];
      while (!this.is('}')) {
        this.decorators();
        const k = this.peek();
        let key: string;
        if (k.kind === 'string') key = k.pieces?.[0] ?? '';
        else if (k.kind === 'ident' || k.kind === 'int') key = k.text;
        else if (this.is('*')) key = '*';
        else this.fail(`expected a property name but found ${this.describe(k)}`);
        this.next();
        let optional = false;
        if (this.is('?')) {
          this.next();
          optional = true;
        }
        this.expect(':');
        const type = this.type();
        properties.push({ name: key, type, optional: optional || type.nullable });
        if (this.is(',')) this.next();
        if (!this.is('}') && this.peek().kind !== 'newline') this.fail(`expected a new line or '}' but found ${this.describe(this.peek())}`);
        this.skipNewlines();
      }
      this.next();
      return { nullable: false, name: 'object', properties, ...this.span(start) };
    }
    if (this.is('[')) {
      this.next();
      this.skipNewlines();
      while (!this.is(']')) {
        this.decorators();
        this.type();
        if (this.is(',')) this.next();
        if (!this.is(']') && this.peek().kind !== 'newline') this.fail(`expected a new line or ']' but found ${this.describe(this.peek())}`);
        this.skipNewlines();
      }
      this.next();
      return { nullable: false, name: 'array', ...this.span(start) };
    }
    this.fail(`expected a type but found ${this.describe(t)}`);
  }

  // ---- expressions -------------------------------------------------------------------------------
  expr(): Expr {
    return this.guard(() => {
      const lam = this.tryLambda();
      if (lam) return lam;
      const start = this.peek().start;
      const cond = this.binary(0);
      const save = this.i;
      this.skipNewlines();
      if (this.is('?')) {
        this.next();
        this.skipNewlines();
        const then = this.expr();
        this.skipNewlines();
        this.expect(':', "':' of the conditional expression");
        this.skipNewlines();
        const els = this.expr();
        return { kind: 'ternary', cond, then, else: els, ...this.span(start) };
      }
      this.i = save;
      return cond;
    });
  }

  tryLambda(): Expr | undefined {
    const t = this.peek();
    const start = t.start;
    if (t.kind === 'ident' && this.is('=>', 1)) {
      this.next();
      this.next();
      this.skipNewlines();
      const body = this.expr();
      return { kind: 'lambda', params: [t.text], body, ...this.span(start) };
    }
    if (!this.is('(')) return undefined;
    // ( a, b ) =>   or  ( a int, b string ) =>   or () =>
    let k = 1;
    const params: string[] = [];
    for (;;) {
      const x = this.peek(k);
      if (x.kind === 'newline') {
        k++;
        continue;
      }
      if (x.kind === 'punct' && x.text === ')') break;
      if (x.kind !== 'ident') return undefined;
      params.push(x.text);
      k++;
      if (this.peek(k).kind === 'ident') k++; // a type
      const sep = this.peek(k);
      if (sep.kind === 'punct' && sep.text === ',') {
        k++;
        continue;
      }
      if (sep.kind === 'punct' && sep.text === ')') break;
      if (sep.kind === 'newline') continue;
      return undefined;
    }
    if (!this.is('=>', k + 1)) return undefined;
    this.i += k + 2;
    this.skipNewlines();
    const body = this.expr();
    return { kind: 'lambda', params, body, ...this.span(start) };
  }

  binary(minPrec: number): Expr {
    const start = this.peek().start;
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const prec = t.kind === 'punct' ? BINARY_PRECEDENCE[t.text] : undefined;
      if (prec === undefined || prec <= minPrec) return left;
      this.next();
      if (this.parenDepth > 0) this.skipNewlines();
      const right = this.guard(() => this.binary(prec));
      left = { kind: 'binary', op: t.text, left, right, ...this.span(start) };
    }
  }

  unary(): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && (t.text === '!' || t.text === '-' || t.text === '+')) {
      this.next();
      const expr = this.guard(() => this.unary());
      return { kind: 'unary', op: t.text as '!' | '-' | '+', expr, ...this.span(t.start) };
    }
    return this.postfix(this.primary());
  }

  postfix(base: Expr): Expr {
    const start = base.start;
    for (let n = 0; ; n++) {
      if (n > 10000) this.fail('the expression is too long');
      if (this.is('.')) {
        this.next();
        let safe = false;
        if (this.is('?')) {
          this.next();
          safe = true;
        }
        const name = this.expectIdent('a property name');
        if (this.is('(') && !safe) {
          const args = this.args();
          if (base.kind === 'ident' && (base.name === 'sys' || base.name === 'az')) base = { kind: 'call', ns: base.name, name: name.text, args, nameSpan: name, ...this.span(start) };
          else base = { kind: 'method', base, name: name.text, args, ...this.span(start) };
        } else base = { kind: 'member', base, name: name.text, safe, ...this.span(start) };
      } else if (this.is('[')) {
        this.next();
        let safe = false;
        let fromEnd = false;
        if (this.is('?')) {
          this.next();
          safe = true;
        }
        if (this.is('^')) {
          this.next();
          fromEnd = true;
        }
        this.skipNewlines();
        const index = this.expr();
        this.skipNewlines();
        this.expect(']');
        base = { kind: 'index', base, index, safe, fromEnd, ...this.span(start) };
      } else if (this.is('::')) {
        this.next();
        const name = this.expectIdent('a nested resource name');
        base = { kind: 'child', base, name: name.text, ...this.span(start) };
      } else if (this.is('!') && !this.is('=', 1)) {
        this.next();
        base = { kind: 'nonNull', expr: base, ...this.span(start) };
      } else return base;
    }
  }

  args(): Expr[] {
    this.expect('(');
    const args: Expr[] = [];
    this.skipNewlines();
    while (!this.is(')')) {
      args.push(this.expr());
      const t = this.peek();
      if (t.kind === 'newline') {
        this.skipNewlines();
        if (!this.is(')')) this.fail("expected ',' between function arguments (a new line does not separate arguments)", t);
        break;
      }
      if (this.is(',')) {
        this.next();
        this.skipNewlines();
        if (this.is(')')) this.fail("expected an argument after ','");
        continue;
      }
      if (!this.is(')')) this.fail(`expected ',' or ')' but found ${this.describe(this.peek())}`);
    }
    this.next();
    return args;
  }

  primary(): Expr {
    const t = this.peek();
    const start = t.start;
    switch (t.kind) {
      case 'int': {
        this.next();
        const value = Number(t.text);
        if (!Number.isSafeInteger(value)) {
          this.errors.push({ message: `the integer ${t.text} is too large`, start: t.start, end: t.end });
        }
        return { kind: 'int', value, start: t.start, end: t.end };
      }
      case 'string':
        this.next();
        return this.stringExpr(t);
      case 'ident': {
        this.next();
        if (t.text === 'true' || t.text === 'false') return { kind: 'bool', value: t.text === 'true', start: t.start, end: t.end };
        if (t.text === 'null') return { kind: 'null', start: t.start, end: t.end };
        if (this.is('(')) {
          const args = this.args();
          return { kind: 'call', ns: undefined, name: t.text, args, nameSpan: t, ...this.span(start) };
        }
        return { kind: 'ident', name: t.text, start: t.start, end: t.end };
      }
      case 'punct':
        if (t.text === '(') {
          this.next();
          this.skipNewlines();
          this.parenDepth++;
          let expr: Expr;
          try {
            expr = this.expr();
          } finally {
            this.parenDepth--;
          }
          this.skipNewlines();
          this.expect(')');
          return { kind: 'paren', expr, ...this.span(start) };
        }
        if (t.text === '[') return this.arrayOrFor();
        if (t.text === '{') return this.object();
        break;
      default:
        break;
    }
    this.fail(`expected an expression but found ${this.describe(t)}`);
  }

  stringExpr(t: Token): Expr {
    const holes: Expr[] = [];
    for (const hole of t.holes ?? []) {
      const sub = new Parser(hole, this.text, this.errors);
      try {
        if (sub.peek().kind === 'eof') sub.fail('an empty interpolation hole ${}');
        holes.push(sub.expr());
        if (sub.peek().kind !== 'eof') sub.fail(`expected '}' to close the interpolation but found ${sub.describe(sub.peek())}`);
      } catch (e) {
        if (!(e instanceof ParseFail)) throw e;
        holes.push({ kind: 'error', start: t.start, end: t.end });
      }
    }
    return { kind: 'string', pieces: t.pieces ?? [''], holes, start: t.start, end: t.end };
  }

  arrayOrFor(): Expr {
    const start = this.next().start;
    this.skipNewlines();
    if (this.isIdent('for') && (this.peek(1).kind === 'ident' || this.is('(', 1))) return this.forExpr(start);
    const items: ArrayItem[] = [];
    this.items(']', () => {
      if (this.is('...')) {
        const s = this.next().start;
        const expr = this.expr();
        items.push({ kind: 'spread', expr, ...this.span(s) });
      } else items.push(this.expr());
    });
    return { kind: 'array', items, ...this.span(start) };
  }

  forExpr(start: number): Expr {
    this.next(); // for
    let item: string | undefined;
    let index: string | undefined;
    if (this.is('(')) {
      this.next();
      item = this.expectIdent('a loop variable').text;
      this.expect(',');
      index = this.expectIdent('an index variable').text;
      this.expect(')');
    } else item = this.expectIdent('a loop variable').text;
    if (!this.isIdent('in')) this.fail(`expected 'in' but found ${this.describe(this.peek())}`);
    this.next();
    const source = this.expr();
    this.expect(':');
    this.skipNewlines();
    let body: Expr;
    let filter: Expr | undefined;
    if (this.isIdent('if') && this.is('(', 1)) {
      const ifb = this.ifBody();
      if (ifb.kind === 'if') {
        filter = ifb.cond;
        body = ifb.body;
      } else body = ifb;
    } else body = this.expr();
    this.skipNewlines();
    this.expect(']');
    return { kind: 'for', item, index, source, body, filter, ...this.span(start) };
  }

  object(): Expr {
    const start = this.next().start;
    const items: ObjectItem[] = [];
    const seen = new Set<string>();
    this.skipNewlines();
    this.items('}', () => {
      const decorators = this.decorators();
      const t = this.peek();
      if (t.kind === 'ident' && t.text === 'resource' && this.peek(1).kind === 'ident' && this.peek(2).kind === 'string') {
        const decl = this.resource(decorators, decorators[0]?.start ?? t.start);
        items.push({ kind: 'resource', decl, start: decl.start, end: decl.end });
        return;
      }
      if (this.is('...')) {
        const s = this.next().start;
        const expr = this.expr();
        items.push({ kind: 'spread', expr, ...this.span(s) });
        return;
      }
      let key: string | Expr;
      if (t.kind === 'ident') {
        this.next();
        key = t.text;
      } else if (t.kind === 'string') {
        this.next();
        key = t.holes && t.holes.length ? this.stringExpr(t) : t.pieces?.[0] ?? '';
      } else this.fail(`expected a property name (an identifier or a string) but found ${this.describe(t)}`);
      if (typeof key === 'string') {
        const lk = key.toLowerCase();
        if (seen.has(lk)) this.errors.push({ message: `the property '${key}' is declared more than once in this object`, start: t.start, end: t.end });
        seen.add(lk);
      }
      this.expect(':');
      const value = this.expr();
      items.push({ kind: 'prop', key, value, keySpan: { start: t.start, end: t.end }, ...this.span(t.start) });
    });
    return { kind: 'object', items, ...this.span(start) };
  }

  /** Items of an array or object: separated by new lines or a comma (not a comma and a new line). */
  items(close: string, item: () => void): void {
    this.skipNewlines();
    for (;;) {
      if (this.is(close)) {
        this.next();
        return;
      }
      if (this.peek().kind === 'eof') this.fail(`expected '${close}' but found the end of the file`);
      const before = this.i;
      try {
        item();
        const t = this.peek();
        if (this.is(',')) {
          this.next();
          if (this.peek().kind === 'newline') {
            // Bicep rejects a comma followed by a new line; accept it but say so
            const nl = this.peek();
            this.errors.push({ message: 'unexpected new line after a comma: separate items by a comma or by new lines, not both (Bicep BCP238)', start: nl.start, end: nl.start + 1 });
            this.skipNewlines();
          }
          continue;
        }
        if (t.kind === 'newline') {
          this.skipNewlines();
          continue;
        }
        if (!this.is(close)) this.fail(`expected a new line, ',' or '${close}' but found ${this.describe(t)}`);
      } catch (e) {
        // a broken item: report it (done) and go on with the next line of this list, so the
        // errors further down a long resource body are reported too
        if (!(e instanceof ParseFail) || !this.skipItem(close)) throw e;
        if (this.i === before) this.next();
        this.skipNewlines();
      }
    }
  }

  /** Skips the rest of a broken item: to the end of its line, or to the bracket closing the list. False if there is neither. */
  skipItem(close: string): boolean {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return false;
      if (t.kind === 'punct') {
        if (t.text === '{' || t.text === '[' || t.text === '(') depth++;
        else if (t.text === '}' || t.text === ']' || t.text === ')') {
          if (depth === 0) return t.text === close;
          depth--;
        }
      }
      if (t.kind === 'newline' && depth === 0) return true;
      this.next();
    }
  }
}
