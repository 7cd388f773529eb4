import crypto from "node:crypto";

/**
 * Canonical JSON: object keys sorted, no whitespace, undefined members dropped
 * (as JSON.stringify does). Two semantically equal values always give the same
 * string, so the hash does not depend on key order — which matters because
 * Postgres jsonb reorders keys on the way back.
 */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): unknown {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "number" && !Number.isFinite(value)) return null;
    return value;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalize(v)));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || typeof v === "function") continue;
    out[key] = normalize(v);
  }
  return out;
}

export const GENESIS_HASH = "0".repeat(64);

/** The hashed content of an event. seq is left out on purpose: it is a storage detail (gaps are allowed). */
export interface HashedContent {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  data: unknown;
}

export function eventHash(prevHash: string, content: HashedContent): string {
  const body = canonicalJSON({
    id: content.id,
    at: content.at.toISOString(),
    actor: content.actor,
    action: content.action,
    target: content.target,
    data: content.data,
  });
  return sha256Hex(prevHash + body);
}

// crypto.hash (Node >= 20.12) is a one-shot digest: about a third of createHash's cost per call, which
// is most of the hashing time when a million small events are verified.
const sha256Hex: (s: string) => string =
  typeof crypto.hash === "function" ? (s) => crypto.hash("sha256", s, "hex") : (s) => crypto.createHash("sha256").update(s).digest("hex");

/**
 * The same hash as eventHash, from an event read as text (verification of a
 * large log): the canonical body is written directly, in canonicalJSON's key
 * order (action, actor, at, data, id, target), without building objects.
 * `data` is the jsonb column as text; it is parsed once and re-serialised
 * canonically. Tested equal to eventHash (chain.test.ts).
 */
export function eventHashFromText(prevHash: string, e: { id: string; at: string; actor: string; action: string; target: string | null; data: string }): string {
  const q = JSON.stringify;
  const body = `{"action":${q(e.action)},"actor":${q(e.actor)},"at":${q(e.at)},"data":${canonicalValue(JSON.parse(e.data))},"id":${q(e.id)},"target":${e.target === null ? "null" : q(e.target)}}`;
  return sha256Hex(prevHash + body);
}

/** canonicalJSON for values parsed from JSON text (null, booleans, numbers, strings, arrays, objects), written directly. */
export function canonicalValue(v: unknown): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? JSON.stringify(v) : "null";
    case "boolean":
      return v ? "true" : "false";
  }
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) out += (i ? "," : "") + canonicalValue(v[i]);
    return out + "]";
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort(canonicalKeyOrder);
  let out = "{";
  for (let i = 0; i < keys.length; i++) out += (i ? "," : "") + JSON.stringify(keys[i]) + ":" + canonicalValue(o[keys[i]]);
  return out + "}";
}

/**
 * The key order canonicalJSON produces, which every stored hash was made with:
 * normalize() inserts the keys sorted, but JSON.stringify writes an object's
 * array-index keys ("0", "7", "10"; below 2^32 - 1, no leading zeros) first, in
 * numeric order, and only then the other keys in the order inserted. A plain
 * sort() would put "10" before "9" and misjudge such an event as modified.
 */
export function canonicalKeyOrder(a: string, b: string): number {
  const ia = isArrayIndex(a);
  const ib = isArrayIndex(b);
  if (ia && ib) return Number(a) - Number(b);
  if (ia !== ib) return ia ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 4294967295;
}
