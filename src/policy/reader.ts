/**
 * The policy reader: policy XML as people write it — with raw quotes, '<' and '&&' inside @(…)
 * attribute values and @{…} bodies — into an element tree that keeps the offset of every element,
 * attribute and expression.
 *
 * Method: a light pre-scan walks the markup, finds each expression that starts an attribute value
 * or an element's text with a C#-aware bracket matcher (csharp-scan.ts), and replaces its
 * characters with placeholders of the same length (line breaks kept, so positions do not move).
 * What remains is XML, which saxes checks and tokenizes. Expressions are then put back, with
 * XML entities decoded (documents in the 'xml' format escape quotes as &quot;).
 */
import { SaxesParser } from 'saxes';
import type { Diagnostic } from '../core/diagnostics.js';
import { makeDiagnostic } from '../core/diagnostics.js';
import { SourceFile } from '../core/source.js';
import { scanExpression } from './csharp-scan.js';
import { PolicyCodes } from './errors.js';

/** An expression as it stands in the file: the text from '@' to its closing bracket. */
export interface ExpressionSource {
  /** Entity-decoded, named values substituted. */
  readonly text: string;
  /** Offset of the '@' in the file. */
  readonly offset: number;
}

export interface PolicyAttribute {
  readonly name: string;
  /** The literal value (entities decoded, named values substituted); '' for an expression. */
  readonly value: string;
  readonly expression?: ExpressionSource;
  /** Offset of the attribute name. */
  readonly offset: number;
}

export interface PolicyElement {
  readonly name: string;
  /** Offset of the '<'. */
  readonly offset: number;
  readonly attributes: readonly PolicyAttribute[];
  readonly children: readonly PolicyElement[];
  /** The element's own text (CDATA included), trimmed; '' when none. */
  readonly text: string;
  readonly textExpression?: ExpressionSource;
  /** Offset of the first non-space text character, or the element offset. */
  readonly textOffset: number;
  /** The element's content as written (between its start and end tags), for bodies that are markup. */
  readonly rawContent: string;
}

export interface ReadOptions {
  /** Named values for {{name}} substitution; undefined leaves {{…}} as written. */
  readonly namedValues?: ReadonlyMap<string, string>;
  /** Severity for a {{name}} that is not defined (default 'error'). */
  readonly unknownNamedValue?: 'error' | 'warning';
}

export interface ReadResult {
  readonly file: SourceFile;
  readonly root: PolicyElement | undefined;
  readonly diagnostics: Diagnostic[];
}

const PLACEHOLDER_BASE = 0xe000;
const PLACEHOLDER_FILL = '\uf8ff';
const MAX_EXPRESSIONS = 0xf8ff - 0xe000 - 1;

interface Tag {
  offset: number;
  attrOffsets: Map<string, number>;
}

interface Found {
  start: number;
  end: number;
  kind: 'attribute' | 'text';
}

const ENTITY = /&(quot|apos|lt|gt|amp|#[0-9]+|#x[0-9a-fA-F]+);/g;
function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (_m, e: string) => {
    switch (e) {
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Reads a policy document (or a fragment, or one element) from text. Never throws for bad input. */
export function readPolicyXml(path: string, text: string, options: ReadOptions = {}): ReadResult {
  const file = new SourceFile(path, text);
  const diagnostics: Diagnostic[] = [];
  const err = (code: string, message: string, offset: number) => diagnostics.push(makeDiagnostic('error', code as `GH_${string}`, message, { file, offset }));

  // 1. Pre-scan: tags, attribute positions and expressions.
  const tags: Tag[] = [];
  const found: Found[] = [];
  const n = text.length;
  let i = 0;
  let textStart = 0; // where the current text run started (after the last '>')
  while (i < n) {
    const c = text[i];
    if (c === '<') {
      if (text.startsWith('<!--', i)) {
        const e = text.indexOf('-->', i + 4);
        i = e < 0 ? n : e + 3;
        textStart = i;
        continue;
      }
      if (text.startsWith('<![CDATA[', i)) {
        const e = text.indexOf(']]>', i + 9);
        i = e < 0 ? n : e + 3;
        continue;
      }
      if (text.startsWith('<?', i) || text.startsWith('<!', i) || text.startsWith('</', i)) {
        const e = text.indexOf('>', i + 2);
        i = e < 0 ? n : e + 1;
        textStart = i;
        continue;
      }
      const tag: Tag = { offset: i, attrOffsets: new Map() };
      tags.push(tag);
      i++;
      while (i < n && !isSpace(text[i]) && text[i] !== '>' && text[i] !== '/') i++;
      // attributes
      for (;;) {
        while (i < n && isSpace(text[i])) i++;
        if (i >= n) break;
        if (text[i] === '>') {
          i++;
          break;
        }
        if (text[i] === '/' && text[i + 1] === '>') {
          i += 2;
          break;
        }
        const nameStart = i;
        while (i < n && !isSpace(text[i]) && text[i] !== '=' && text[i] !== '>' && text[i] !== '/') i++;
        if (i === nameStart) {
          i++; // let saxes report the odd character
          continue;
        }
        const attrName = text.slice(nameStart, i);
        if (!tag.attrOffsets.has(attrName)) tag.attrOffsets.set(attrName, nameStart);
        while (i < n && isSpace(text[i])) i++;
        if (text[i] !== '=') continue;
        i++;
        while (i < n && isSpace(text[i])) i++;
        const q = text[i];
        if (q !== '"' && q !== "'") continue;
        i++;
        if (text[i] === '@' && (text[i + 1] === '(' || text[i + 1] === '{')) {
          const r = scanExpression(text, i);
          if ('error' in r) {
            err(PolicyCodes.GH_POLICY_EXPRESSION_UNBALANCED, `expression in attribute '${attrName}': ${r.error}`, r.at);
            return { file, root: undefined, diagnostics };
          }
          found.push({ start: i, end: r.end, kind: 'attribute' });
          i = r.end;
          if (text[i] !== q) {
            const close = text.indexOf(q, i);
            err(PolicyCodes.GH_POLICY_EXPRESSION_MIXED, `attribute '${attrName}': an expression must be the whole value; found text after it`, i);
            i = close < 0 ? n : close + 1;
            continue;
          }
          i++;
          continue;
        }
        const close = text.indexOf(q, i);
        i = close < 0 ? n : close + 1;
      }
      textStart = i;
      continue;
    }
    if (c === '@' && (text[i + 1] === '(' || text[i + 1] === '{') && text.slice(textStart, i).trim() === '') {
      const r = scanExpression(text, i);
      if ('error' in r) {
        err(PolicyCodes.GH_POLICY_EXPRESSION_UNBALANCED, `expression: ${r.error}`, r.at);
        return { file, root: undefined, diagnostics };
      }
      found.push({ start: i, end: r.end, kind: 'text' });
      i = r.end;
      let j = i;
      while (j < n && isSpace(text[j])) j++;
      if (j < n && text[j] !== '<') err(PolicyCodes.GH_POLICY_EXPRESSION_MIXED, 'an expression must be the whole text of its element; found text after it', j);
      textStart = n + 1; // no second expression in this run
      continue;
    }
    i++;
  }
  if (found.length > MAX_EXPRESSIONS) {
    err(PolicyCodes.GH_POLICY_TOO_LARGE, `a policy document may hold at most ${MAX_EXPRESSIONS} expressions`, 0);
    return { file, root: undefined, diagnostics };
  }

  // 2. Replace expressions with same-length placeholders.
  let masked = text;
  if (found.length) {
    const parts: string[] = [];
    let last = 0;
    found.forEach((f, id) => {
      parts.push(text.slice(last, f.start));
      let ph = String.fromCharCode(PLACEHOLDER_BASE + id);
      for (let k = f.start + 1; k < f.end; k++) {
        const ch = text[k]!;
        ph += ch === '\n' || ch === '\r' ? ch : PLACEHOLDER_FILL;
      }
      parts.push(ph);
      last = f.end;
    });
    parts.push(text.slice(last));
    masked = parts.join('');
  }

  const named = options.namedValues;
  const subst = (s: string, offset: number, quiet = false): string => {
    if (!s.includes('{{')) return s;
    // Named values have names of letters, digits, '.', '-' and '_' ({{ liquid }} is not one).
    return s.replace(/\{\{([A-Za-z0-9._-]+)\}\}/g, (m, name: string) => {
      if (!named) return m;
      const v = named.get(name.trim()) ?? [...named].find(([k]) => k.toLowerCase() === name.trim().toLowerCase())?.[1];
      if (v === undefined) {
        if (quiet) return m;
        diagnostics.push(makeDiagnostic(options.unknownNamedValue ?? 'error', PolicyCodes.GH_POLICY_NAMED_VALUE_UNKNOWN, `named value '${name.trim()}' is not defined`, { file, offset }));
        return m;
      }
      return v;
    });
  };
  const expressionOf = (value: string, offset: number): ExpressionSource | undefined => {
    const t = value.trim();
    if (!t) return undefined;
    const code = t.charCodeAt(0) - PLACEHOLDER_BASE;
    if (code < 0 || code >= found.length) return undefined;
    const f = found[code]!;
    const rest = t.slice(1).replace(/[\uf8ff\s]/g, '');
    if (rest) {
      err(PolicyCodes.GH_POLICY_EXPRESSION_MIXED, 'an expression must be the whole value', offset);
    }
    return { text: subst(decodeEntities(text.slice(f.start, f.end)), f.start), offset: f.start };
  };
  const hasPlaceholder = (s: string) => /[\ue000-\uf8ff]/.test(s);

  // 3. XML.
  interface Building {
    name: string;
    offset: number;
    attributes: PolicyAttribute[];
    children: PolicyElement[];
    text: string;
    textOffset: number;
    contentStart: number;
  }
  const stack: Building[] = [];
  let root: PolicyElement | undefined;
  let tagIndex = 0;
  const parser = new SaxesParser({ position: true });
  let failed = false;
  parser.on('error', (e: Error) => {
    if (failed) return;
    failed = true;
    const m = /^(\d+):(\d+): (.*)$/s.exec(e.message);
    const line = m ? Number(m[1]) : 1;
    const column = m ? Math.max(1, Number(m[2])) : 1;
    diagnostics.push(makeDiagnostic('error', PolicyCodes.GH_POLICY_XML, `malformed policy XML: ${(m ? m[3]! : e.message).replace(/[\ue000-\uf8ff]+/g, '@(…)')}`, { file, position: { line, column } }));
  });
  parser.on('opentag', (t) => {
    if (failed) return;
    const tag = tags[tagIndex++];
    const offset = tag?.offset ?? 0;
    const attributes: PolicyAttribute[] = [];
    for (const [name, rawValue] of Object.entries(t.attributes as Record<string, string>)) {
      const aoff = tag?.attrOffsets.get(name) ?? offset;
      const expr = hasPlaceholder(rawValue) ? expressionOf(rawValue, aoff) : undefined;
      if (expr) attributes.push({ name, value: '', expression: expr, offset: aoff });
      else {
        const v = subst(rawValue, aoff);
        const t2 = v.trim();
        // A named value may itself hold an expression.
        if ((t2.startsWith('@(') || t2.startsWith('@{')) && v !== rawValue) attributes.push({ name, value: '', expression: { text: t2, offset: aoff }, offset: aoff });
        else attributes.push({ name, value: v, offset: aoff });
      }
    }
    stack.push({ name: t.name, offset, attributes, children: [], text: '', textOffset: -1, contentStart: t.isSelfClosing ? -1 : parser.position });
  });
  const onText = (s: string) => {
    if (failed) return;
    const top = stack[stack.length - 1];
    if (!top) return;
    if (top.textOffset < 0 && s.trim()) {
      // Offset of the text: approximated from the parser's position (end of this chunk).
      const idx = hasPlaceholder(s) ? found[s.trim().charCodeAt(0) - PLACEHOLDER_BASE]?.start : undefined;
      top.textOffset = idx ?? Math.max(0, parser.position - s.length + (s.length - s.trimStart().length));
    }
    top.text += s;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (failed) return;
    const b = stack.pop();
    if (!b) return;
    const trimmed = b.text.trim();
    const textOffset = b.textOffset < 0 ? b.offset : b.textOffset;
    let textExpression: ExpressionSource | undefined;
    let textValue = '';
    if (hasPlaceholder(trimmed)) textExpression = expressionOf(trimmed, textOffset);
    else {
      // In a Liquid body, {{ name }} is Liquid unless a named value of that name exists.
      const liquid = b.name === 'set-body' && b.attributes.some((a) => a.name === 'template' && a.value.toLowerCase() === 'liquid');
      textValue = subst(trimmed, textOffset, liquid);
      if ((textValue.startsWith('@(') || textValue.startsWith('@{')) && textValue !== trimmed) {
        textExpression = { text: textValue, offset: textOffset };
        textValue = '';
      }
    }
    const closeAt = b.contentStart < 0 ? -1 : text.lastIndexOf('</', parser.position);
    const rawContent = b.contentStart < 0 || closeAt < b.contentStart ? '' : text.slice(b.contentStart, closeAt);
    const el: PolicyElement = {
      rawContent,
      name: b.name,
      offset: b.offset,
      attributes: b.attributes,
      children: b.children,
      text: textValue,
      ...(textExpression ? { textExpression } : {}),
      textOffset,
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
  });
  try {
    parser.write(masked).close();
  } catch (e) {
    if (!failed) err(PolicyCodes.GH_POLICY_XML, `malformed policy XML: ${(e as Error).message}`, 0);
    failed = true;
  }
  if (failed) return { file, root: undefined, diagnostics };
  if (!root) err(PolicyCodes.GH_POLICY_XML, 'the document holds no element', 0);
  return { file, root, diagnostics };
}
