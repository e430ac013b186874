/**
 * System.Xml.Linq, the part policies use: XDocument/XElement parsing (saxes), navigation
 * (Root, Elements, Element, Descendants, Attributes, Value), construction, XName/XNamespace, and
 * .NET's ToString() (two-space indentation, \r\n, " />" for empty elements).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { DotNetException } from '../errors.js';
import { CsObject, csToString, ex, iterate, type Runtime } from './core.js';
import { convertToInt, INT_TYPES, parseFloatStrict } from './numbers.js';

const NL = '\r\n';
const SETTABLE_VALUE: ReadonlySet<string> = new Set(['Value']);

export class XNamespace extends CsObject {
  constructor(readonly NamespaceName: string) {
    super();
  }
  get $type(): string {
    return 'System.Xml.Linq.XNamespace';
  }
  get $addsStrings(): boolean {
    return true;
  }
  GetName(local: unknown): XName {
    return new XName(csToString(local), this.NamespaceName);
  }
  $add(local: unknown): XName {
    return this.GetName(local);
  }
  override ToString(): string {
    return this.NamespaceName;
  }
  $eq(o: unknown): boolean {
    return (o instanceof XNamespace && o.NamespaceName === this.NamespaceName) || o === this.NamespaceName;
  }
}

export class XName extends CsObject {
  constructor(readonly LocalName: string, readonly NamespaceName: string = '') {
    super();
  }
  get $type(): string {
    return 'System.Xml.Linq.XName';
  }
  get Namespace(): XNamespace {
    return new XNamespace(this.NamespaceName);
  }
  override ToString(): string {
    return this.NamespaceName ? `{${this.NamespaceName}}${this.LocalName}` : this.LocalName;
  }
  $eq(o: unknown): boolean {
    if (typeof o === 'string') return this.ToString() === o;
    return o instanceof XName && o.LocalName === this.LocalName && o.NamespaceName === this.NamespaceName;
  }
  matches(n: XName | undefined): boolean {
    return n === undefined || (n.LocalName === this.LocalName && n.NamespaceName === this.NamespaceName);
  }
}

/** string → XName: "{uri}local" or "local" (the implicit conversion). */
export function toXName(v: unknown): XName {
  if (v instanceof XName) return v;
  if (v === null || v === undefined) throw ex.argNull('name');
  const s = csToString(v);
  const m = /^\{([^}]*)\}(.+)$/.exec(s);
  if (m) return new XName(m[2]!, m[1]!);
  if (!s || /[\s<>&"'=/]/.test(s)) throw new DotNetException('System.Xml.XmlException', `The '${s}' name is not a valid XML name.`);
  return new XName(s);
}

function esc(s: string, attr: boolean): string {
  let out = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (attr) out = out.replace(/"/g, '&quot;').replace(/\r/g, '&#xD;').replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;');
  return out;
}

export abstract class XNode extends CsObject {
  parent: XContainer | undefined;
  get Parent(): XElement | null {
    return this.parent instanceof XElement ? this.parent : null;
  }
  get Document(): XDocument | null {
    let p: XContainer | undefined = this.parent;
    while (p && !(p instanceof XDocument)) p = p.parent;
    return p ?? null;
  }
  Remove(): void {
    if (!this.parent) throw ex.invalidOp('The parent is missing.');
    const list = this.parent.nodes;
    list.splice(list.indexOf(this), 1);
    this.parent = undefined;
  }
  abstract write(indent: boolean, depth: number, prefixes: Map<string, string>): string;
  abstract clone(): XNode;
  get NextNode(): XNode | null {
    const p = this.parent;
    return p ? (p.nodes[p.nodes.indexOf(this) + 1] ?? null) : null;
  }
  get PreviousNode(): XNode | null {
    const p = this.parent;
    return p ? (p.nodes[p.nodes.indexOf(this) - 1] ?? null) : null;
  }
}

export class XText extends XNode {
  constructor(public Value: string) {
    super();
  }
  get $type(): string {
    return 'System.Xml.Linq.XText';
  }
  get $settable(): ReadonlySet<string> {
    return SETTABLE_VALUE;
  }
  write(): string {
    return esc(this.Value, false);
  }
  clone(): XNode {
    return new XText(this.Value);
  }
  override ToString(): string {
    return this.write();
  }
}

export class XCData extends XText {
  override get $type(): string {
    return 'System.Xml.Linq.XCData';
  }
  override write(): string {
    return `<![CDATA[${this.Value}]]>`;
  }
  override clone(): XNode {
    return new XCData(this.Value);
  }
}

export class XComment extends XNode {
  constructor(public Value: string) {
    super();
  }
  get $type(): string {
    return 'System.Xml.Linq.XComment';
  }
  write(): string {
    return `<!--${this.Value}-->`;
  }
  clone(): XNode {
    return new XComment(this.Value);
  }
  override ToString(): string {
    return this.write();
  }
}

export class XAttribute extends CsObject {
  parent: XElement | undefined;
  readonly Name: XName;
  Value: string;
  constructor(name: unknown, value: unknown) {
    super();
    this.Name = toXName(name);
    if (value === null || value === undefined) throw ex.argNull('value');
    this.Value = value instanceof XAttribute ? value.Value : csToString(value);
  }
  get $type(): string {
    return 'System.Xml.Linq.XAttribute';
  }
  get $settable(): ReadonlySet<string> {
    return SETTABLE_VALUE;
  }
  get Parent(): XElement | null {
    return this.parent ?? null;
  }
  get IsNamespaceDeclaration(): boolean {
    return this.Name.NamespaceName === 'http://www.w3.org/2000/xmlns/' || (this.Name.NamespaceName === '' && this.Name.LocalName === 'xmlns');
  }
  Remove(): void {
    if (!this.parent) throw ex.invalidOp('The parent is missing.');
    this.parent.attrs.splice(this.parent.attrs.indexOf(this), 1);
    this.parent = undefined;
  }
  SetValue(v: unknown): void {
    this.Value = csToString(v);
  }
  qname(prefixes: Map<string, string>): string {
    const n = this.Name;
    if (this.IsNamespaceDeclaration) return n.LocalName === 'xmlns' ? 'xmlns' : `xmlns:${n.LocalName}`;
    if (!n.NamespaceName) return n.LocalName;
    if (n.NamespaceName === 'http://www.w3.org/XML/1998/namespace') return `xml:${n.LocalName}`;
    const p = prefixes.get(n.NamespaceName);
    return p ? `${p}:${n.LocalName}` : n.LocalName;
  }
  override ToString(): string {
    return `${this.qname(new Map())}="${esc(this.Value, true)}"`;
  }
  $explicit(target: string): unknown {
    return convertText(this.Value, target);
  }
}

function convertText(s: string, target: string): unknown {
  if (target === 'System.String') return s;
  if (target === 'System.Boolean') {
    const t = s.trim().toLowerCase();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0') return false;
    throw ex.format(`String '${s}' was not recognized as a valid Boolean.`);
  }
  if (INT_TYPES[target]) return convertToInt(s.trim(), INT_TYPES[target]!);
  if (target === 'System.Double' || target === 'System.Decimal' || target === 'System.Single') return parseFloatStrict(s);
  throw ex.invalidCast(s, target);
}

export abstract class XContainer extends XNode {
  readonly nodes: XNode[] = [];
  adopt(n: XNode): XNode {
    const c = n.parent ? n.clone() : n;
    c.parent = this;
    return c;
  }
  addContent(content: unknown): void {
    if (content === null || content === undefined) return;
    if (content instanceof XAttribute) {
      if (!(this instanceof XElement)) throw ex.arg('An attribute cannot be added to content.');
      this.setAttr(content);
      return;
    }
    if (content instanceof XNode) {
      if (content instanceof XDocument) throw ex.arg('A document cannot be added to content.');
      this.nodes.push(this.adopt(content));
      return;
    }
    if (typeof content === 'string') {
      const last = this.nodes[this.nodes.length - 1];
      if (last instanceof XText && !(last instanceof XCData)) last.Value += content;
      else this.nodes.push(this.adopt(new XText(content)));
      return;
    }
    if (typeof content === 'object' && typeof (content as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const c of iterate(content)) this.addContent(c);
      return;
    }
    this.addContent(csToString(content));
  }
  Add(...content: unknown[]): void {
    for (const c of content) this.addContent(c);
  }
  AddFirst(...content: unknown[]): void {
    const rest = this.nodes.splice(0);
    for (const c of content) this.addContent(c);
    this.nodes.push(...rest);
  }
  Nodes(): XNode[] {
    return [...this.nodes];
  }
  get FirstNode(): XNode | null {
    return this.nodes[0] ?? null;
  }
  get LastNode(): XNode | null {
    return this.nodes[this.nodes.length - 1] ?? null;
  }
  Elements(name?: unknown): XElement[] {
    const n = name === undefined ? undefined : toXName(name);
    return this.nodes.filter((x): x is XElement => x instanceof XElement && x.Name.matches(n));
  }
  Element(name: unknown): XElement | null {
    return this.Elements(name)[0] ?? null;
  }
  Descendants(name?: unknown): XElement[] {
    const n = name === undefined ? undefined : toXName(name);
    const out: XElement[] = [];
    const walk = (c: XContainer): void => {
      for (const x of c.nodes) {
        if (x instanceof XElement) {
          if (x.Name.matches(n)) out.push(x);
          walk(x);
        }
      }
    };
    walk(this);
    return out;
  }
  DescendantNodes(): XNode[] {
    const out: XNode[] = [];
    const walk = (c: XContainer): void => {
      for (const x of c.nodes) {
        out.push(x);
        if (x instanceof XContainer) walk(x);
      }
    };
    walk(this);
    return out;
  }
  RemoveNodes(): void {
    for (const n of this.nodes) n.parent = undefined;
    this.nodes.length = 0;
  }
  ReplaceNodes(...content: unknown[]): void {
    this.RemoveNodes();
    this.Add(...content);
  }
}

export class XElement extends XContainer {
  Name: XName;
  readonly attrs: XAttribute[] = [];
  /** The prefix the element was written with, kept for ToString(). */
  prefix: string | undefined;
  constructor(name: unknown, content: unknown[] = []) {
    super();
    if (name instanceof XElement) {
      this.Name = name.Name;
      for (const a of name.attrs) this.setAttr(new XAttribute(a.Name, a.Value));
      for (const n of name.nodes) this.nodes.push(this.adopt(n.clone()));
      this.prefix = name.prefix;
    } else this.Name = toXName(name);
    for (const c of content) this.addContent(c);
  }
  get $type(): string {
    return 'System.Xml.Linq.XElement';
  }
  setAttr(a: XAttribute): void {
    if (this.attrs.some((x) => x.Name.$eq(a.Name))) throw new DotNetException('System.InvalidOperationException', 'Duplicate attribute.');
    const c = a.parent ? new XAttribute(a.Name, a.Value) : a;
    c.parent = this;
    this.attrs.push(c);
  }
  get Value(): string {
    let s = '';
    const walk = (c: XContainer): void => {
      for (const n of c.nodes) {
        if (n instanceof XText) s += n.Value;
        else if (n instanceof XElement) walk(n);
      }
    };
    walk(this);
    return s;
  }
  set Value(v: unknown) {
    this.RemoveNodes();
    this.addContent(csToString(v));
  }
  SetValue(v: unknown): void {
    this.Value = v;
  }
  get HasElements(): boolean {
    return this.nodes.some((n) => n instanceof XElement);
  }
  get HasAttributes(): boolean {
    return this.attrs.length > 0;
  }
  get IsEmpty(): boolean {
    return this.nodes.length === 0;
  }
  get FirstAttribute(): XAttribute | null {
    return this.attrs[0] ?? null;
  }
  Attributes(name?: unknown): XAttribute[] {
    const n = name === undefined ? undefined : toXName(name);
    return this.attrs.filter((a) => a.Name.matches(n));
  }
  Attribute(name: unknown): XAttribute | null {
    return this.Attributes(name)[0] ?? null;
  }
  SetAttributeValue(name: unknown, value: unknown): void {
    const n = toXName(name);
    const a = this.attrs.find((x) => x.Name.$eq(n));
    if (value === null || value === undefined) {
      if (a) a.Remove();
    } else if (a) a.Value = csToString(value);
    else this.setAttr(new XAttribute(n, value));
  }
  SetElementValue(name: unknown, value: unknown): void {
    const e = this.Element(name);
    if (value === null || value === undefined) {
      if (e) e.Remove();
    } else if (e) e.Value = value;
    else this.Add(new XElement(name, [csToString(value)]));
  }
  RemoveAttributes(): void {
    this.attrs.length = 0;
  }
  RemoveAll(): void {
    this.attrs.length = 0;
    this.RemoveNodes();
  }
  DescendantsAndSelf(name?: unknown): XElement[] {
    const n = name === undefined ? undefined : toXName(name);
    return [...(this.Name.matches(n) ? [this] : []), ...this.Descendants(name)];
  }
  Ancestors(name?: unknown): XElement[] {
    const n = name === undefined ? undefined : toXName(name);
    const out: XElement[] = [];
    let p = this.Parent;
    while (p) {
      if (p.Name.matches(n)) out.push(p);
      p = p.Parent;
    }
    return out;
  }
  GetDefaultNamespace(): XNamespace {
    return new XNamespace(this.prefix === undefined ? this.Name.NamespaceName : '');
  }
  private qname(prefixes: Map<string, string>): string {
    const ns = this.Name.NamespaceName;
    if (!ns) return this.Name.LocalName;
    const p = this.prefix ?? prefixes.get(ns);
    return p ? `${p}:${this.Name.LocalName}` : this.Name.LocalName;
  }
  write(indent: boolean, depth: number, inherited: Map<string, string>): string {
    const prefixes = new Map(inherited);
    const extra: string[] = [];
    for (const a of this.attrs) {
      if (a.IsNamespaceDeclaration) {
        if (a.Name.LocalName !== 'xmlns') prefixes.set(a.Value, a.Name.LocalName);
      }
    }
    const ns = this.Name.NamespaceName;
    const declaresDefault = this.attrs.some((a) => a.IsNamespaceDeclaration && a.Name.LocalName === 'xmlns');
    if (ns && !this.prefix && !prefixes.has(ns) && !declaresDefault && inherited.get('') !== ns) extra.push(`xmlns="${esc(ns, true)}"`);
    if (!ns && inherited.get('') && !declaresDefault) extra.push('xmlns=""');
    const own = new Map(prefixes);
    if (ns && !this.prefix) own.set('', ns);
    if (declaresDefault) own.set('', this.attrs.find((a) => a.IsNamespaceDeclaration && a.Name.LocalName === 'xmlns')!.Value);
    const name = this.qname(prefixes);
    const attrs = [...this.attrs.map((a) => `${a.qname(prefixes)}="${esc(a.Value, true)}"`), ...extra];
    const open = `<${name}${attrs.length ? ' ' + attrs.join(' ') : ''}`;
    if (this.nodes.length === 0) return `${open} />`;
    const mixed = this.nodes.some((n) => n instanceof XText);
    if (!indent || mixed) return `${open}>${this.nodes.map((n) => n.write(false, 0, own)).join('')}</${name}>`;
    const pad = '  '.repeat(depth + 1);
    return `${open}>${this.nodes.map((n) => NL + pad + n.write(true, depth + 1, own)).join('')}${NL}${'  '.repeat(depth)}</${name}>`;
  }
  clone(): XNode {
    return new XElement(this);
  }
  override ToString(options?: unknown): string {
    const none = options !== undefined && csToString(options).includes('DisableFormatting');
    return this.write(!none, 0, new Map());
  }
  $explicit(target: string): unknown {
    return convertText(this.Value, target);
  }
}

export class XDeclaration extends CsObject {
  constructor(readonly Version: string | null, readonly Encoding: string | null, readonly Standalone: string | null) {
    super();
  }
  get $type(): string {
    return 'System.Xml.Linq.XDeclaration';
  }
  override ToString(): string {
    return `<?xml${this.Version !== null ? ` version="${this.Version}"` : ''}${this.Encoding !== null ? ` encoding="${this.Encoding}"` : ''}${this.Standalone !== null ? ` standalone="${this.Standalone}"` : ''}?>`;
  }
}

export class XDocument extends XContainer {
  Declaration: XDeclaration | null = null;
  get $type(): string {
    return 'System.Xml.Linq.XDocument';
  }
  get Root(): XElement | null {
    return this.nodes.find((n): n is XElement => n instanceof XElement) ?? null;
  }
  write(indent: boolean): string {
    return this.nodes.map((n) => n.write(indent, 0, new Map())).join(indent ? NL : '');
  }
  clone(): XNode {
    const d = new XDocument();
    d.Declaration = this.Declaration;
    for (const n of this.nodes) d.nodes.push(d.adopt(n.clone()));
    return d;
  }
  override ToString(options?: unknown): string {
    const none = options !== undefined && csToString(options).includes('DisableFormatting');
    return this.write(!none);
  }
}

/** XDocument.Parse / XElement.Parse: insignificant whitespace dropped (LoadOptions.None). */
export function parseXml(text: unknown, rt?: Runtime): XDocument {
  void rt;
  if (text === null || text === undefined) throw ex.argNull('text');
  const doc = new XDocument();
  const stack: XContainer[] = [doc];
  const parser = new SaxesParser({ xmlns: true });
  let error: Error | undefined;
  parser.on('error', (e) => {
    error ??= e;
  });
  parser.on('xmldecl', (d) => {
    doc.Declaration = new XDeclaration(d.version ?? null, d.encoding ?? null, d.standalone ?? null);
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    const el = new XElement(new XName(tag.local, tag.uri));
    el.prefix = tag.prefix || undefined;
    for (const a of Object.values(tag.attributes)) {
      const isNs = a.prefix === 'xmlns' || a.name === 'xmlns';
      const name = isNs ? new XName(a.prefix === 'xmlns' ? a.local : 'xmlns', a.prefix === 'xmlns' ? 'http://www.w3.org/2000/xmlns/' : '') : new XName(a.local, a.uri);
      el.setAttr(new XAttribute(name, a.value));
    }
    stack[stack.length - 1]!.nodes.push(stack[stack.length - 1]!.adopt(el));
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1]!;
    if (top instanceof XDocument || /^\s*$/.test(t)) return;
    top.addContent(t);
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1]!;
    if (!(top instanceof XDocument)) top.nodes.push(top.adopt(new XCData(t)));
  });
  parser.on('comment', (t) => {
    const top = stack[stack.length - 1]!;
    top.nodes.push(top.adopt(new XComment(t)));
  });
  try {
    parser.write(String(text)).close();
  } catch (e) {
    error ??= e as Error;
  }
  if (error || !doc.Root) {
    const msg = !error || /must contain a root element/.test(error.message) ? 'Root element is missing.' : error.message.replace(/^undefined:/, '').trim();
    throw new DotNetException('System.Xml.XmlException', msg);
  }
  return doc;
}
