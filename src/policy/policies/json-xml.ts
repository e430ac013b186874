/**
 * <json-to-xml apply="always|content-type-json" consider-accept-header="true|false"/> and
 * <xml-to-json kind="javascript-friendly|direct" apply="always|content-type-xml"
 * consider-accept-header="true|false"/> (json-to-xml-policy.md, xml-to-json-policy.md): convert the
 * body of the section's message, as Newtonsoft.Json's XML conversion does in API Management
 * (`@attribute`, `#text`, repeated elements become arrays; JSON gets a `<Document>` root).
 */
import { SaxesParser } from 'saxes';
import type { HostBody } from '../../expr/host.js';
import type { HeaderMap } from '../../core/headers.js';
import type { CompileContext, PolicyDefinition } from '../compile.js';
import type { PolicyElement } from '../reader.js';
import { PolicyFailure, type PolicyStep } from '../runtime.js';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmlName(k: string): string {
  const n = k.replace(/[^A-Za-z0-9_.:-]/g, '_');
  return /^[A-Za-z_]/.test(n) ? n : `_${n}`;
}

/** JSON → XML: objects become elements, arrays repeat their element, '@x' keys become attributes, '#text' text. */
export function jsonToXml(value: unknown): string {
  const el = (name: string, v: unknown): string => {
    if (Array.isArray(v)) return v.map((x) => el(name, x)).join('');
    const n = xmlName(name);
    if (v === null || v === undefined) return `<${n} />`;
    if (typeof v !== 'object') return `<${n}>${escapeXml(String(v))}</${n}>`;
    const o = v as Record<string, unknown>;
    let attrs = '';
    let inner = '';
    for (const [k, x] of Object.entries(o)) {
      if (k.startsWith('@')) attrs += ` ${xmlName(k.slice(1))}="${escapeXml(String(x))}"`;
      else if (k === '#text') inner += escapeXml(String(x));
      else inner += el(k, x);
    }
    return inner ? `<${n}${attrs}>${inner}</${n}>` : `<${n}${attrs} />`;
  };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && !Array.isArray(entries[0]![1])) return el(entries[0]![0], entries[0]![1]);
  }
  return el('Document', value);
}

/** XML → JSON (direct): the root element is the single top-level property. */
export function xmlToJson(xml: string): unknown {
  type Frame = { name: string; obj: Record<string, unknown>; text: string };
  const stack: Frame[] = [];
  let result: Record<string, unknown> | undefined;
  const parser = new SaxesParser();
  let error: Error | undefined;
  parser.on('error', (e) => {
    error ??= e;
  });
  parser.on('opentag', (t) => {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(t.attributes as Record<string, string>)) obj[`@${k}`] = v;
    stack.push({ name: t.name, obj, text: '' });
  });
  const onText = (s: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += s;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const f = stack.pop()!;
    const text = f.text.trim();
    const hasChildren = Object.keys(f.obj).length > 0;
    let value: unknown = f.obj;
    if (!hasChildren) value = text === '' ? null : text;
    else if (text) f.obj['#text'] = text;
    const parent = stack[stack.length - 1];
    const target = parent ? parent.obj : (result = {});
    // Own properties only, defined rather than assigned: an element may be named constructor or __proto__.
    const prev = Object.hasOwn(target, f.name) ? target[f.name] : undefined;
    Object.defineProperty(target, f.name, { value: prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value], enumerable: true, writable: true, configurable: true });
  });
  parser.write(xml).close();
  if (error) throw error;
  return result ?? null;
}

function isJson(h: HeaderMap): boolean {
  return /[/+]json\b/i.test(h.get('Content-Type') ?? '');
}
function isXml(h: HeaderMap): boolean {
  return /[/+]xml\b/i.test(h.get('Content-Type') ?? '');
}

/**
 * The step of json-to-xml / xml-to-json: the request body in inbound, else the response's (when
 * the client's Accept allows the result, with consider-accept-header), if the content type is
 * right (`only`, for apply="content-type-…").
 */
function conversion(el: PolicyElement, cc: CompileContext, only: ((h: HeaderMap) => boolean) | undefined, considerAccept: boolean, to: 'xml' | 'json', source: string): PolicyStep {
  const onRequest = cc.section === 'inbound';
  const accepts = new RegExp(to, 'i');
  return {
    ...cc.meta(el),
    run(st) {
      const ctx = st.ctx;
      const target = onRequest ? ctx.request : ctx.response;
      if (only && !only(target.headers)) return;
      if (!onRequest && considerAccept && !accepts.test(ctx.request.headers.get('Accept') ?? to)) return;
      convert(target, to, source);
    },
  };
}

function convert(target: { headers: HeaderMap; body: HostBody }, to: 'xml' | 'json', source: string): void {
  const bytes = target.body.bytes;
  if (!bytes || bytes.length === 0) return;
  let out: string;
  try {
    out = to === 'xml' ? `<?xml version="1.0" encoding="utf-8"?>${jsonToXml(JSON.parse(bytes.toString('utf8')))}` : JSON.stringify(xmlToJson(bytes.toString('utf8')));
  } catch (e) {
    throw new PolicyFailure({ source, reason: 'BodyConversionFailed', message: `The body could not be converted to ${to.toUpperCase()}: ${(e as Error).message}`, status: 500 });
  }
  target.body.bytes = Buffer.from(out, 'utf8');
  target.headers.set('Content-Type', to === 'xml' ? 'application/xml' : 'application/json');
  target.headers.delete('Content-Length');
}

export const jsonToXmlPolicy: PolicyDefinition = {
  name: 'json-to-xml',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: ['apply', 'consider-accept-header', 'parse-date', 'namespace-separator', 'namespace-prefix', 'attribute-block-name'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    const apply = cc.choice(el, 'apply', ['always', 'content-type-json'] as const, 'always', { expressions: false }).constantValue ?? 'always';
    const considerAccept = cc.boolean(el, 'consider-accept-header', true, { expressions: false }).constantValue ?? true;
    return conversion(el, cc, apply === 'content-type-json' ? isJson : undefined, considerAccept, 'xml', 'json-to-xml');
  },
};

export const xmlToJsonPolicy: PolicyDefinition = {
  name: 'xml-to-json',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: ['kind', 'apply', 'consider-accept-header', 'always-array-child-elements'],
  compile(el, cc) {
    cc.checkChildren(el, []);
    cc.choice(el, 'kind', ['javascript-friendly', 'direct'] as const, 'direct', { expressions: false });
    const apply = cc.choice(el, 'apply', ['always', 'content-type-xml'] as const, 'always', { expressions: false }).constantValue ?? 'always';
    const considerAccept = cc.boolean(el, 'consider-accept-header', true, { expressions: false }).constantValue ?? true;
    return conversion(el, cc, apply === 'content-type-xml' ? isXml : undefined, considerAccept, 'json', 'xml-to-json');
  },
};
