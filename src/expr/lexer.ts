/**
 * The C# lexer for policy expressions: identifiers and keywords, numeric literals with suffixes,
 * regular/verbatim/interpolated strings, chars, comments and operators. Positions are offsets into
 * the policy file (base + index into the expression text).
 */

export type TokenKind = 'ident' | 'keyword' | 'number' | 'string' | 'char' | 'interp' | 'punct' | 'eof';

export interface InterpHole {
  /** The hole's expression text and the file offset where it starts. */
  readonly text: string;
  readonly start: number;
  readonly align: { text: string; start: number } | undefined;
  readonly format: string | undefined;
}

export interface Token {
  readonly kind: TokenKind;
  /** Identifier name, keyword, punctuation, or the literal's source text. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Decoded value: string/char text, number value. */
  readonly value?: unknown;
  /** For numbers: 'int' | 'long' | 'uint' | 'ulong' | 'double' | 'float' | 'decimal'. */
  readonly numType?: 'int' | 'long' | 'uint' | 'ulong' | 'double' | 'float' | 'decimal';
  readonly parts?: readonly (string | InterpHole)[];
  /** True when the identifier was written with a leading '@' (never a keyword). */
  readonly verbatim?: boolean;
}

export class LexError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

export const KEYWORDS = new Set([
  'abstract', 'as', 'base', 'bool', 'break', 'byte', 'case', 'catch', 'char', 'checked', 'class', 'const', 'continue',
  'decimal', 'default', 'delegate', 'do', 'double', 'else', 'enum', 'event', 'explicit', 'extern', 'false', 'finally',
  'fixed', 'float', 'for', 'foreach', 'goto', 'if', 'implicit', 'in', 'int', 'interface', 'internal', 'is', 'lock',
  'long', 'namespace', 'new', 'null', 'object', 'operator', 'out', 'override', 'params', 'private', 'protected',
  'public', 'readonly', 'ref', 'return', 'sbyte', 'sealed', 'short', 'sizeof', 'stackalloc', 'static', 'string',
  'struct', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'uint', 'ulong', 'unchecked', 'unsafe', 'ushort',
  'using', 'virtual', 'void', 'volatile', 'while',
]);

const PUNCTS = [
  '<<=', '??=', '...',
  '?.', '?[', '??', '=>', '==', '!=', '<=', '>=', '&&', '||', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<', '::', '->',
  '{', '}', '(', ')', '[', ']', ';', ',', '.', ':', '?', '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '=', '<', '>',
];

function isIdentStart(c: string): boolean {
  return /[A-Za-z_\p{L}]/u.test(c);
}
function isIdentPart(c: string): boolean {
  return /[A-Za-z0-9_\p{L}\p{Nd}\p{Mn}\p{Mc}\p{Pc}]/u.test(c);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "'": "'", '"': '"', '\\': '\\', '0': '\0', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

export class Lexer {
  private i = 0;
  constructor(private readonly src: string, private readonly base: number) {}

  tokenize(): Token[] {
    const out: Token[] = [];
    for (;;) {
      const t = this.next();
      out.push(t);
      if (t.kind === 'eof') return out;
    }
  }

  private err(msg: string, at = this.i): never {
    throw new LexError(msg, this.base + at);
  }

  private skipTrivia(): void {
    const s = this.src;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) return;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
        this.i++;
      } else if (c === '/' && s[this.i + 1] === '/') {
        while (this.i < s.length && s[this.i] !== '\n' && s[this.i] !== '\r') this.i++;
      } else if (c === '/' && s[this.i + 1] === '*') {
        const end = s.indexOf('*/', this.i + 2);
        if (end < 0) this.err('unterminated comment');
        this.i = end + 2;
      } else if (c === '#' && (this.i === 0 || /[\n\r]\s*$/.test(s.slice(Math.max(0, this.i - 80), this.i)))) {
        // preprocessor directive line (#region …): ignored as C# does for these
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else return;
    }
  }

  next(): Token {
    this.skipTrivia();
    const s = this.src;
    const start = this.i;
    const c = s[start];
    if (c === undefined) return { kind: 'eof', text: '', start: this.base + start, end: this.base + start };
    const tok = (kind: TokenKind, extra?: Partial<Token>): Token => ({ kind, text: s.slice(start, this.i), start: this.base + start, end: this.base + this.i, ...extra });

    // strings
    if (c === '"') return this.regularString(start);
    if (c === '@' && s[start + 1] === '"') return this.verbatimString(start);
    if ((c === '$' && s[start + 1] === '"') || (c === '$' && s[start + 1] === '@' && s[start + 2] === '"') || (c === '@' && s[start + 1] === '$' && s[start + 2] === '"')) {
      return this.interpolated(start);
    }
    if (c === "'") return this.charLiteral(start);
    // identifiers
    if (c === '@' && s[start + 1] !== undefined && isIdentStart(s[start + 1]!)) {
      this.i += 1;
      while (this.i < s.length && isIdentPart(s[this.i]!)) this.i++;
      return { kind: 'ident', text: s.slice(start + 1, this.i), start: this.base + start, end: this.base + this.i, verbatim: true };
    }
    if (isIdentStart(c)) {
      while (this.i < s.length && isIdentPart(s[this.i]!)) this.i++;
      const text = s.slice(start, this.i);
      return tok(KEYWORDS.has(text) ? 'keyword' : 'ident');
    }
    // numbers
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[start + 1] ?? ''))) return this.number(start);
    for (const p of PUNCTS) {
      if (s.startsWith(p, start)) {
        this.i += p.length;
        return tok('punct');
      }
    }
    this.err(`unexpected character '${c}'`);
  }

  private number(start: number): Token {
    const s = this.src;
    let numType: Token['numType'] = 'int';
    let value: number;
    if (s[start] === '0' && (s[start + 1] === 'x' || s[start + 1] === 'X' || s[start + 1] === 'b' || s[start + 1] === 'B')) {
      const hex = s[start + 1] === 'x' || s[start + 1] === 'X';
      this.i = start + 2;
      const re = hex ? /[0-9a-fA-F_]/ : /[01_]/;
      while (this.i < s.length && re.test(s[this.i]!)) this.i++;
      const digits = s.slice(start + 2, this.i).replace(/_/g, '');
      if (!digits) this.err('invalid numeric literal');
      value = Number(BigInt((hex ? '0x' : '0b') + digits));
      if (value > 0xffffffff) numType = 'long';
      else if (value > 0x7fffffff) numType = 'uint';
    } else {
      while (this.i < s.length && /[0-9_]/.test(s[this.i]!)) this.i++;
      let real = false;
      if (s[this.i] === '.' && /[0-9]/.test(s[this.i + 1] ?? '')) {
        real = true;
        this.i++;
        while (this.i < s.length && /[0-9_]/.test(s[this.i]!)) this.i++;
      }
      if ((s[this.i] === 'e' || s[this.i] === 'E') && /[0-9+-]/.test(s[this.i + 1] ?? '')) {
        real = true;
        this.i += 2;
        while (this.i < s.length && /[0-9]/.test(s[this.i]!)) this.i++;
      }
      value = Number(s.slice(start, this.i).replace(/_/g, ''));
      if (real) numType = 'double';
      else if (value > 0xffffffff) numType = 'long';
      else if (value > 0x7fffffff) numType = 'uint';
    }
    const suf = (s.slice(this.i, this.i + 2).match(/^(ul|lu|UL|LU|Ul|uL|Lu|lU|[uUlLfFdDmM])/) ?? [''])[0];
    this.i += suf.length;
    const sl = suf.toLowerCase();
    if (sl === 'u') numType = value > 0xffffffff ? 'ulong' : 'uint';
    else if (sl === 'l') numType = value > 0x7fffffffffffffff ? 'ulong' : 'long';
    else if (sl === 'ul' || sl === 'lu') numType = 'ulong';
    else if (sl === 'f') numType = 'float';
    else if (sl === 'd') numType = 'double';
    else if (sl === 'm') numType = 'decimal';
    if (this.i < s.length && isIdentPart(s[this.i]!)) this.err('invalid numeric literal');
    return { kind: 'number', text: s.slice(start, this.i), start: this.base + start, end: this.base + this.i, value, numType };
  }

  /** Reads one escape sequence after the backslash at this.i; returns the decoded text. */
  private escape(): string {
    const s = this.src;
    const e = s[this.i + 1];
    if (e === undefined) this.err('unterminated escape sequence');
    if (e in SIMPLE_ESCAPES) {
      this.i += 2;
      return SIMPLE_ESCAPES[e]!;
    }
    if (e === 'u' || e === 'U' || e === 'x') {
      const max = e === 'u' ? 4 : e === 'U' ? 8 : 4;
      let j = this.i + 2;
      while (j < s.length && j - (this.i + 2) < max && /[0-9a-fA-F]/.test(s[j]!)) j++;
      const hex = s.slice(this.i + 2, j);
      if (hex.length === 0 || (e !== 'x' && hex.length !== max)) this.err('invalid unicode escape sequence');
      this.i = j;
      return String.fromCodePoint(parseInt(hex, 16));
    }
    this.err(`unrecognized escape sequence '\\${e}'`);
  }

  private regularString(start: number): Token {
    const s = this.src;
    this.i = start + 1;
    let out = '';
    for (;;) {
      const c = s[this.i];
      if (c === undefined || c === '\n' || c === '\r') this.err('newline in constant (unterminated string literal)', start);
      if (c === '"') {
        this.i++;
        break;
      }
      if (c === '\\') out += this.escape();
      else {
        out += c;
        this.i++;
      }
    }
    return { kind: 'string', text: s.slice(start, this.i), start: this.base + start, end: this.base + this.i, value: out };
  }

  private verbatimString(start: number): Token {
    const s = this.src;
    this.i = start + 2;
    let out = '';
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.err('unterminated verbatim string literal', start);
      if (c === '"') {
        if (s[this.i + 1] === '"') {
          out += '"';
          this.i += 2;
          continue;
        }
        this.i++;
        break;
      }
      out += c;
      this.i++;
    }
    return { kind: 'string', text: s.slice(start, this.i), start: this.base + start, end: this.base + this.i, value: out };
  }

  private charLiteral(start: number): Token {
    const s = this.src;
    this.i = start + 1;
    let v: string;
    if (s[this.i] === '\\') v = this.escape();
    else {
      v = s[this.i] ?? '';
      if (v === '' || v === "'" || v === '\n') this.err('empty character literal', start);
      this.i++;
    }
    if (s[this.i] !== "'") this.err('too many characters in character literal', start);
    this.i++;
    return { kind: 'char', text: s.slice(start, this.i), start: this.base + start, end: this.base + this.i, value: v };
  }

  private interpolated(start: number): Token {
    const s = this.src;
    const verbatim = s[start + 1] === '@' || s[start] === '@';
    this.i = start + (verbatim ? 3 : 2);
    const parts: (string | InterpHole)[] = [];
    let text = '';
    for (;;) {
      const c = s[this.i];
      if (c === undefined || (!verbatim && (c === '\n' || c === '\r'))) this.err('unterminated interpolated string', start);
      if (c === '"') {
        if (verbatim && s[this.i + 1] === '"') {
          text += '"';
          this.i += 2;
          continue;
        }
        this.i++;
        break;
      }
      if (c === '{') {
        if (s[this.i + 1] === '{') {
          text += '{';
          this.i += 2;
          continue;
        }
        if (text) parts.push(text);
        text = '';
        parts.push(this.hole());
        continue;
      }
      if (c === '}') {
        if (s[this.i + 1] === '}') {
          text += '}';
          this.i += 2;
          continue;
        }
        this.err("a '}' character must be escaped (by doubling) in an interpolated string");
      }
      if (c === '\\' && !verbatim) {
        text += this.escape();
        continue;
      }
      text += c;
      this.i++;
    }
    if (text) parts.push(text);
    return { kind: 'interp', text: s.slice(start, this.i), start: this.base + start, end: this.base + this.i, parts };
  }

  /** At '{' of a hole: finds the expression, optional ',alignment' and ':format', up to the matching '}'. */
  private hole(): InterpHole {
    const s = this.src;
    const exprStart = this.i + 1;
    let depth = 0;
    let j = exprStart;
    let alignAt = -1;
    let formatAt = -1;
    while (j < s.length) {
      const c = s[j]!;
      if (c === '"' || c === "'" || (c === '@' && s[j + 1] === '"') || (c === '$' && (s[j + 1] === '"' || s[j + 1] === '@'))) {
        // skip a nested literal with a sub-lexer
        const sub = new Lexer(s, 0);
        sub.i = j;
        sub.next();
        j = sub.i;
        continue;
      }
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']') depth--;
      else if (c === '}') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && c === ',' && alignAt < 0) alignAt = j;
      else if (depth === 0 && c === ':' && s[j + 1] !== ':') {
        // `?:` inside a hole needs parentheses in C#, so a top-level ':' starts the format
        formatAt = j;
        break;
      }
      j++;
    }
    let end = j;
    let format: string | undefined;
    if (formatAt >= 0) {
      end = formatAt;
      let k = formatAt + 1;
      while (k < s.length && s[k] !== '}') k++;
      format = s.slice(formatAt + 1, k);
      j = k;
    }
    if (s[j] !== '}') this.err('unterminated interpolation hole', this.i);
    const exprEnd = alignAt >= 0 ? alignAt : end;
    const text = s.slice(exprStart, exprEnd);
    if (!text.trim()) this.err('empty expression in interpolation hole', this.i);
    this.i = j + 1;
    return {
      text,
      start: this.base + exprStart,
      align: alignAt >= 0 ? { text: s.slice(alignAt + 1, end), start: this.base + alignAt + 1 } : undefined,
      format,
    };
  }
}
