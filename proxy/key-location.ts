import type { IncomingHttpHeaders } from "node:http";
import type { KeyLocation } from "./schemas";

// Reading the key where an API's clients send it, as Kong's key-auth plugin does
// (kong/plugins/key-auth/handler.lua, do_authentication): for each configured
// name in order, the header of that name, else the query parameter; the first
// name that yields a string is the key. A repeated parameter is a duplicate key
// and fails (401), as does an empty value; a bare "?apikey" (no "=") is not a
// value and the search goes on. Header names are matched case-insensitively
// with "_" read as "-" (nginx drops header names with underscores by default,
// and ngx.req.get_headers() looks "api_key" up as "api-key").

export const headerNameOf = (name: string): string => name.toLowerCase().replace(/_/g, "-");

function decode(s: string): string {
  const plus = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

type QueryValue = { kind: "absent" } | { kind: "bare" } | { kind: "one"; value: string } | { kind: "many" };

/** The value(s) of one query parameter in a raw query string ("" or "?a=b&c"). */
function queryValue(query: string, name: string): QueryValue {
  if (query.length < 2) return { kind: "absent" };
  let found: QueryValue = { kind: "absent" };
  for (const part of query.slice(1).split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (decode(eq === -1 ? part : part.slice(0, eq)) !== name) continue;
    if (found.kind !== "absent") return { kind: "many" };
    found = eq === -1 ? { kind: "bare" } : { kind: "one", value: decode(part.slice(eq + 1)) };
  }
  return found;
}

/** The presented key, or null when there is none, it is empty, or it was sent twice. */
export function keyAtLocation(loc: KeyLocation, headers: IncomingHttpHeaders, query: string): string | null {
  for (const name of loc.names) {
    let v: string | undefined;
    if (loc.header) {
      const h = headers[headerNameOf(name)];
      if (Array.isArray(h)) return null;
      v = h;
    }
    if (v === undefined && loc.query) {
      const q = queryValue(query, name);
      if (q.kind === "many") return null;
      if (q.kind === "one") v = q.value;
    }
    if (v !== undefined) return v.length > 0 && v.length <= 512 ? v : null;
  }
  return null;
}

/** The query without any parameter named like a key name (what is forwarded when keys are not). */
export function queryWithoutKeys(loc: KeyLocation, query: string): string {
  if (!loc.query || query.length < 2) return query;
  const kept = query
    .slice(1)
    .split("&")
    .filter((part) => {
      const eq = part.indexOf("=");
      return !loc.names.includes(decode(eq === -1 ? part : part.slice(0, eq)));
    });
  return kept.length === 0 || (kept.length === 1 && kept[0] === "") ? "" : "?" + kept.join("&");
}

/** Header names (lower case) that carry the key, in both spellings, never forwarded when keys are not. */
export function keyHeaderNames(loc: KeyLocation): Set<string> {
  const out = new Set<string>();
  if (!loc.header) return out;
  for (const n of loc.names) {
    out.add(headerNameOf(n));
    out.add(n.toLowerCase());
  }
  return out;
}
