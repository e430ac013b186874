/**
 * Host-name matching of multi-site listeners: exact names and Azure's wildcards (`*` any
 * characters, `?` one character), case-insensitive (spec 4.1). Compiled once per listener.
 */
export type HostMatcher = (host: string) => boolean;

export function compileHostMatcher(hostNames: readonly string[]): HostMatcher {
  if (hostNames.length === 0) return () => true;
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const h of hostNames) {
    if (/[*?]/.test(h)) {
      const src = h.toLowerCase().replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
      patterns.push(new RegExp(`^${src}$`));
    } else exact.add(h.toLowerCase());
  }
  if (patterns.length === 0) return (host) => exact.has(host);
  return (host) => exact.has(host) || patterns.some((re) => re.test(host));
}

/** The host part of a Host header or :authority, lowercased, without port; '' when unusable. */
export function hostOf(value: string | undefined): string {
  if (!value) return '';
  let v = value.trim();
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    return end > 0 ? v.slice(0, end + 1).toLowerCase() : '';
  }
  const colon = v.indexOf(':');
  if (colon >= 0) v = v.slice(0, colon);
  if (v.endsWith('.')) v = v.slice(0, -1);
  return v.toLowerCase();
}
