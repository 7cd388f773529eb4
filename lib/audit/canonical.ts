import { createHash } from "node:crypto";

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
  return createHash("sha256").update(prevHash).update(body).digest("hex");
}
