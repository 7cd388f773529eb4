/**
 * The path prefix each API is served under at the proxy. An API imported from a
 * gateway (lib/access-import) keeps its own prefix (`proxyPrefix`, the path its
 * clients already call), and those are claimed first; every other API gets one
 * derived from its name ("Orders API" -> "/orders-api"), suffixed with its id
 * when that is taken. Input in (name, id) order; snapshot and outbox both use this.
 */
export interface KeyLocation {
  names: string[];
  header: boolean;
  query: boolean;
}

export function apiPrefix(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return "/" + (slug || "api");
}

export function assignPrefixes(apis: { id: string; name: string; proxyPrefix: string | null }[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const a of apis) {
    if (a.proxyPrefix) {
      out.set(a.id, a.proxyPrefix);
      used.add(a.proxyPrefix);
    }
  }
  for (const a of apis) {
    if (a.proxyPrefix) continue;
    let prefix = apiPrefix(a.name);
    if (prefix === "/_tollgate" || used.has(prefix)) prefix = `${prefix}-${a.id.slice(0, 8)}`;
    used.add(prefix);
    out.set(a.id, prefix);
  }
  return out;
}
