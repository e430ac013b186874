/**
 * ARM template expressions: a JSON string "[func(args).prop[0]]" is an expression, "[[…" is the
 * literal "[…" (one bracket removed). Grammar (ARM's, as `bicep build` writes it):
 *   expr     := literal | call accessor*
 *   call     := IDENT ('.' IDENT)? '(' (expr (',' expr)*)? ')'
 *   accessor := '.' IDENT | '[' expr ']'
 *   literal  := "'" ([^'] | "''")* "'" | '-'? DIGITS
 */
export type ArmExpr =
  | { k: 'str'; v: string; at: number }
  | { k: 'num'; v: number; at: number }
  | { k: 'call'; name: string; args: ArmExpr[]; at: number }
  | { k: 'prop'; base: ArmExpr; name: string; at: number }
  | { k: 'idx'; base: ArmExpr; index: ArmExpr; at: number };

export class ArmSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** Is this JSON string an expression (rather than a literal, or an escaped "[[" literal)? */
export function isArmExpression(s: string): boolean {
  return s.length >= 2 && s[0] === '[' && s[s.length - 1] === ']' && s[1] !== '[';
}

/** The literal value of a non-expression string ("[[x]" → "[x]"). */
export function armLiteral(s: string): string {
  return s.startsWith('[[') ? s.slice(1) : s;
}

const cache = new Map<string, ArmExpr>();

export function parseArmExpression(s: string): ArmExpr {
  const hit = cache.get(s);
  if (hit) return hit;
  const p = new P(s.slice(1, -1));
  p.ws();
  const e = p.expr(0);
  p.ws();
  if (p.i < p.s.length) throw new ArmSyntaxError(`unexpected '${p.s[p.i]}' in the expression`, p.i + 1);
  if (cache.size > 5000) cache.clear();
  cache.set(s, e);
  return e;
}

class P {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
  expr(depth: number): ArmExpr {
    if (depth > 200) throw new ArmSyntaxError('the expression is nested too deeply', this.i);
    this.ws();
    const at = this.i;
    const c = this.s[this.i];
    let e: ArmExpr;
    if (c === "'") {
      let v = '';
      this.i++;
      for (;;) {
        if (this.i >= this.s.length) throw new ArmSyntaxError('unterminated string literal', at);
        const ch = this.s[this.i]!;
        if (ch === "'") {
          if (this.s[this.i + 1] === "'") {
            v += "'";
            this.i += 2;
            continue;
          }
          this.i++;
          break;
        }
        v += ch;
        this.i++;
      }
      e = { k: 'str', v, at };
    } else if (c !== undefined && /[-\d]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(this.s.slice(this.i));
      if (!m) throw new ArmSyntaxError('bad number', at);
      this.i += m[0].length;
      e = { k: 'num', v: Number(m[0]), at };
    } else if (c !== undefined && /[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)?/.exec(this.s.slice(this.i))!;
      this.i += m[0].length;
      this.ws();
      if (this.s[this.i] !== '(') throw new ArmSyntaxError(`expected '(' after the function name '${m[0]}'`, this.i);
      this.i++;
      const args: ArmExpr[] = [];
      this.ws();
      if (this.s[this.i] === ')') this.i++;
      else
        for (;;) {
          args.push(this.expr(depth + 1));
          this.ws();
          if (this.s[this.i] === ',') {
            this.i++;
            continue;
          }
          if (this.s[this.i] === ')') {
            this.i++;
            break;
          }
          throw new ArmSyntaxError(`expected ',' or ')' in the arguments of '${m[0]}'`, this.i);
        }
      e = { k: 'call', name: m[0], args, at };
    } else throw new ArmSyntaxError(`unexpected ${c === undefined ? 'end of the expression' : `'${c}'`}`, this.i);
    for (;;) {
      this.ws();
      if (this.s[this.i] === '.') {
        this.i++;
        this.ws();
        const m = /^[A-Za-z_$][\w$-]*/.exec(this.s.slice(this.i));
        if (!m) throw new ArmSyntaxError('expected a property name after .', this.i);
        this.i += m[0].length;
        e = { k: 'prop', base: e, name: m[0], at: this.i };
      } else if (this.s[this.i] === '[') {
        this.i++;
        const index = this.expr(depth + 1);
        this.ws();
        if (this.s[this.i] !== ']') throw new ArmSyntaxError("expected ']'", this.i);
        this.i++;
        e = { k: 'idx', base: e, index, at: this.i };
      } else return e;
    }
  }
}
