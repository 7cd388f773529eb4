import crypto from "node:crypto";
import { anyOf, canonicalRequirements } from "@/proxy/requirements";
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
 * milliseconds, requirements canonical. Extend it together with proxy/digest.ts.
 */
export function canonicalEntry(kind: Kind, v: Value): string {
  switch (kind) {
    case "api": {
      // prefix is the one the proxy serves the API under (an imported API's own
      // proxyPrefix, else derived from its name). keyLocation (where clients send
      // their key, in the order tried) only when set, so an API without one keeps
      // the line it always had.
      const fields: unknown[] = [v.id, v.name, v.prefix, String(v.upstream).replace(/\/+$/, "")];
      const loc = v.keyLocation as { names?: unknown; header?: unknown; query?: unknown } | null | undefined;
      if (loc) fields.push(["keyLocation", Array.isArray(loc.names) ? loc.names.map(String) : [], loc.header === true, loc.query === true]);
      return JSON.stringify(fields);
    }
    case "route":
      // Requirements in their canonical form (proxy/requirements.ts); a value still
      // in the older "any one of" scopeIds form reads as single-scope alternatives.
      return JSON.stringify([v.id, v.apiId, v.method, v.pathTemplate, canonicalRequirements((v.requirements as string[][] | undefined) ?? anyOf((v.scopeIds as string[] | undefined) ?? [])), v.public === true]);
    case "credential":
      return JSON.stringify([v.id, v.principalId, v.hash, ms(v.expiresAt)]);
    case "grant":
      return JSON.stringify([v.id, v.principalId, v.scopeId, ms(v.expiresAt)]);
  }
}

const sha256 = (s: string): Buffer => crypto.createHash("sha256").update(s).digest();
const sha256Hex = (s: string) => sha256(s).toString("hex");
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

/** Per kind: per bucket the entry count and the 256-bit sum of entry hashes, then hashed (see proxy/digest.ts). */
export function digestEntries(entries: Iterable<{ kind: Kind; value: Value }>): StateDigest {
  const acc = new Accumulator();
  for (const e of entries) acc.add(e.kind, e.value);
  return acc.result();
}

/** digestSnapshot without holding the event loop: yields every 5,000 entries (a million grants take seconds). */
export async function digestSnapshotAsync(s: Pick<ProxySnapshot, "apis" | "routes" | "credentials" | "grants">, asOf: number): Promise<StateDigest> {
  const acc = new Accumulator();
  let n = 0;
  for (const e of snapshotEntries(s, asOf)) {
    acc.add(e.kind, e.value);
    if (++n % 5_000 === 0) await new Promise<void>((r) => setImmediate(r));
  }
  return acc.result();
}

class Accumulator {
  // 8 big-endian 32-bit words per bucket; word 7 is the least significant.
  private readonly sums = Object.fromEntries(KINDS.map((k) => [k, new Uint32Array(BUCKETS * 8)])) as Record<Kind, Uint32Array>;
  private readonly counts = Object.fromEntries(KINDS.map((k) => [k, new Uint32Array(BUCKETS)])) as Record<Kind, Uint32Array>;

  add(kind: Kind, value: Value): void {
    const b = bucketOf(value.id as string);
    const h = sha256(canonicalEntry(kind, value));
    const sum = this.sums[kind];
    let carry = 0;
    for (let w = 7; w >= 0; w--) {
      const t = sum[b * 8 + w] + h.readUInt32BE(w * 4) + carry;
      sum[b * 8 + w] = t >>> 0;
      carry = t > 0xffffffff ? 1 : 0;
    }
    this.counts[kind][b]++;
  }

  result(): StateDigest {
    const { sums, counts } = this;
    const out = {} as StateDigest;
    for (const kind of KINDS) {
      const buckets: string[] = [];
      for (let b = 0; b < BUCKETS; b++) {
        let hex = "";
        for (let w = 0; w < 8; w++) hex += sums[kind][b * 8 + w].toString(16).padStart(8, "0");
        buckets.push(sha256Hex(`${counts[kind][b]}:${hex}`));
      }
      out[kind] = { count: counts[kind].reduce((a, c) => a + c, 0), digest: sha256Hex(buckets.join("\n")), buckets };
    }
    return out;
  }
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
