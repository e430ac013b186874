/**
 * A Liquid subset for set-body template="liquid" (set-body-policy.md: DotLiquid in C# mode, so
 * filter names are PascalCase). Parsed once at load; rendered per request against `context`
 * (Request, Response, Variables …) and `body` (the message body as JSON, when it is JSON).
 *
 * Supported: {{ output | Filter: args }} with {{- -}} whitespace control; {% assign %}, {% if %} /
 * {% elsif %} / {% else %} / {% endif %}, {% unless %}, {% for x in list %} … {% endfor %} (with
 * forloop.index, forloop.first, forloop.last), {% comment %}, {% raw %}; paths with .Name, ["key"]
 * and [index]; ==, !=, <, >, <=, >=, contains, and, or. Anything else is a load-time error.
 */

export class LiquidError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

type Expr =
  | { k: 'lit'; v: unknown }
  | { k: 'path'; root: string; steps: (string | Expr)[] };

interface Filter {
  name: string;
  args: Expr[];
}

type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; e: Expr; filters: Filter[] }
  | { t: 'assign'; name: string; e: Expr; filters: Filter[] }
  | { t: 'if'; branches: { cond: Cond | undefined; body: Node[] }[] }
  | { t: 'for'; name: string; e: Expr; body: Node[] };

type Cond = { k: 'and'; a: Cond; b: Cond } | { k: 'or'; a: Cond; b: Cond } | { k: 'not'; c: Cond } | { k: 'cmp'; op: string; a: Expr; b: Expr | undefined };

// ---------------------------------------------------------------------------------------------
// Parsing

function tokenizeExpr(src: string, at: number): string[] {
  const out: string[] = [];
  const re = /\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|==|!=|<=|>=|<|>|\.\.|[A-Za-z_][\w-]*\??|[.[\]|:,()])/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new LiquidError(`unexpected '${src.slice(i).trim()[0]}' in '${src.trim()}'`, at);
    out.push(m[1]!);
    i = re.lastIndex;
  }
  return out;
}

class ExprParser {
  i = 0;
  constructor(
    readonly toks: string[],
    readonly at: number,
  ) {}
  peek(): string | undefined {
    return this.toks[this.i];
  }
  next(): string {
    const t = this.toks[this.i++];
    if (t === undefined) throw new LiquidError('unexpected end of expression', this.at);
    return t;
  }
  expect(t: string): void {
    const got = this.next();
    if (got !== t) throw new LiquidError(`'${t}' expected, found '${got}'`, this.at);
  }
  primary(): Expr {
    const t = this.next();
    if (t.startsWith("'") || t.startsWith('"')) return { k: 'lit', v: t.slice(1, -1).replace(/\\(.)/g, '$1') };
    if (/^-?\d/.test(t)) return { k: 'lit', v: Number(t) };
    if (t === 'true' || t === 'false') return { k: 'lit', v: t === 'true' };
    if (t === 'nil' || t === 'null') return { k: 'lit', v: null };
    if (t === 'empty' || t === 'blank') return { k: 'lit', v: '' };
    if (!/^[A-Za-z_]/.test(t)) throw new LiquidError(`unexpected '${t}'`, this.at);
    const steps: (string | Expr)[] = [];
    for (;;) {
      if (this.peek() === '.') {
        this.next();
        steps.push(this.next());
      } else if (this.peek() === '[') {
        this.next();
        steps.push(this.primary());
        this.expect(']');
      } else break;
    }
    return { k: 'path', root: t, steps };
  }
  filters(): Filter[] {
    const out: Filter[] = [];
    while (this.peek() === '|') {
      this.next();
      const name = this.next();
      const args: Expr[] = [];
      if (this.peek() === ':') {
        this.next();
        args.push(this.primary());
        while (this.peek() === ',') {
          this.next();
          args.push(this.primary());
        }
      }
      if (!FILTERS[name.toLowerCase()]) throw new LiquidError(`unknown filter '${name}'`, this.at);
      out.push({ name: name.toLowerCase(), args });
    }
    return out;
  }
  condition(): Cond {
    let left = this.comparison();
    while (this.peek() === 'and' || this.peek() === 'or') {
      const k = this.next();
      left = k === 'and' ? { k: 'and', a: left, b: this.comparison() } : { k: 'or', a: left, b: this.comparison() };
    }
    return left;
  }
  comparison(): Cond {
    const a = this.primary();
    const op = this.peek();
    if (op && ['==', '!=', '<', '>', '<=', '>=', 'contains'].includes(op)) {
      this.next();
      return { k: 'cmp', op, a, b: this.primary() };
    }
    return { k: 'cmp', op: 'truthy', a, b: undefined };
  }
  end(): void {
    if (this.i < this.toks.length) throw new LiquidError(`unexpected '${this.toks[this.i]}'`, this.at);
  }
}

/** Parses a template; throws a LiquidError with an offset into `src`. */
export function parseLiquid(src: string): Node[] {
  const re = /\{\{(-?)([\s\S]*?)(-?)\}\}|\{%(-?)\s*([\s\S]*?)\s*(-?)%\}/g;
  type Frame = { kind: 'root' | 'if' | 'for' | 'unless'; nodes: Node[]; node?: Node };
  const root: Frame = { kind: 'root', nodes: [] };
  const stack: Frame[] = [root];
  let last = 0;
  let trimNext = false;
  let m: RegExpExecArray | null;
  const top = () => stack[stack.length - 1]!;
  const pushText = (s: string, trimEnd: boolean) => {
    let t = s;
    if (trimNext) t = t.replace(/^\s+/, '');
    if (trimEnd) t = t.replace(/\s+$/, '');
    trimNext = false;
    if (t) top().nodes.push({ t: 'text', s: t });
  };
  while ((m = re.exec(src))) {
    const at = m.index;
    const isOut = m[0].startsWith('{{');
    pushText(src.slice(last, at), (isOut ? m[1] : m[4]) === '-');
    last = re.lastIndex;
    trimNext = (isOut ? m[3] : m[6]) === '-';
    if (isOut) {
      const p = new ExprParser(tokenizeExpr(m[2]!, at), at);
      const e = p.primary();
      const filters = p.filters();
      p.end();
      top().nodes.push({ t: 'out', e, filters });
      continue;
    }
    const body = m[5]!;
    const word = /^\w+/.exec(body)?.[0] ?? '';
    const rest = body.slice(word.length);
    switch (word) {
      case 'comment': {
        const endRe = /\{%-?\s*endcomment\s*-?%\}/g;
        endRe.lastIndex = last;
        const e = endRe.exec(src);
        if (!e) throw new LiquidError('{% comment %} is never closed', at);
        last = re.lastIndex = endRe.lastIndex;
        break;
      }
      case 'raw': {
        const endRe = /\{%-?\s*endraw\s*-?%\}/g;
        endRe.lastIndex = last;
        const e = endRe.exec(src);
        if (!e) throw new LiquidError('{% raw %} is never closed', at);
        top().nodes.push({ t: 'text', s: src.slice(last, e.index) });
        last = re.lastIndex = endRe.lastIndex;
        break;
      }
      case 'assign': {
        const eq = rest.indexOf('=');
        if (eq < 0) throw new LiquidError('{% assign name = value %}', at);
        const name = rest.slice(0, eq).trim();
        const p = new ExprParser(tokenizeExpr(rest.slice(eq + 1), at), at);
        const e = p.primary();
        const filters = p.filters();
        p.end();
        top().nodes.push({ t: 'assign', name, e, filters });
        break;
      }
      case 'if':
      case 'unless': {
        const p = new ExprParser(tokenizeExpr(rest, at), at);
        const cond = p.condition();
        p.end();
        const node: Node = { t: 'if', branches: [{ cond: word === 'unless' ? negate(cond) : cond, body: [] }] };
        top().nodes.push(node);
        stack.push({ kind: word === 'if' ? 'if' : 'unless', nodes: (node as { branches: { body: Node[] }[] }).branches[0]!.body, node });
        break;
      }
      case 'elsif':
      case 'else': {
        const f = top();
        if (f.kind !== 'if' && f.kind !== 'unless') throw new LiquidError(`{% ${word} %} outside {% if %}`, at);
        const node = f.node as { t: 'if'; branches: { cond: Cond | undefined; body: Node[] }[] };
        let cond: Cond | undefined;
        if (word === 'elsif') {
          const p = new ExprParser(tokenizeExpr(rest, at), at);
          cond = p.condition();
          p.end();
        }
        const branch = { cond, body: [] as Node[] };
        node.branches.push(branch);
        f.nodes = branch.body;
        break;
      }
      case 'endif':
      case 'endunless': {
        const f = stack.pop()!;
        if (f.kind !== 'if' && f.kind !== 'unless') throw new LiquidError(`{% ${word} %} without {% if %}`, at);
        break;
      }
      case 'for': {
        const fm = /^\s*(\w+)\s+in\s+([\s\S]+)$/.exec(rest);
        if (!fm) throw new LiquidError('{% for item in list %}', at);
        const p = new ExprParser(tokenizeExpr(fm[2]!, at), at);
        const e = p.primary();
        p.end();
        const node: Node = { t: 'for', name: fm[1]!, e, body: [] };
        top().nodes.push(node);
        stack.push({ kind: 'for', nodes: (node as { body: Node[] }).body, node });
        break;
      }
      case 'endfor': {
        const f = stack.pop()!;
        if (f.kind !== 'for') throw new LiquidError('{% endfor %} without {% for %}', at);
        break;
      }
      default:
        throw new LiquidError(`the Liquid tag '${word || body}' is not supported`, at);
    }
  }
  pushText(src.slice(last), false);
  if (stack.length > 1) throw new LiquidError(`{% ${stack[stack.length - 1]!.kind} %} is never closed`, src.length);
  return root.nodes;
}

function negate(c: Cond): Cond {
  return { k: 'not', c };
}

// ---------------------------------------------------------------------------------------------
// Rendering

type Scope = Map<string, unknown>;

function member(v: unknown, key: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (typeof key === 'number') return v[key < 0 ? v.length + key : key];
    if (key === 'size' || key === 'Size' || key === 'Count') return v.length;
    if (key === 'first' || key === 'First') return v[0];
    if (key === 'last' || key === 'Last') return v[v.length - 1];
    return undefined;
  }
  if (typeof v === 'string' && (key === 'size' || key === 'Length')) return v.length;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const k = String(key);
    if (k in o) return o[k];
    const lower = k.toLowerCase();
    for (const name of Object.keys(o)) if (name.toLowerCase() === lower) return o[name];
  }
  return undefined;
}

function evalExpr(e: Expr, scope: Scope): unknown {
  if (e.k === 'lit') return e.v;
  let v: unknown = scope.has(e.root) ? scope.get(e.root) : undefined;
  for (const s of e.steps) v = member(v, typeof s === 'string' ? s : evalExpr(s, scope));
  return v;
}

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(str).join('');
  return JSON.stringify(v);
}

const FILTERS: Record<string, (v: unknown, args: unknown[]) => unknown> = {
  default: (v, [d]) => (v === null || v === undefined || v === '' || v === false ? d : v),
  upcase: (v) => str(v).toUpperCase(),
  downcase: (v) => str(v).toLowerCase(),
  capitalize: (v) => str(v).charAt(0).toUpperCase() + str(v).slice(1),
  size: (v) => (Array.isArray(v) ? v.length : str(v).length),
  append: (v, [a]) => str(v) + str(a),
  prepend: (v, [a]) => str(a) + str(v),
  replace: (v, [a, b]) => str(v).split(str(a)).join(str(b)),
  remove: (v, [a]) => str(v).split(str(a)).join(''),
  join: (v, [sep]) => (Array.isArray(v) ? v.map(str).join(sep === undefined ? ' ' : str(sep)) : str(v)),
  split: (v, [sep]) => str(v).split(str(sep)),
  first: (v) => (Array.isArray(v) ? v[0] : str(v)[0]),
  last: (v) => (Array.isArray(v) ? v[v.length - 1] : str(v).slice(-1)),
  strip: (v) => str(v).trim(),
  lstrip: (v) => str(v).trimStart(),
  rstrip: (v) => str(v).trimEnd(),
  escape: (v) => str(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
  urlencode: (v) => encodeURIComponent(str(v)),
  plus: (v, [a]) => Number(v) + Number(a),
  minus: (v, [a]) => Number(v) - Number(a),
};

function applyFilters(v: unknown, filters: Filter[], scope: Scope): unknown {
  let x = v;
  for (const f of filters) x = FILTERS[f.name]!(x, f.args.map((a) => evalExpr(a, scope)));
  return x;
}

function truthy(v: unknown): boolean {
  return v !== null && v !== undefined && v !== false;
}

function evalCond(c: Cond, scope: Scope): boolean {
  if (c.k === 'and') return evalCond(c.a, scope) && evalCond(c.b, scope);
  if (c.k === 'or') return evalCond(c.a, scope) || evalCond(c.b, scope);
  if (c.k === 'not') return !evalCond(c.c, scope);
  const a = evalExpr(c.a, scope);
  if (c.op === 'truthy') return truthy(a);
  const b = evalExpr(c.b!, scope);
  switch (c.op) {
    case '==':
      return a === b || (a != null && b != null && str(a) === str(b));
    case '!=':
      return !(a === b || (a != null && b != null && str(a) === str(b)));
    case '<':
      return Number(a) < Number(b);
    case '>':
      return Number(a) > Number(b);
    case '<=':
      return Number(a) <= Number(b);
    case '>=':
      return Number(a) >= Number(b);
    case 'contains':
      return Array.isArray(a) ? a.some((x) => str(x) === str(b)) : str(a).includes(str(b));
  }
  return false;
}

function iterable(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([Key, Value]) => ({ Key, Value }));
  return [];
}

const MAX_OUTPUT = 4 * 1024 * 1024;

function render(nodes: Node[], scope: Scope, out: string[], budget: { n: number }): void {
  for (const n of nodes) {
    if (--budget.n < 0) throw new Error('the Liquid template did too much work');
    switch (n.t) {
      case 'text':
        out.push(n.s);
        break;
      case 'out':
        out.push(str(applyFilters(evalExpr(n.e, scope), n.filters, scope)));
        break;
      case 'assign':
        scope.set(n.name, applyFilters(evalExpr(n.e, scope), n.filters, scope));
        break;
      case 'if':
        for (const b of n.branches) {
          if (!b.cond || evalCond(b.cond, scope)) {
            render(b.body, scope, out, budget);
            break;
          }
        }
        break;
      case 'for': {
        const items = iterable(evalExpr(n.e, scope));
        const saved = scope.get(n.name);
        const savedLoop = scope.get('forloop');
        items.forEach((item, i) => {
          scope.set(n.name, item);
          scope.set('forloop', { index: i + 1, index0: i, first: i === 0, last: i === items.length - 1, length: items.length });
          render(n.body, scope, out, budget);
        });
        scope.set(n.name, saved);
        scope.set('forloop', savedLoop);
        break;
      }
    }
  }
}

/** Renders parsed nodes with the given top-level variables (context, body …). */
export function renderLiquid(nodes: Node[], variables: Record<string, unknown>): string {
  const out: string[] = [];
  render(nodes, new Map(Object.entries(variables)), out, { n: 1_000_000 });
  const s = out.join('');
  if (s.length > MAX_OUTPUT) throw new Error('the Liquid template rendered more than 4 MiB');
  return s;
}

export type LiquidTemplate = Node[];
