import { DigestBuilder, entryHashBytes, live, type StateDigest } from "@/proxy/digest";
import type { Kind } from "@/proxy/schemas";
import type { ProxySnapshot } from "./snapshot";

// The dashboard's half of the state digest the proxy serves at GET /admin/v1/digest
// (docs/ARCHITECTURE.md, "State digests"): the same digest, computed over the snapshot
// the dashboard would send. The rules (canonical entry, buckets, sums) have one
// definition, in proxy/digest.ts: the proxy imports nothing from lib/, so lib imports
// the proxy's pure module instead of keeping a copy.
export { BUCKETS, DIGEST_ALGORITHM, bucketOf, canonicalEntry, entryHash, live, type KindDigest, type StateDigest } from "@/proxy/digest";
export { KINDS, type Kind } from "@/proxy/schemas";

type Value = Record<string, unknown>;
type Snapshot = Pick<ProxySnapshot, "apis" | "routes" | "credentials" | "grants">;

/** A snapshot's entries by kind, in the order the proxy receives them (apis first: routes name them). */
export const snapshotParts = (s: Snapshot) =>
  [
    ["api", s.apis],
    ["route", s.routes],
    ["credential", s.credentials],
    ["grant", s.grants],
  ] as const;

/** Every entry of a snapshot that is live at `asOf`, as the proxy would list it. */
export function* snapshotEntries(s: Snapshot, asOf: number): Generator<{ kind: Kind; value: Value }> {
  for (const [kind, values] of snapshotParts(s)) {
    for (const value of values as unknown as Value[]) if (live(kind, value, asOf)) yield { kind, value };
  }
}

const add = (d: DigestBuilder, e: { kind: Kind; value: Value }) => d.add(e.kind, e.value.id as string, entryHashBytes(e.kind, e.value));

export function digestSnapshot(s: Snapshot, asOf: number): StateDigest {
  const d = new DigestBuilder();
  for (const e of snapshotEntries(s, asOf)) add(d, e);
  return d.result();
}

/** digestSnapshot without holding the event loop: yields every 5,000 entries (a million grants take seconds). */
export async function digestSnapshotAsync(s: Snapshot, asOf: number): Promise<StateDigest> {
  const d = new DigestBuilder();
  let n = 0;
  for (const e of snapshotEntries(s, asOf)) {
    add(d, e);
    if (++n % 5_000 === 0) await new Promise<void>((r) => setImmediate(r));
  }
  return d.result();
}
