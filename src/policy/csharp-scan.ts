/**
 * Finds where a policy expression ends without parsing C#: a bracket matcher that knows C#'s
 * strings ("…", verbatim @"…", interpolated $"…{…}…" and $@"…"), character literals and
 * comments, so that quotes, '<' and brackets inside them do not count. Real policy files are not
 * well-formed XML because of exactly these characters (raw quotes inside @(…) attribute values).
 */

export type ScanResult = { readonly end: number } | { readonly error: string; readonly at: number };

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * `text[start]` is '@' followed by '(' or '{'. Returns the offset just past the matching closing
 * bracket, or an error with the offset it concerns.
 */
export function scanExpression(text: string, start: number): ScanResult {
  // Documents in the 'xml' format escape the expression's quotes and brackets as entities: read
  // them as the characters they stand for, keeping offsets (map back through `at`).
  if (text.includes('&', start)) {
    const { plain, offsets } = unescapeEntities(text, start);
    const r = scanPlain(plain, 0);
    if ('error' in r) return { error: r.error, at: offsets[Math.max(0, r.at)] ?? start };
    return { end: offsets[r.end] ?? text.length };
  }
  return scanPlain(text, start);
}

const ENTITIES: Record<string, string> = { '&quot;': '"', '&apos;': "'", '&lt;': '<', '&gt;': '>', '&amp;': '&' };

/** The text from `start` with the five XML entities replaced; offsets[i] is where plain[i] came from (plus one past the end). */
function unescapeEntities(text: string, start: number): { plain: string; offsets: number[] } {
  let plain = '';
  const offsets: number[] = [];
  let i = start;
  while (i < text.length) {
    if (text[i] === '&') {
      const m = /^&(quot|apos|lt|gt|amp);/.exec(text.slice(i, i + 6));
      if (m) {
        plain += ENTITIES[m[0]]!;
        offsets.push(i);
        i += m[0].length;
        continue;
      }
    }
    plain += text[i];
    offsets.push(i);
    i++;
  }
  offsets.push(text.length);
  return { plain, offsets };
}

function scanPlain(text: string, start: number): ScanResult {
  const first = text[start + 1];
  if (text[start] !== '@' || (first !== '(' && first !== '{')) return { error: "an expression starts with '@(' or '@{'", at: start };
  const stack: { close: string; at: number; interp?: { verbatim: boolean } }[] = [];
  let i = start + 1;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '(' || c === '[' || c === '{') {
      stack.push({ close: OPEN[c]!, at: i });
      i++;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      const top = stack.pop();
      if (!top || top.close !== c) return { error: top ? `'${c}' does not match '${text[top.at]}'` : `unexpected '${c}'`, at: i };
      i++;
      if (top.interp) {
        // End of an interpolation hole: continue the interpolated string.
        const r = scanStringBody(text, i, top.interp.verbatim, true, stack);
        if ('error' in r) return { error: r.error, at: r.at === -1 ? top.at : r.at };
        i = r.end;
        continue;
      }
      if (stack.length === 0) return { end: i };
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      if (e < 0) return { error: 'unterminated comment', at: i };
      i = e + 2;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== "'") {
        if (text[j] === '\\') j++;
        if (text[j] === '\n') return { error: 'unterminated character literal', at: i };
        j++;
      }
      if (j >= n) return { error: 'unterminated character literal', at: i };
      i = j + 1;
      continue;
    }
    if (c === '"' || ((c === '@' || c === '$') && (text[i + 1] === '"' || ((text[i + 1] === '@' || text[i + 1] === '$') && text[i + 2] === '"' && text[i + 1] !== c)))) {
      let verbatim = false;
      let interpolated = false;
      let j = i;
      while (text[j] !== '"') {
        if (text[j] === '@') verbatim = true;
        if (text[j] === '$') interpolated = true;
        j++;
      }
      const r = scanStringBody(text, j + 1, verbatim, interpolated, stack);
      if ('error' in r) return r.at === -1 ? { error: r.error, at: i } : r;
      i = r.end;
      continue;
    }
    i++;
  }
  const top = stack[stack.length - 1];
  return { error: `'${top ? text[top.at] : first}' is never closed`, at: top ? top.at : start };
}

/**
 * Scans a string body from `i` (just past the opening quote or an interpolation hole's '}').
 * Returns the offset past the closing quote, or — for an interpolated string — past a '{' that
 * opens a hole (after pushing the hole onto the stack).
 */
function scanStringBody(text: string, i: number, verbatim: boolean, interpolated: boolean, stack: { close: string; at: number; interp?: { verbatim: boolean } }[]): ScanResult {
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (verbatim) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          i += 2;
          continue;
        }
        return { end: i + 1 };
      }
    } else {
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '"') return { end: i + 1 };
      if (c === '\n') return { error: 'unterminated string literal', at: -1 };
    }
    if (interpolated && c === '{') {
      if (text[i + 1] === '{') {
        i += 2;
        continue;
      }
      stack.push({ close: '}', at: i, interp: { verbatim } });
      return { end: i + 1 };
    }
    if (interpolated && c === '}' && text[i + 1] === '}') {
      i += 2;
      continue;
    }
    i++;
  }
  return { error: 'unterminated string literal', at: -1 };
}
