/**
 * The Bicep lexer (after Azure/bicep src/Bicep.Core/Parsing/Lexer.cs): tokens with offsets;
 * newlines are tokens (they end statements and separate items); comments and pragmas are
 * trivia. A string token carries its literal pieces and, for each `${…}` hole, the tokens inside
 * it, so the parser can parse holes as expressions. Errors are collected, never thrown.
 */
export type TokenKind =
  | 'ident'
  | 'int'
  | 'string'
  | 'newline'
  | 'eof'
  | 'punct'
  | 'error';

export interface Token {
  readonly kind: TokenKind;
  /** The punctuation or operator text, the identifier, or the digits. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** For strings: literal pieces (n+1) around n holes. */
  readonly pieces?: string[];
  readonly holes?: Token[][];
  /** A multi-line (''') string. */
  readonly multiline?: boolean;
}

export interface LexError {
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

const PUNCT = [
  '...', '::', '??', '!=', '!~', '<=', '>=', '==', '=~', '=>', '&&', '||',
  '{', '}', '(', ')', '[', ']', '@', ',', '.', '?', ':', ';', '+', '-', '*', '/', '%', '^', '!', '<', '>', '=', '|',
];

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function lex(text: string, errors: LexError[]): Token[] {
  const lx = new Lexer(text, errors);
  return lx.run(0, false);
}

const MAX_HOLE_DEPTH = 64;

class Lexer {
  pos = 0;
  constructor(
    readonly text: string,
    readonly errors: LexError[],
    readonly depth = 0,
  ) {}

  err(message: string, start: number, end = start + 1): void {
    this.errors.push({ message, start, end });
  }

  /** Lexes until EOF (top level) or until the `}` closing a string hole (inHole). */
  run(start: number, inHole: boolean): Token[] {
    const t = this.text;
    this.pos = start;
    const out: Token[] = [];
    let braceDepth = 0;
    if (!inHole && t.charCodeAt(0) === 0xfeff) this.pos = 1;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      const s = this.pos;
      if (c === 32 || c === 9) {
        this.pos++;
        continue;
      }
      if (c === 10 || c === 13) {
        if (inHole) {
          this.err('a string interpolation hole cannot span lines', s);
          out.push({ kind: 'eof', text: '', start: s, end: s });
          return out;
        }
        while (this.pos < t.length && (t.charCodeAt(this.pos) === 10 || t.charCodeAt(this.pos) === 13 || t.charCodeAt(this.pos) === 32 || t.charCodeAt(this.pos) === 9)) {
          // a run of newlines (with blank-line whitespace) is one token; comments between them are trivia
          this.pos++;
          if (t.startsWith('//', this.pos)) this.skipLineComment();
        }
        out.push({ kind: 'newline', text: '\n', start: s, end: this.pos });
        continue;
      }
      if (t.startsWith('//', this.pos)) {
        this.skipLineComment();
        continue;
      }
      if (t.startsWith('/*', this.pos)) {
        const e = t.indexOf('*/', this.pos + 2);
        if (e < 0) {
          this.err('unterminated multi-line comment', s, t.length);
          this.pos = t.length;
        } else this.pos = e + 2;
        continue;
      }
      if (c === 35 /* # */ && this.atLineStart(s)) {
        this.skipLineComment();
        continue;
      }
      if (isIdentStart(c)) {
        let e = this.pos + 1;
        while (e < t.length && isIdentPart(t.charCodeAt(e))) e++;
        out.push({ kind: 'ident', text: t.slice(s, e), start: s, end: e });
        this.pos = e;
        continue;
      }
      if (isDigit(c)) {
        let e = this.pos + 1;
        while (e < t.length && isDigit(t.charCodeAt(e))) e++;
        out.push({ kind: 'int', text: t.slice(s, e), start: s, end: e });
        this.pos = e;
        continue;
      }
      if (c === 39 /* ' */) {
        out.push(t.startsWith("'''", s) ? this.multiline(s, 0) : this.string(s));
        continue;
      }
      if (c === 36 /* $ */) {
        let n = 0;
        while (t.charCodeAt(s + n) === 36) n++;
        if (t.startsWith("'''", s + n)) {
          out.push(this.multiline(s, n));
          continue;
        }
      }
      if (c === 34 /* " */) {
        this.err('strings use single quotes in Bicep', s);
        this.pos++;
        out.push({ kind: 'error', text: '"', start: s, end: s + 1 });
        continue;
      }
      const p = PUNCT.find((x) => t.startsWith(x, s));
      if (p) {
        if (inHole) {
          if (p === '{') braceDepth++;
          else if (p === '}') {
            if (braceDepth === 0) {
              out.push({ kind: 'eof', text: '', start: s, end: s });
              this.pos = s + 1;
              return out;
            }
            braceDepth--;
          }
        }
        out.push({ kind: 'punct', text: p, start: s, end: s + p.length });
        this.pos = s + p.length;
        continue;
      }
      const ch = String.fromCodePoint(t.codePointAt(s)!);
      this.err(`unexpected character '${ch}'`, s);
      out.push({ kind: 'error', text: ch, start: s, end: s + ch.length });
      this.pos += ch.length;
    }
    if (inHole) this.err('unterminated string interpolation', start - 2, t.length);
    out.push({ kind: 'eof', text: '', start: t.length, end: t.length });
    return out;
  }

  atLineStart(s: number): boolean {
    for (let i = s - 1; i >= 0; i--) {
      const c = this.text.charCodeAt(i);
      if (c === 10 || c === 13) return true;
      if (c !== 32 && c !== 9) return false;
    }
    return true;
  }

  skipLineComment(): void {
    const t = this.text;
    while (this.pos < t.length && t.charCodeAt(this.pos) !== 10 && t.charCodeAt(this.pos) !== 13) this.pos++;
  }

  string(s: number): Token {
    const t = this.text;
    const pieces: string[] = [];
    const holes: Token[][] = [];
    let cur = '';
    let i = s + 1;
    for (;;) {
      if (i >= t.length || t.charCodeAt(i) === 10 || t.charCodeAt(i) === 13) {
        this.err('unterminated string', s, i);
        pieces.push(cur);
        this.pos = i;
        return { kind: 'string', text: t.slice(s, i), start: s, end: i, pieces, holes };
      }
      const c = t[i]!;
      if (c === "'") {
        pieces.push(cur);
        this.pos = i + 1;
        return { kind: 'string', text: t.slice(s, i + 1), start: s, end: i + 1, pieces, holes };
      }
      if (c === '\\') {
        const n = t[i + 1];
        const simple: Record<string, string> = { '\\': '\\', "'": "'", n: '\n', r: '\r', t: '\t', $: '$' };
        if (n !== undefined && simple[n] !== undefined) {
          cur += simple[n];
          i += 2;
          continue;
        }
        if (n === 'u' && t[i + 2] === '{') {
          const e = t.indexOf('}', i + 3);
          const hex = e > 0 ? t.slice(i + 3, e) : '';
          if (/^[0-9a-fA-F]{1,6}$/.test(hex) && parseInt(hex, 16) <= 0x10ffff) {
            cur += String.fromCodePoint(parseInt(hex, 16));
            i = e + 1;
            continue;
          }
        }
        this.err(`unknown escape sequence '\\${n ?? ''}' (use \\\\ \\' \\n \\r \\t \\$ or \\u{…})`, i, i + 2);
        i += 2;
        continue;
      }
      if (c === '$' && t[i + 1] === '{') {
        if (this.depth >= MAX_HOLE_DEPTH) {
          this.err('string interpolations are nested too deeply', i);
          this.pos = t.length;
          pieces.push(cur);
          return { kind: 'string', text: t.slice(s), start: s, end: t.length, pieces, holes };
        }
        pieces.push(cur);
        cur = '';
        const sub = new Lexer(t, this.errors, this.depth + 1);
        holes.push(sub.run(i + 2, true));
        i = sub.pos;
        continue;
      }
      cur += c;
      i++;
    }
  }

  /** '''raw''' or $'''…${x}…''' (n = number of leading $). */
  multiline(s: number, n: number): Token {
    const t = this.text;
    let i = s + n + 3;
    if (t.startsWith('\r\n', i)) i += 2;
    else if (t[i] === '\n') i += 1;
    const pieces: string[] = [];
    const holes: Token[][] = [];
    let cur = '';
    for (;;) {
      if (i >= t.length) {
        this.err('unterminated multi-line string', s, t.length);
        pieces.push(cur);
        this.pos = t.length;
        return { kind: 'string', text: t.slice(s), start: s, end: t.length, pieces, holes, multiline: true };
      }
      if (t.startsWith("'''", i)) {
        let q = i;
        while (t[q] === "'") q++;
        cur += t.slice(i, q - 3);
        pieces.push(cur);
        this.pos = q;
        return { kind: 'string', text: t.slice(s, q), start: s, end: q, pieces, holes, multiline: true };
      }
      if (n > 0 && t[i] === '$') {
        let d = 0;
        while (t[i + d] === '$') d++;
        if (d >= n && t[i + d] === '{') {
          if (this.depth >= MAX_HOLE_DEPTH) {
            this.err('string interpolations are nested too deeply', i);
            this.pos = t.length;
            pieces.push(cur);
            return { kind: 'string', text: t.slice(s), start: s, end: t.length, pieces, holes, multiline: true };
          }
          cur += '$'.repeat(d - n);
          pieces.push(cur);
          cur = '';
          const sub = new Lexer(t, this.errors, this.depth + 1);
          holes.push(sub.run(i + d + 1, true));
          i = sub.pos;
          continue;
        }
        cur += '$'.repeat(d);
        i += d;
        continue;
      }
      cur += t[i];
      i++;
    }
  }
}
