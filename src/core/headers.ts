/**
 * HTTP headers as gateways need them: case-insensitive names, several values per name, the
 * spelling of the first occurrence kept for the wire, insertion order kept.
 */
export class HeaderMap {
  private readonly map = new Map<string, { name: string; values: string[] }>();

  constructor(init?: Iterable<readonly [string, string | readonly string[]]>) {
    if (init) for (const [n, v] of init) this.append(n, v);
  }

  /** From Node's req.rawHeaders ([name, value, name, value …]). */
  static fromRaw(raw: readonly string[]): HeaderMap {
    const h = new HeaderMap();
    for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
    return h;
  }

  get size(): number {
    return this.map.size;
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }

  /** All values of a header, or undefined. */
  getAll(name: string): readonly string[] | undefined {
    return this.map.get(name.toLowerCase())?.values;
  }

  /** The values joined with ", " (as .NET's GetValueOrDefault does), or undefined. */
  get(name: string): string | undefined {
    const e = this.map.get(name.toLowerCase());
    return e ? e.values.join(', ') : undefined;
  }

  set(name: string, value: string | readonly string[]): void {
    const key = name.toLowerCase();
    const values = typeof value === 'string' ? [value] : [...value];
    const e = this.map.get(key);
    if (e) e.values = values;
    else this.map.set(key, { name, values });
  }

  append(name: string, value: string | readonly string[]): void {
    const key = name.toLowerCase();
    const e = this.map.get(key);
    if (typeof value === 'string') {
      // One array per header, not a one-element array copied into another.
      if (e) e.values.push(value);
      else this.map.set(key, { name, values: [value] });
    } else if (e) e.values.push(...value);
    else this.map.set(key, { name, values: [...value] });
  }

  /** append() for a caller that has the lower-cased name already (no second toLowerCase). */
  appendLower(lower: string, name: string, value: string): void {
    const e = this.map.get(lower);
    if (e) e.values.push(value);
    else this.map.set(lower, { name, values: [value] });
  }

  delete(name: string): boolean {
    return this.map.delete(name.toLowerCase());
  }

  /** [name as first spelled, values] in insertion order. */
  *entries(): IterableIterator<[string, readonly string[]]> {
    for (const e of this.map.values()) yield [e.name, e.values];
  }

  names(): string[] {
    return [...this.map.values()].map((e) => e.name);
  }

  /** Flat [name, value, name, value …] for res.writeHead / http.request. */
  toRaw(): string[] {
    const out: string[] = [];
    for (const e of this.map.values()) for (const v of e.values) out.push(e.name, v);
    return out;
  }

  clone(): HeaderMap {
    const h = new HeaderMap();
    for (const e of this.map.values()) h.map.set(e.name.toLowerCase(), { name: e.name, values: [...e.values] });
    return h;
  }
}
