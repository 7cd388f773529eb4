import { canonicalEntry, DigestBuilder, entryHashBytes, live } from "./digest";
import { encodeUuid, UUID_WORDS } from "./compact";
import type { Kind, Op } from "./schemas";
import { grantWire, StateError, type EnforcementState } from "./state";

// A streamed full replacement applied as a difference against the state being
// served, instead of building a second complete state next to it (which held
// two states, ~536 MB peak at 1M grants). Each incoming entry is compared with
// the current one as it streams in and only a changed or new one is kept; what
// the stream did not name is deleted. The snapshot's own consistency (unique
// API prefixes, routes naming one of its APIs, grant ids that are uuids) is
// checked on the stream, as a fresh state's validate() would have.

type Value = Record<string, unknown>;
const uuidScratch = new Uint32Array(UUID_WORDS);

export class SnapshotDiff {
  private readonly upserts: Op[] = [];
  private readonly seen = { api: new Set<string>(), route: new Set<string>(), credential: new Set<string>() };
  /** Grants are many: marked by slot in the current grant table, not by id string. */
  private grantSeen = new Uint8Array(1024);
  private readonly prefixes = new Map<string, string>();
  readonly digest: DigestBuilder | null;

  constructor(
    readonly base: EnforcementState,
    private readonly digestAsOf: number | null,
  ) {
    this.digest = digestAsOf === null ? null : new DigestBuilder();
  }

  /** One incoming entry (in stream order: APIs before routes). Throws StateError naming the field. */
  add(kind: Kind, value: Value): void {
    const id = value.id as string;
    if (kind === "api") {
      const holder = this.prefixes.get(value.prefix as string);
      if (holder !== undefined && holder !== id) throw new StateError("value.prefix", `prefix ${String(value.prefix)} is used by another api`);
      this.prefixes.set(value.prefix as string, id);
    } else if (kind === "route") {
      if (!this.seen.api.has(value.apiId as string)) throw new StateError("value.apiId", "unknown api");
    } else if (kind === "grant" && !encodeUuid(id, uuidScratch, 0)) throw new StateError("value.id", "must be a uuid");
    if (this.digest && live(kind, value, this.digestAsOf!)) this.digest.add(kind, id, entryHashBytes(kind, value));
    const current = this.current(kind, id);
    if (current === undefined || canonicalEntry(kind, current) !== canonicalEntry(kind, value)) this.upserts.push({ op: "upsert", kind, value } as Op);
  }

  /** The current entry's wire value (marking it seen), or undefined. */
  private current(kind: Kind, id: string): Value | undefined {
    const s = this.base;
    if (kind === "grant") {
      const slot = s.grantSlotOfId(id);
      if (slot < 0) return undefined;
      if (slot >= this.grantSeen.length) {
        const grown = new Uint8Array(Math.max(slot + 1, this.grantSeen.length * 2));
        grown.set(this.grantSeen);
        this.grantSeen = grown;
      }
      this.grantSeen[slot] = 1;
      return grantWire(s.grantsById.get(id)!) as unknown as Value;
    }
    this.seen[kind].add(id);
    if (kind === "credential") {
      const c = s.credentialsById.get(id);
      return c ? { id: c.id, principalId: c.principalId, hash: c.hash, expiresAt: c.expiresAt } : undefined;
    }
    if (kind === "route") {
      const r = s.routes.get(id);
      return r ? { id: r.id, apiId: r.apiId, method: r.method, pathTemplate: r.pathTemplate, requirements: r.requirements, public: r.public } : undefined;
    }
    const a = s.apis.get(id);
    return a ? { id: a.id, name: a.name, prefix: a.prefix, upstream: a.upstream, keyLocation: a.keyLocation } : undefined;
  }

  /**
   * The ops that turn the current state into the snapshot: deletes of what it
   * did not name, then the changed and new entries. Taken under the mutation
   * lock: an entry a mutation added while the stream was read (not in the
   * snapshot) is deleted, as a full replacement would; one a mutation changed
   * after it was compared keeps the mutation's value.
   */
  ops(): Op[] {
    const s = this.base;
    const deletes: Op[] = [];
    for (const id of s.apis.keys()) if (!this.seen.api.has(id)) deletes.push({ op: "delete", kind: "api", id });
    for (const id of s.routes.keys()) if (!this.seen.route.has(id)) deletes.push({ op: "delete", kind: "route", id });
    for (const id of s.credentialsById.keys()) if (!this.seen.credential.has(id)) deletes.push({ op: "delete", kind: "credential", id });
    for (const slot of s.grantSlots()) if (!(slot < this.grantSeen.length && this.grantSeen[slot] === 1)) deletes.push({ op: "delete", kind: "grant", id: s.grantIdAt(slot) });
    return [...deletes, ...this.upserts];
  }
}
