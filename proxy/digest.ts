import crypto from "node:crypto";
import { anyOf, canonicalRequirements } from "./requirements";
import type { Kind } from "./schemas";
import type { EnforcementState } from "./state";

// Content digests of the enforcement state, so the dashboard's drift repair
// compares content rather than counts (docs/ARCHITECTURE.md, "State digests").
// The dashboard computes the same thing over the snapshot it would send, with
// this very module (lib/enforcement/digest.ts imports it; the proxy imports
// nothing from lib/), so the rules below have one definition.
//
// - One canonical line per entry: canonicalEntry() below, the only place that
//   says which fields count and how they are written.
// - Entry hash: SHA-256 of that line.
// - Buckets: 256 per kind, by the first two hex digits of the entry's id (lower-cased).
// - Bucket digest: SHA-256 of "<count>:<sum>", where sum is the 256-bit sum
//   (mod 2^256, 64 hex digits) of the bucket's entry hashes: order-free, so
//   neither side has to sort or hold its entries. It detects lost, extra and
//   changed entries; it is not meant to resist someone who chooses entries to
//   collide (that person would hold the admin token and could change the state anyway).
// - Kind digest: SHA-256 of the 256 bucket digests joined by "\n".
// - Credentials and grants whose expiresAt <= asOf are left out on both sides:
//   the dashboard never sends expired ones, the proxy keeps them until told
//   (they deny by themselves), and neither is drift.

export const DIGEST_ALGORITHM = "tollgate-digest/1";
export const BUCKETS = 256;

type Value = Record<string, unknown>;
const ms = (v: unknown): number | null => (v === null || v === undefined ? null : typeof v === "number" ? v : Date.parse(String(v)));

/**
 * The canonical serialisation of one entry: a JSON array of its fields in a
 * fixed order, times as epoch milliseconds, requirements canonical. Extend it here
 * when an entry gains a field that enforcement reads (the dashboard uses it too).
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

const oneShot = (crypto as { hash?: (alg: string, data: string, enc: "buffer") => Buffer }).hash;
const sha256 = oneShot ? (s: string) => oneShot("sha256", s, "buffer") : (s: string) => crypto.createHash("sha256").update(s).digest();
const sha256Hex = (s: string) => sha256(s).toString("hex");

/** The entry hash as raw bytes (what the bucket sums add up). */
export const entryHashBytes = (kind: Kind, v: Value): Buffer => sha256(canonicalEntry(kind, v));
export const entryHash = (kind: Kind, v: Value): string => entryHashBytes(kind, v).toString("hex");
export const bucketOf = (id: string): number => parseInt(id.slice(0, 2), 16) & 0xff;

/** Whether an entry counts at `asOf` (expired credentials and grants do not). */
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

/** Accumulates entry hashes into per-bucket 256-bit sums. */
export class DigestBuilder {
  private readonly sums = { api: new Uint32Array(BUCKETS * 8), route: new Uint32Array(BUCKETS * 8), credential: new Uint32Array(BUCKETS * 8), grant: new Uint32Array(BUCKETS * 8) };
  private readonly counts = { api: new Uint32Array(BUCKETS), route: new Uint32Array(BUCKETS), credential: new Uint32Array(BUCKETS), grant: new Uint32Array(BUCKETS) };

  add(kind: Kind, id: string, hash: Buffer): void {
    const b = bucketOf(id);
    const sum = this.sums[kind];
    const base = b * 8;
    let carry = 0;
    // Big-endian words: word 7 is the least significant.
    for (let w = 7; w >= 0; w--) {
      const t = sum[base + w] + hash.readUInt32BE(w * 4) + carry;
      sum[base + w] = t >>> 0;
      carry = t > 0xffffffff ? 1 : 0;
    }
    this.counts[kind][b]++;
  }

  result(): StateDigest {
    const out = {} as StateDigest;
    for (const kind of ["api", "route", "credential", "grant"] as const) {
      const buckets: string[] = [];
      let count = 0;
      for (let b = 0; b < BUCKETS; b++) {
        let hex = "";
        for (let w = 0; w < 8; w++) hex += this.sums[kind][b * 8 + w].toString(16).padStart(8, "0");
        count += this.counts[kind][b];
        buckets.push(sha256Hex(`${this.counts[kind][b]}:${hex}`));
      }
      out[kind] = { count, digest: sha256Hex(buckets.join("\n")), buckets };
    }
    return out;
  }
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/** The digest of a state at `asOf`. Yields to the event loop every 5,000 entries (a million grants take about a second). */
export async function digestState(state: EnforcementState, asOf: number): Promise<StateDigest> {
  const d = new DigestBuilder();
  let n = 0;
  for (const { kind, value } of state.values()) {
    const v = value as unknown as Value;
    if (live(kind, v, asOf)) d.add(kind, v.id as string, entryHashBytes(kind, v));
    if (++n % 5_000 === 0) await yieldNow();
  }
  return d.result();
}

/** [id, entry hash] of the live entries of one kind in the given buckets: what the dashboard diffs against. */
export async function entriesIn(state: EnforcementState, kind: Kind, buckets: Set<number>, asOf: number): Promise<[string, string][]> {
  const out: [string, string][] = [];
  let n = 0;
  for (const e of state.values()) {
    if (++n % 5_000 === 0) await yieldNow();
    if (e.kind !== kind) continue;
    const v = e.value as unknown as Value;
    if (buckets.has(bucketOf(v.id as string)) && live(kind, v, asOf)) out.push([v.id as string, entryHash(kind, v)]);
  }
  return out;
}
