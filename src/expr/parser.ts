/**
 * Recursive-descent parser for API Management's C# subset: expressions with C#'s precedence,
 * casts and generics disambiguated as the C# specification says, lambdas, object creation with
 * initializers, and the statements of `@{ … }` blocks.
 */
import type { Arg, Block, Expr, Initializer, Param, Program, Stmt, TypeNode, VarDeclarator } from './ast.js';
import { Lexer, LexError, type Token } from './lexer.js';

export class ParseError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const PREDEFINED = new Set(['bool', 'byte', 'sbyte', 'char', 'decimal', 'double', 'float', 'int', 'uint', 'long', 'ulong', 'short', 'ushort', 'object', 'string', 'void', 'dynamic']);

/** Tokens after which `Name<…>` is a generic name rather than a less-than (C# spec 6.2.5). */
const AFTER_GENERIC = new Set(['(', ')', ']', '}', ':', ';', ',', '.', '?', '==', '!=', '|', '^', '&&', '||', '&', '[', '?.', '?[', '=>', '>', '??']);

export function parseProgram(text: string, base: number): Program {
  try {
    const t = text.trimStart();
    const lead = text.length - t.length;
    if (t.startsWith('@(')) {
      const p = new Parser(new Lexer(text.slice(lead + 1), base + lead + 1).tokenize());
      p.expect('(');
      const expr = p.expression();
      p.expect(')');
      p.expectEnd();
      return { kind: 'ExprProgram', expr };
    }
    if (t.startsWith('@{')) {
      const p = new Parser(new Lexer(text.slice(lead + 1), base + lead + 1).tokenize());
      const block = p.block();
      p.expectEnd();
      return { kind: 'BlockProgram', block };
    }
    throw new ParseError("a policy expression starts with '@(' or '@{'", base + lead);
  } catch (e) {
    if (e instanceof LexError) throw new ParseError(e.message, e.offset);
    throw e;
  }
}

/** Parses bare C# expression text (an interpolation hole), positions from base. */
export function parseBareExpression(text: string, base: number): Expr {
  try {
    const p = new Parser(new Lexer(text, base).tokenize());
    const e = p.expression();
    p.expectEnd();
    return e;
  } catch (e) {
    if (e instanceof LexError) throw new ParseError(e.message, e.offset);
    throw e;
  }
}

class Parser {
  private pos = 0;
  /** Set while parsing the statement of a @{ } program so that '@' is skipped. */
  constructor(private readonly toks: Token[]) {}

  // ───── token helpers ─────
  private get t(): Token {
    return this.toks[this.pos]!;
  }
  private peek(n = 1): Token {
    return this.toks[Math.min(this.pos + n, this.toks.length - 1)]!;
  }
  private is(text: string, tok = this.t): boolean {
    return (tok.kind === 'punct' || tok.kind === 'keyword') && tok.text === text;
  }
  private isIdent(tok = this.t, name?: string): boolean {
    return tok.kind === 'ident' && (name === undefined || tok.text === name);
  }
  private eat(text: string): boolean {
    if (this.is(text)) {
      this.pos++;
      return true;
    }
    return false;
  }
  private fail(msg: string, tok = this.t): never {
    throw new ParseError(msg, tok.start);
  }
  private describe(tok: Token): string {
    return tok.kind === 'eof' ? 'end of expression' : `'${tok.text}'`;
  }
  expect(text: string): Token {
    const tok = this.t;
    if (!this.is(text)) this.fail(`'${text}' expected, found ${this.describe(tok)}`);
    this.pos++;
    return tok;
  }
  expectEnd(): void {
    if (this.t.kind !== 'eof') this.fail(`unexpected ${this.describe(this.t)} after the end of the expression`);
  }
  private ident(): Token {
    const tok = this.t;
    if (tok.kind !== 'ident') this.fail(`identifier expected, found ${this.describe(tok)}`);
    this.pos++;
    return tok;
  }
  private get prevEnd(): number {
    return this.toks[this.pos - 1]!.end;
  }
  /** '>' '>' written adjacent: the shift operator. */
  private isShiftRight(): boolean {
    return this.is('>') && this.is('>', this.peek()) && this.peek().start === this.t.end;
  }

  // ───── types ─────
  /** Tries to parse a type at the current position; restores and returns undefined if none. */
  private tryType(allowNullable = true): TypeNode | undefined {
    const save = this.pos;
    try {
      return this.type(allowNullable);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.pos = save;
      return undefined;
    }
  }

  type(allowNullable = true): TypeNode {
    const start = this.t.start;
    let name: string;
    if (this.t.kind === 'keyword' && PREDEFINED.has(this.t.text)) {
      name = this.t.text;
      this.pos++;
    } else if (this.t.kind === 'ident') {
      name = this.t.text;
      this.pos++;
      if (this.is('::')) {
        this.pos++;
        name = this.ident().text;
      }
    } else this.fail(`type expected, found ${this.describe(this.t)}`);
    let args: TypeNode[] = [];
    for (;;) {
      if (this.is('<')) {
        this.pos++;
        args = [this.type()];
        while (this.eat(',')) args.push(this.type());
        if (!this.is('>')) this.fail(`'>' expected`);
        this.pos++;
      }
      if (this.is('.') && this.isIdent(this.peek()) && args.length === 0) {
        this.pos++;
        name += '.' + this.ident().text;
        continue;
      }
      break;
    }
    let nullable = false;
    if (allowNullable && this.is('?') && !this.looksLikeConditionalAfterType()) {
      this.pos++;
      nullable = true;
    }
    const ranks: number[] = [];
    while (this.is('[') && (this.is(']', this.peek()) || this.is(',', this.peek()))) {
      this.pos++;
      let rank = 1;
      while (this.eat(',')) rank++;
      this.expect(']');
      ranks.push(rank);
    }
    return { kind: 'Type', name, args, ranks, nullable, start, end: this.prevEnd };
  }

  /** After a type, '?' is nullable unless an expression follows (then it is ?: ). */
  private looksLikeConditionalAfterType(): boolean {
    const n = this.peek();
    return !(this.is(')', n) || this.is('>', n) || this.is(',', n) || this.is('[', n) || n.kind === 'ident' || this.is(']', n) || this.is('=', n) || this.is(';', n));
  }

  // ───── expressions ─────
  expression(): Expr {
    return this.assignment();
  }

  private assignment(): Expr {
    if (this.isLambdaStart()) return this.lambda();
    const left = this.conditional();
    const tok = this.t;
    if (tok.kind === 'punct' && ['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '??='].includes(tok.text)) {
      this.pos++;
      const value = this.assignment();
      return { kind: 'Assign', op: tok.text, target: left, value, start: left.start, end: value.end };
    }
    if (this.isShiftRight() && this.is('>=', this.peek(1)) === false && this.peek(1).text === '>' && this.is('=', this.peek(2))) {
      // '>>=' as '>' '>' '=' cannot appear (lexer gives '>='), handled below
    }
    if (this.is('>') && this.is('>=', this.peek()) && this.peek().start === this.t.end) {
      this.pos += 2;
      const value = this.assignment();
      return { kind: 'Assign', op: '>>=', target: left, value, start: left.start, end: value.end };
    }
    return left;
  }

  private isLambdaStart(): boolean {
    if (this.t.kind === 'ident' && this.is('=>', this.peek())) return true;
    if (this.is('async') && this.isIdent(this.peek())) return false;
    if (!this.is('(')) return false;
    // find the matching ')' and check for '=>'
    let depth = 0;
    for (let j = this.pos; j < this.toks.length; j++) {
      const tk = this.toks[j]!;
      if (tk.kind === 'eof') return false;
      if (this.is('(', tk)) depth++;
      else if (this.is(')', tk)) {
        depth--;
        if (depth === 0) return this.is('=>', this.toks[j + 1]);
      }
    }
    return false;
  }

  private lambda(): Expr {
    const start = this.t.start;
    const params: Param[] = [];
    if (this.t.kind === 'ident') {
      const tk = this.ident();
      params.push({ name: tk.text, type: undefined, start: tk.start });
    } else {
      this.expect('(');
      if (!this.is(')')) {
        do {
          const pstart = this.t.start;
          if ((this.t as Token).kind === 'ident' && (this.is(',', this.peek()) || this.is(')', this.peek()))) {
            params.push({ name: this.ident().text, type: undefined, start: pstart });
          } else {
            const type = this.type();
            params.push({ name: this.ident().text, type, start: pstart });
          }
        } while (this.eat(','));
      }
      this.expect(')');
    }
    this.expect('=>');
    const body = this.is('{') ? this.block() : this.expression();
    return { kind: 'Lambda', params, body, start, end: body.end };
  }

  private conditional(): Expr {
    const test = this.coalesce();
    if (this.is('?')) {
      this.pos++;
      const then = this.isLambdaStart() ? this.lambda() : this.expression();
      this.expect(':');
      const els = this.isLambdaStart() ? this.lambda() : this.expression();
      return { kind: 'Conditional', test, then, else: els, start: test.start, end: els.end };
    }
    return test;
  }

  private coalesce(): Expr {
    const left = this.binary(0);
    if (this.is('??')) {
      this.pos++;
      const right = this.is('throw') ? this.throwExpr() : this.coalesce();
      return { kind: 'Binary', op: '??', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private throwExpr(): Expr {
    const start = this.expect('throw').start;
    const value = this.coalesce();
    return { kind: 'Throw', value, start, end: value.end };
  }

  private static readonly LEVELS: string[][] = [
    ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>=', 'is', 'as'], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
  ];

  private binary(level: number): Expr {
    if (level >= Parser.LEVELS.length) return this.unary();
    const ops = Parser.LEVELS[level]!;
    let left = this.binary(level + 1);
    for (;;) {
      const tok = this.t;
      if (level === 7 && this.isShiftRight() && !this.is('>=', this.peek())) {
        this.pos += 2;
        const right = this.binary(level + 1);
        left = { kind: 'Binary', op: '>>', left, right, start: left.start, end: right.end };
        continue;
      }
      if (!(tok.kind === 'punct' || tok.kind === 'keyword') || !ops.includes(tok.text)) return left;
      if (level === 6 && tok.text === '>' && this.isShiftRight()) return left;
      this.pos++;
      if (tok.text === 'is') {
        left = this.isExpr(left);
        continue;
      }
      if (tok.text === 'as') {
        const type = this.type(false);
        left = { kind: 'As', operand: left, type, start: left.start, end: type.end };
        continue;
      }
      const right = this.binary(level + 1);
      left = { kind: 'Binary', op: tok.text, left, right, start: left.start, end: right.end };
    }
  }

  private isExpr(operand: Expr): Expr {
    let negated = false;
    if (this.is('not') || this.isIdent(this.t, 'not')) {
      this.pos++;
      negated = true;
    }
    if (this.is('null') || this.t.kind === 'string' || this.t.kind === 'number' || this.t.kind === 'char' || this.is('true') || this.is('false')) {
      const pattern = this.unary();
      return { kind: 'Is', operand, type: undefined, pattern, designation: undefined, negated, start: operand.start, end: pattern.end };
    }
    const type = this.type(false);
    let designation: string | undefined;
    if (this.t.kind === 'ident' && !this.is('=>', this.peek())) designation = this.ident().text;
    return { kind: 'Is', operand, type, pattern: undefined, designation, negated, start: operand.start, end: this.prevEnd };
  }

  private unary(): Expr {
    const tok = this.t;
    if (tok.kind === 'punct') {
      if (['+', '-', '!', '~'].includes(tok.text)) {
        this.pos++;
        const operand = this.unary();
        // fold negative numeric literals so int.MinValue-like literals keep their type
        if (tok.text === '-' && operand.kind === 'Literal' && typeof operand.value === 'number') {
          return { ...operand, value: -operand.value, start: tok.start };
        }
        return { kind: 'Unary', op: tok.text as '+' | '-' | '!' | '~', operand, start: tok.start, end: operand.end };
      }
      if (tok.text === '++' || tok.text === '--') {
        this.pos++;
        const operand = this.unary();
        return { kind: 'Unary', op: tok.text === '++' ? '++pre' : '--pre', operand, start: tok.start, end: operand.end };
      }
      if (tok.text === '(') {
        const cast = this.tryCast();
        if (cast) return cast;
      }
    }
    if (this.is('throw')) return this.throwExpr();
    return this.postfix(this.primary());
  }

  /** `(T)x` when what follows ')' can start an operand (C# spec 12.9.7). */
  private tryCast(): Expr | undefined {
    const save = this.pos;
    const start = this.t.start;
    this.pos++;
    const type = this.tryType();
    if (!type || !this.is(')')) {
      this.pos = save;
      return undefined;
    }
    this.pos++;
    const n = this.t;
    const predefined = PREDEFINED.has(type.name) || type.ranks.length > 0 || type.nullable || type.args.length > 0;
    const follows =
      n.kind === 'ident' || n.kind === 'number' || n.kind === 'string' || n.kind === 'char' || n.kind === 'interp' ||
      (n.kind === 'keyword' && n.text !== 'as' && n.text !== 'is') ||
      (n.kind === 'punct' && (n.text === '(' || n.text === '!' || n.text === '~'));
    const predefinedFollows = predefined && n.kind === 'punct' && (n.text === '-' || n.text === '+' || n.text === '++' || n.text === '--');
    if (!follows && !predefinedFollows) {
      this.pos = save;
      return undefined;
    }
    const operand = this.unary();
    return { kind: 'Cast', type, operand, start, end: operand.end };
  }

  private args(close: string): Arg[] {
    const out: Arg[] = [];
    if (this.eat(close)) return out;
    do {
      let name: string | undefined;
      if (this.t.kind === 'ident' && this.is(':', this.peek()) && !this.is('::', this.peek())) {
        name = this.ident().text;
        this.pos++;
      }
      let modifier: Arg['modifier'];
      if (this.is('out') || this.is('ref') || this.is('in')) {
        modifier = this.t.text as 'out' | 'ref' | 'in';
        this.pos++;
      }
      if (modifier === 'out' && !(this.t.kind === 'ident' && (this.is(',', this.peek()) || this.is(close, this.peek())))) {
        // out var x / out T x
        const start = this.t.start;
        let type: TypeNode | undefined;
        if (this.isIdent(this.t, 'var')) this.pos++;
        else type = this.type();
        const id = this.ident();
        out.push({ value: { kind: 'Name', name: id.text, typeArgs: undefined, start: id.start, end: id.end }, modifier, declare: { name: id.text, type }, name });
        void start;
        continue;
      }
      const value = this.expression();
      out.push({ value, modifier, declare: undefined, name });
    } while (this.eat(','));
    this.expect(close);
    return out;
  }

  /** After an identifier: `<T, U>` when the C# disambiguation rule says it is a type argument list. */
  private tryTypeArgs(): TypeNode[] | undefined {
    if (!this.is('<')) return undefined;
    const save = this.pos;
    try {
      this.pos++;
      const args = [this.type()];
      while (this.eat(',')) args.push(this.type());
      if (!this.is('>')) throw new ParseError('', 0);
      this.pos++;
      const n = this.t;
      if (n.kind === 'eof' || ((n.kind === 'punct' || n.kind === 'keyword') && AFTER_GENERIC.has(n.text))) return args;
      if (n.kind === 'keyword' && (n.text === 'is' || n.text === 'as')) return args;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
    this.pos = save;
    return undefined;
  }

  private primary(): Expr {
    const tok = this.t;
    switch (tok.kind) {
      case 'number':
        this.pos++;
        return { kind: 'Literal', value: tok.value, type: tok.numType!, start: tok.start, end: tok.end };
      case 'string':
        this.pos++;
        return { kind: 'Literal', value: tok.value, type: 'string', start: tok.start, end: tok.end };
      case 'char':
        this.pos++;
        return { kind: 'Literal', value: tok.value, type: 'char', start: tok.start, end: tok.end };
      case 'interp':
        this.pos++;
        return this.interpolated(tok);
      case 'ident': {
        this.pos++;
        const typeArgs = this.tryTypeArgs();
        return { kind: 'Name', name: tok.text, typeArgs, start: tok.start, end: this.prevEnd };
      }
      case 'keyword':
        return this.keywordPrimary(tok);
      case 'punct':
        if (tok.text === '(') {
          this.pos++;
          const e = this.expression();
          if (this.is(',')) {
            // tuple literal: (a, b)
            const items = [e];
            while (this.eat(',')) items.push(this.expression());
            this.expect(')');
            return { kind: 'Call', callee: { kind: 'Name', name: '$tuple', typeArgs: undefined, start: tok.start, end: tok.start }, args: items.map((value) => ({ value, modifier: undefined, declare: undefined, name: undefined })), start: tok.start, end: this.prevEnd };
          }
          this.expect(')');
          return { ...e, start: tok.start, end: this.prevEnd } as Expr;
        }
        break;
      default:
        break;
    }
    this.fail(tok.kind === 'eof' ? 'expression expected, found end of expression' : `expression expected, found ${this.describe(tok)}`);
  }

  private interpolated(tok: Token): Expr {
    const parts: (string | { expr: Expr; align: Expr | undefined; format: string | undefined })[] = [];
    for (const p of tok.parts ?? []) {
      if (typeof p === 'string') parts.push(p);
      else {
        const expr = parseBareExpression(p.text, p.start);
        const align = p.align ? parseBareExpression(p.align.text, p.align.start) : undefined;
        parts.push({ expr, align, format: p.format });
      }
    }
    return { kind: 'Interpolated', parts, start: tok.start, end: tok.end };
  }

  private keywordPrimary(tok: Token): Expr {
    const k = tok.text;
    if (k === 'true' || k === 'false') {
      this.pos++;
      return { kind: 'Literal', value: k === 'true', type: 'bool', start: tok.start, end: tok.end };
    }
    if (k === 'null') {
      this.pos++;
      return { kind: 'Literal', value: null, type: 'null', start: tok.start, end: tok.end };
    }
    if (PREDEFINED.has(k)) {
      this.pos++;
      const type: TypeNode = { kind: 'Type', name: k, args: [], ranks: [], nullable: false, start: tok.start, end: tok.end };
      return { kind: 'PredefinedType', type, start: tok.start, end: tok.end };
    }
    if (k === 'new') return this.newExpr();
    if (k === 'typeof') {
      this.pos++;
      this.expect('(');
      const type = this.type();
      this.expect(')');
      return { kind: 'TypeOf', type, start: tok.start, end: this.prevEnd };
    }
    if (k === 'default') {
      this.pos++;
      if (this.eat('(')) {
        const type = this.type();
        this.expect(')');
        return { kind: 'Default', type, start: tok.start, end: this.prevEnd };
      }
      return { kind: 'Default', type: undefined, start: tok.start, end: tok.end };
    }
    if (k === 'checked' || k === 'unchecked') {
      this.pos++;
      this.expect('(');
      const operand = this.expression();
      this.expect(')');
      return { kind: 'Checked', operand, start: tok.start, end: this.prevEnd };
    }
    if (k === 'this' || k === 'base') this.fail(`'${k}' is not available in policy expressions`);
    this.fail(`expression expected, found '${k}'`);
  }

  private newExpr(): Expr {
    const start = this.expect('new').start;
    if (this.is('{')) {
      // anonymous object
      this.pos++;
      const members: { name: string; value: Expr }[] = [];
      while (!this.is('}')) {
        if (this.t.kind === 'ident' && this.is('=', this.peek())) {
          const name = this.ident().text;
          this.pos++;
          members.push({ name, value: this.expression() });
        } else {
          const value = this.expression();
          const name = value.kind === 'Name' ? value.name : value.kind === 'Member' ? value.name : undefined;
          if (!name) this.fail('invalid anonymous type member declarator');
          members.push({ name, value });
        }
        if (!this.eat(',')) break;
      }
      this.expect('}');
      return { kind: 'NewAnonymous', members, start, end: this.prevEnd };
    }
    if (this.is('[')) {
      // new[] { … }
      this.pos++;
      while (this.eat(',')) {
        /* rank */
      }
      this.expect(']');
      const items = this.arrayItems();
      return { kind: 'NewArray', type: undefined, sizes: [], items, start, end: this.prevEnd };
    }
    // element type without array ranks, then sizes or ranks
    const save = this.pos;
    const base = this.type(true);
    if (base.ranks.length > 0) {
      // new T[] { … }
      const items = this.is('{') ? this.arrayItems() : undefined;
      if (!items) this.fail("array creation must have array size or array initializer");
      const elem: TypeNode = { ...base, ranks: base.ranks.slice(1) };
      return { kind: 'NewArray', type: elem, sizes: [], items, start, end: this.prevEnd };
    }
    if (this.is('[')) {
      this.pos++;
      const sizes = [this.expression()];
      while (this.eat(',')) sizes.push(this.expression());
      this.expect(']');
      const items = this.is('{') ? this.arrayItems() : undefined;
      return { kind: 'NewArray', type: base, sizes, items, start, end: this.prevEnd };
    }
    void save;
    let args: Arg[] | undefined;
    if (this.eat('(')) args = this.args(')');
    let init: Initializer | undefined;
    if (this.is('{')) init = this.initializer();
    if (!args && !init) this.fail("'(' or '{' expected after the type in 'new'");
    return { kind: 'New', type: base, args, init, start, end: this.prevEnd };
  }

  private arrayItems(): Expr[] {
    this.expect('{');
    const items: Expr[] = [];
    while (!this.is('}')) {
      items.push(this.is('{') ? this.nestedArray() : this.expression());
      if (!this.eat(',')) break;
    }
    this.expect('}');
    return items;
  }

  private nestedArray(): Expr {
    const start = this.t.start;
    const items = this.arrayItems();
    return { kind: 'NewArray', type: undefined, sizes: [], items, start, end: this.prevEnd };
  }

  private initializer(): Initializer {
    this.expect('{');
    if (this.is('}')) {
      this.pos++;
      return { kind: 'Collection', items: [] };
    }
    if (this.t.kind === 'ident' && this.is('=', this.peek())) {
      const members: { name: string; value: Expr | Initializer; start: number }[] = [];
      while (!this.is('}')) {
        const id = this.ident();
        this.expect('=');
        const value = this.is('{') ? this.initializer() : this.expression();
        members.push({ name: id.text, value, start: id.start });
        if (!this.eat(',')) break;
      }
      this.expect('}');
      return { kind: 'Object', members };
    }
    if (this.is('[')) {
      const items: { index: Expr[]; value: Expr }[] = [];
      while (this.is('[')) {
        this.pos++;
        const index = [this.expression()];
        while (this.eat(',')) index.push(this.expression());
        this.expect(']');
        this.expect('=');
        items.push({ index, value: this.expression() });
        if (!this.eat(',')) break;
      }
      this.expect('}');
      return { kind: 'Index', items };
    }
    const items: (Expr | Expr[])[] = [];
    while (!this.is('}')) {
      if (this.is('{')) {
        this.pos++;
        const group: Expr[] = [];
        while (!this.is('}')) {
          group.push(this.expression());
          if (!this.eat(',')) break;
        }
        this.expect('}');
        items.push(group);
      } else items.push(this.expression());
      if (!this.eat(',')) break;
    }
    this.expect('}');
    return { kind: 'Collection', items };
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      const tok = this.t;
      if (this.is('.') || this.is('?.')) {
        this.pos++;
        const id = this.ident();
        const typeArgs = this.tryTypeArgs();
        e = { kind: 'Member', target: e, name: id.text, nameStart: id.start, typeArgs, conditional: tok.text === '?.', start: e.start, end: this.prevEnd };
      } else if (this.is('(')) {
        this.pos++;
        const args = this.args(')');
        e = { kind: 'Call', callee: e, args, start: e.start, end: this.prevEnd };
      } else if (this.is('[') || this.is('?[')) {
        this.pos++;
        const args = this.args(']');
        e = { kind: 'Index', target: e, args, conditional: tok.text === '?[', start: e.start, end: this.prevEnd };
      } else if (this.is('++') || this.is('--')) {
        this.pos++;
        e = { kind: 'Unary', op: tok.text === '++' ? '++post' : '--post', operand: e, start: e.start, end: tok.end };
      } else if (this.is('!') && this.isPostfixBang()) {
        this.pos++; // null-forgiving operator
      } else if (this.is('switch')) {
        e = this.switchExpr(e);
      } else return e;
    }
  }

  private isPostfixBang(): boolean {
    const n = this.peek();
    return this.is('.', n) || this.is(')', n) || this.is(';', n) || this.is(',', n) || this.is('[', n);
  }

  private switchExpr(value: Expr): Expr {
    this.expect('switch');
    this.expect('{');
    const arms: { pattern: Expr | undefined; guard: Expr | undefined; result: Expr }[] = [];
    while (!this.is('}')) {
      let pattern: Expr | undefined;
      if (this.isIdent(this.t, '_') && this.is('=>', this.peek())) this.pos++;
      else pattern = this.coalesce();
      let guard: Expr | undefined;
      if (this.isIdent(this.t, 'when')) {
        this.pos++;
        guard = this.expression();
      }
      this.expect('=>');
      const result = this.expression();
      arms.push({ pattern, guard, result });
      if (!this.eat(',')) break;
    }
    this.expect('}');
    return { kind: 'Switch', value, arms, start: value.start, end: this.prevEnd };
  }

  // ───── statements ─────
  block(): Block {
    const start = this.expect('{').start;
    const body: Stmt[] = [];
    while (!this.is('}')) {
      if (this.t.kind === 'eof') this.fail("'}' expected, found end of expression");
      body.push(this.statement());
    }
    this.pos++;
    return { kind: 'Block', body, start, end: this.prevEnd };
  }

  private embedded(): Stmt {
    return this.statement();
  }

  private statement(): Stmt {
    const tok = this.t;
    const start = tok.start;
    if (this.is('{')) return this.block();
    if (this.is(';')) {
      this.pos++;
      return { kind: 'Empty', start, end: tok.end };
    }
    if (tok.kind === 'keyword') {
      switch (tok.text) {
        case 'if': {
          this.pos++;
          this.expect('(');
          const test = this.expression();
          this.expect(')');
          const then = this.embedded();
          let els: Stmt | undefined;
          if (this.eat('else')) els = this.embedded();
          return { kind: 'If', test, then, else: els, start, end: this.prevEnd };
        }
        case 'return': {
          this.pos++;
          const value = this.is(';') ? undefined : this.expression();
          this.expect(';');
          return { kind: 'Return', value, start, end: this.prevEnd };
        }
        case 'while': {
          this.pos++;
          this.expect('(');
          const test = this.expression();
          this.expect(')');
          const body = this.embedded();
          return { kind: 'While', test, body, start, end: this.prevEnd };
        }
        case 'do': {
          this.pos++;
          const body = this.embedded();
          this.expect('while');
          this.expect('(');
          const test = this.expression();
          this.expect(')');
          this.expect(';');
          return { kind: 'DoWhile', test, body, start, end: this.prevEnd };
        }
        case 'for': {
          this.pos++;
          this.expect('(');
          const init: Stmt[] = [];
          if (!this.is(';')) {
            const decl = this.tryDeclaration(false);
            if (decl) init.push(decl);
            else {
              do {
                const e = this.expression();
                init.push({ kind: 'ExprStmt', expr: e, start: e.start, end: e.end });
              } while (this.eat(','));
            }
          }
          this.expect(';');
          const test = this.is(';') ? undefined : this.expression();
          this.expect(';');
          const update: Expr[] = [];
          if (!this.is(')')) {
            do update.push(this.expression());
            while (this.eat(','));
          }
          this.expect(')');
          const body = this.embedded();
          return { kind: 'For', init, test, update, body, start, end: this.prevEnd };
        }
        case 'foreach': {
          this.pos++;
          this.expect('(');
          let type: TypeNode | undefined;
          if (this.isIdent(this.t, 'var') && this.isIdent(this.peek())) this.pos++;
          else type = this.type();
          const name = this.ident().text;
          this.expect('in');
          const iterable = this.expression();
          this.expect(')');
          const body = this.embedded();
          return { kind: 'Foreach', type, name, iterable, body, start, end: this.prevEnd };
        }
        case 'break':
          this.pos++;
          this.expect(';');
          return { kind: 'Break', start, end: this.prevEnd };
        case 'continue':
          this.pos++;
          this.expect(';');
          return { kind: 'Continue', start, end: this.prevEnd };
        case 'throw': {
          this.pos++;
          const value = this.is(';') ? undefined : this.expression();
          this.expect(';');
          return { kind: 'Throw', value, start, end: this.prevEnd };
        }
        case 'try':
          return this.tryStatement();
        case 'switch':
          return this.switchStatement();
        case 'checked':
        case 'unchecked':
          if (this.is('{', this.peek())) {
            this.pos++;
            return this.block();
          }
          break;
        case 'using': {
          this.pos++;
          if (this.eat('(')) {
            const decl = this.tryDeclaration(false) ?? this.exprStatementNoSemi();
            this.expect(')');
            const body = this.embedded();
            return { kind: 'Using', decl, body, start, end: this.prevEnd };
          }
          const decl = this.tryDeclaration(false);
          if (!decl) this.fail('declaration expected after using');
          this.expect(';');
          return { kind: 'Using', decl, body: undefined, start, end: this.prevEnd };
        }
        case 'const': {
          this.pos++;
          const decl = this.tryDeclaration(false);
          if (!decl || decl.kind !== 'VarDecl') this.fail('constant declaration expected');
          this.expect(';');
          return { ...decl, isConst: true, end: this.prevEnd };
        }
        default:
          break;
      }
    }
    const decl = this.tryDeclaration(true);
    if (decl) {
      if (decl.kind === 'VarDecl') this.expect(';');
      return { ...decl, end: this.prevEnd } as Stmt;
    }
    const s = this.exprStatementNoSemi();
    this.expect(';');
    return { ...s, end: this.prevEnd };
  }

  private exprStatementNoSemi(): Stmt {
    const expr = this.expression();
    return { kind: 'ExprStmt', expr, start: expr.start, end: expr.end };
  }

  /** `T name [= init], …` or a local function `T Name(params) { … }`; undefined (position restored) otherwise. */
  private tryDeclaration(allowFunction: boolean): Stmt | undefined {
    const save = this.pos;
    const start = this.t.start;
    let type: TypeNode | undefined;
    if (this.isIdent(this.t, 'var') && this.isIdent(this.peek())) {
      this.pos++;
    } else {
      if (!(this.t.kind === 'ident' || (this.t.kind === 'keyword' && PREDEFINED.has(this.t.text)))) return undefined;
      type = this.tryType();
      if (!type || !this.isIdent(this.t)) {
        this.pos = save;
        return undefined;
      }
    }
    const nameTok = this.ident();
    if (allowFunction && this.is('(') && type) {
      this.pos++;
      const params: Param[] = [];
      if (!this.is(')')) {
        do {
          const pstart = this.t.start;
          const ptype = this.type();
          params.push({ name: this.ident().text, type: ptype, start: pstart });
          if (this.eat('=')) this.expression(); // default values are ignored
        } while (this.eat(','));
      }
      this.expect(')');
      let body: Expr | Block;
      if (this.eat('=>')) {
        body = this.expression();
        this.expect(';');
      } else body = this.block();
      return { kind: 'LocalFunction', name: nameTok.text, returnType: type, params, body, start, end: this.prevEnd };
    }
    if (!(this.is('=') || this.is(';') || this.is(',') || this.is('in') || this.is(')'))) {
      this.pos = save;
      return undefined;
    }
    const vars: VarDeclarator[] = [];
    let name = nameTok;
    for (;;) {
      let init: Expr | undefined;
      if (this.eat('=')) init = this.is('{') && type && type.ranks.length > 0 ? this.nestedArrayTyped(type) : this.expression();
      vars.push({ name: name.text, start: name.start, init });
      if (!this.eat(',')) break;
      name = this.ident();
    }
    return { kind: 'VarDecl', type, vars, isConst: false, start, end: this.prevEnd };
  }

  private nestedArrayTyped(type: TypeNode): Expr {
    const start = this.t.start;
    const items = this.arrayItems();
    return { kind: 'NewArray', type: { ...type, ranks: type.ranks.slice(1) }, sizes: [], items, start, end: this.prevEnd };
  }

  private tryStatement(): Stmt {
    const start = this.expect('try').start;
    const body = this.block();
    const catches: { type: TypeNode | undefined; name: string | undefined; filter: Expr | undefined; body: Block }[] = [];
    while (this.is('catch')) {
      this.pos++;
      let type: TypeNode | undefined;
      let name: string | undefined;
      if (this.eat('(')) {
        type = this.type();
        if (this.t.kind === 'ident') name = this.ident().text;
        this.expect(')');
      }
      let filter: Expr | undefined;
      if (this.isIdent(this.t, 'when')) {
        this.pos++;
        this.expect('(');
        filter = this.expression();
        this.expect(')');
      }
      catches.push({ type, name, filter, body: this.block() });
    }
    let fin: Block | undefined;
    if (this.eat('finally')) fin = this.block();
    if (catches.length === 0 && !fin) this.fail("'catch' or 'finally' expected");
    return { kind: 'Try', body, catches, finally: fin, start, end: this.prevEnd };
  }

  private switchStatement(): Stmt {
    const start = this.expect('switch').start;
    this.expect('(');
    const value = this.expression();
    this.expect(')');
    this.expect('{');
    const sections: { labels: (Expr | 'default')[]; body: Stmt[] }[] = [];
    while (!this.is('}')) {
      const labels: (Expr | 'default')[] = [];
      while (this.is('case') || this.is('default')) {
        if (this.eat('default')) labels.push('default');
        else {
          this.pos++;
          labels.push(this.expression());
        }
        this.expect(':');
      }
      if (labels.length === 0) this.fail("'case' or 'default' expected");
      const body: Stmt[] = [];
      while (!this.is('case') && !this.is('default') && !this.is('}')) {
        if (this.t.kind === 'eof') this.fail("'}' expected");
        body.push(this.statement());
      }
      sections.push({ labels, body });
    }
    this.pos++;
    return { kind: 'Switch', value, sections, start, end: this.prevEnd };
  }
}
