import crypto from "node:crypto";
import type { ProxySnapshot } from "./snapshot";

// The dashboard's half of the state digest the proxy serves at GET /admin/v1/digest
// (docs/ARCHITECTURE.md, "State digests"). The proxy imports nothing from lib/,
// so the rules live twice: here and in proxy/digest.ts. They must stay equal
// byte for byte; lib/enforcement/digest.test.ts checks both sides agree on the same state.

export const DIGEST_ALGORITHM = "tollgate-digest/1";
export const BUCKETS = 256;
export const KINDS = ["api", "route", "credential", "grant"] as const;
export type Kind = (typeof KINDS)[number];

type Value = Record<string, unknown>;
const ms = (v: unknown): number | null => (v === null || v === undefined ? null : typeof v === "number" ? v : Date.parse(String(v)));

/**
 * The canonical serialisation of one entry (the single definition on this
 * side): a JSON array of its fields in a fixed order, times as epoch
 * milliseconds, scope lists sorted. Extend it together with proxy/digest.ts.
 */
export function canonicalEntry(kind: Kind, v: Value): string {
  switch (kind) {
    case "api":
      return JSON.stringify([v.id, v.name, v.prefix, String(v.upstream).replace(/\/+$/, "")]);
    case "route":
      return JSON.stringify([v.id, v.apiId, v.method, v.pathTemplate, [...(v.scopeIds as string[])].sort(), v.public === true]);
    case "credential":
      return JSON.stringify([v.id, v.principalId, v.hash, ms(v.expiresAt)]);
    case "grant":
      return JSON.stringify([v.id, v.principalId, v.scopeId, ms(v.expiresAt)]);
  }
}

const sha256Hex = (s: string) => crypto.createHash("sha256").update(s).digest("hex");
export const entryHash = (kind: Kind, v: Value): string => sha256Hex(canonicalEntry(kind, v));
export const bucketOf = (id: string): number => parseInt(id.slice(0, 2), 16) & 0xff;

/** Credentials and grants expired at `asOf` count on neither side. */
export function live(kind: Kind, v: Value, asOf: number): boolean {
  if (kind !== "credential" && kind !== "grant") return true;
  const e = ms(v.expiresAt);
  return e === null || e > asOf;
}

export interface KindDigest {
  count: number;
  digest: string;
  buckets: string[];
}
export type StateDigest = Record<Kind, KindDigest>;

const MOD = 1n << 256n;

/** Per kind: per bucket the entry count and the 256-bit sum of entry hashes, then hashed (see proxy/digest.ts). */
export function digestEntries(entries: Iterable<{ kind: Kind; value: Value }>): StateDigest {
  const sums = Object.fromEntries(KINDS.map((k) => [k, new Array<bigint>(BUCKETS).fill(0n)])) as Record<Kind, bigint[]>;
  const counts = Object.fromEntries(KINDS.map((k) => [k, new Array<number>(BUCKETS).fill(0)])) as Record<Kind, number[]>;
  for (const { kind, value } of entries) {
    const b = bucketOf(value.id as string);
    sums[kind][b] = (sums[kind][b] + BigInt("0x" + entryHash(kind, value))) % MOD;
    counts[kind][b]++;
  }
  const out = {} as StateDigest;
  for (const kind of KINDS) {
    const buckets = sums[kind].map((sum, b) => sha256Hex(`${counts[kind][b]}:${sum.toString(16).padStart(64, "0")}`));
    out[kind] = { count: counts[kind].reduce((a, c) => a + c, 0), digest: sha256Hex(buckets.join("\n")), buckets };
  }
  return out;
}

/** Every entry of a snapshot that is live at `asOf`, as the proxy would list it. */
export function* snapshotEntries(s: Pick<ProxySnapshot, "apis" | "routes" | "credentials" | "grants">, asOf: number): Generator<{ kind: Kind; value: Value }> {
  const parts = [
    ["api", s.apis],
    ["route", s.routes],
    ["credential", s.credentials],
    ["grant", s.grants],
  ] as const;
  for (const [kind, values] of parts) {
    for (const value of values as unknown as Value[]) if (live(kind, value, asOf)) yield { kind, value };
  }
}

export const digestSnapshot = (s: Pick<ProxySnapshot, "apis" | "routes" | "credentials" | "grants">, asOf: number): StateDigest => digestEntries(snapshotEntries(s, asOf));
