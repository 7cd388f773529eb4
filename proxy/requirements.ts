// An endpoint's security requirements, as OpenAPI states them: a list of
// alternatives (OR), each a set of scopes that are all required (AND).
// `[["a", "b"], ["c"]]` reads "a AND b, or c". An empty list means no scope
// can satisfy the route (protected with no scope: refused until one is
// assigned); a public route is marked by its own flag, not by an empty set.
//
// The canonical form (what the dashboard sends, the proxy stores and
// serialises, and digests cover) has every set sorted and free of duplicates,
// and the sets themselves sorted and free of duplicates, so one meaning has one
// JSON text. Pure and dependency-free: imported by the proxy and by lib/.

export type Requirements = string[][];

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Orders sets element by element; a set that is a prefix of another comes first. */
export function compareSets(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = byString(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/**
 * An empty set is dropped: it would read as "nothing required", which only
 * `public` may say (the wire schema refuses one; this keeps any other way in,
 * such as a hand-edited state file, from failing open).
 */
export function canonicalRequirements(sets: readonly (readonly string[])[]): Requirements {
  const sorted = sets.filter((s) => s.length > 0).map((s) => [...new Set(s)].sort(byString)).sort(compareSets);
  return sorted.filter((s, i) => i === 0 || compareSets(s, sorted[i - 1]) !== 0);
}

/** The old "any one of these scopes" list as requirements: one single-scope alternative per scope. */
export const anyOf = (scopeIds: readonly string[]): Requirements => canonicalRequirements(scopeIds.map((s) => [s]));

/** Every scope a route names, in any alternative, sorted. */
export const scopesNamed = (reqs: readonly (readonly string[])[]): string[] => [...new Set(reqs.flat())].sort(byString);

/** "a AND b, or c" (names or ids, as given). */
export function describeRequirements(reqs: readonly (readonly string[])[]): string {
  return reqs.map((s) => s.join(" AND ")).join(", or ");
}

/** Rows of (set key, member), e.g. EndpointScope (requirementId, scopeId), as canonical requirements. */
export function groupSets<T>(rows: readonly T[], setOf: (row: T) => string, member: (row: T) => string): Requirements {
  const sets = new Map<string, string[]>();
  for (const r of rows) {
    const k = setOf(r);
    const set = sets.get(k);
    if (set) set.push(member(r));
    else sets.set(k, [member(r)]);
  }
  return canonicalRequirements([...sets.values()]);
}
