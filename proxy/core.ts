import type { Logger } from "pino";
import { EnforcementState, StateError } from "./state";
import { collectGarbage } from "./heap";
import type { SnapshotDiff } from "./state-diff";
import { StateStore, type IdempotencyRecord, type PersistedMeta } from "./store";
import type { Op, SnapshotBody } from "./schemas";

// Owns the current state, its revision and the idempotency record, and
// serialises every mutation: validate -> persist (journal fsync) -> apply in
// memory -> acknowledge. Reads on the request path never wait for this queue.

export class IdempotencyConflict extends Error {}
/** A conditional change (ifRevision) whose revision is no longer the current one: nothing applied. */
export class RevisionConflict extends Error {}

export interface MutationResult {
  revision: number;
  applied: boolean;
}

const IDEMPOTENCY_CAP = 100_000;

export class Core {
  state: EnforcementState | null = null;
  revision = 0;
  lastSyncAt: string | null = null;
  private readonly seen = new Map<string, { rev: number; hash: string }>();
  private queue: Promise<unknown> = Promise.resolve();
  private recorders = new Set<Op[][]>();
  private compacting: Promise<void> | null = null;
  readonly store: StateStore | null;

  constructor(
    readonly environment: string,
    stateFile: string | undefined,
    private readonly compactEvery: number,
    private readonly log: Logger,
  ) {
    this.store = stateFile ? new StateStore(stateFile) : null;
  }

  /**
   * Set at start while a fresh pull from the dashboard is preferred over the
   * persisted state (server.ts): the state is loaded and takes mutations, but
   * the data plane is not served from it until the pull or its deadline.
   */
  holding = false;

  get ready(): boolean {
    return this.state !== null && !this.holding;
  }

  /** The state requests are decided on: null (503 / forward-auth 403) while not ready. */
  get serving(): EnforcementState | null {
    return this.holding ? null : this.state;
  }

  /** Loads persisted state; the proxy becomes ready only from a complete file. */
  async loadPersisted(): Promise<void> {
    if (!this.store) return;
    const loaded = await this.store.load();
    if (!loaded) return;
    if (loaded.meta.environment !== this.environment) {
      throw new Error(`${this.store.file} holds state for environment ${loaded.meta.environment}, not ${this.environment}`);
    }
    for (const [key, rev, hash] of loaded.meta.idempotency) this.remember(key, rev, hash);
    this.revision = loaded.meta.revision;
    this.lastSyncAt = loaded.meta.lastSyncAt;
    this.state = loaded.state;
    // Fold the journal (and any torn tail, which a later append would otherwise
    // glue onto) into a fresh snapshot right away.
    if (loaded.replayed.length > 0 || loaded.tornTail) await this.store.writeSnapshot(this.state, this.meta());
    const gcMs = collectGarbage(); // the file's parse garbage; see heap.ts
    this.log.info({ revision: this.revision, counts: this.state.counts(), replayed: loaded.replayed.length, gcMs }, "state loaded");
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private remember(key: string, rev: number, hash: string): void {
    this.seen.delete(key);
    this.seen.set(key, { rev, hash });
    if (this.seen.size > IDEMPOTENCY_CAP) this.seen.delete(this.seen.keys().next().value!);
  }

  private replay(key: string, hash: string): MutationResult | null {
    const prior = this.seen.get(key);
    if (!prior) return null;
    if (prior.hash !== hash) throw new IdempotencyConflict("idempotencyKey was used with a different body");
    return { revision: prior.rev, applied: false };
  }

  meta(): PersistedMeta {
    const idempotency: IdempotencyRecord[] = [];
    for (const [k, v] of this.seen) idempotency.push([k, v.rev, v.hash]);
    return { revision: this.revision, environment: this.environment, lastSyncAt: this.lastSyncAt, idempotency };
  }

  /**
   * Called with a batch's grant and credential removals once the batch is validated, before its fsync, so a
   * data plane outside this process can enforce them as early as this one does (proxy-nginx/controller.ts).
   * Must not throw or wait: the acknowledgement still comes only after the fsync.
   */
  protected removedEarly(_removals: Op[]): void {}

  /** Called for each batch a replacement-by-diff journaled and applied, with its revision (the nginx mirror). */
  protected diffApplied(_revision: number, _ops: Op[]): void {}

  /** Applies a batch of ops atomically. Throws StateError (400) or IdempotencyConflict (409). */
  mutate(key: string, hash: string, ops: Op[], ifRevision?: number): Promise<MutationResult> {
    return this.exclusive(async () => {
      const prior = this.replay(key, hash);
      if (prior) return prior;
      if (!this.state) throw new NotReady();
      this.checkRevision(ifRevision);
      this.state.validate(ops);
      const rev = this.revision + 1;
      // Removing a grant or credential only ever restricts access, so those take
      // effect before the fsync: a revoke is enforced from the moment it is
      // validated. Everything else (route changes can re-route a path to a
      // less-guarded template) waits until the batch is durable. Re-applying
      // the whole batch in order afterwards gives the batch's exact final state.
      const removals = ops.filter((o) => o.op === "delete" && (o.kind === "grant" || o.kind === "credential"));
      if (removals.length > 0) {
        this.state.applyOps(removals);
        this.removedEarly(removals);
      }
      await this.store?.append({ rev, key, hash, ops, at: new Date().toISOString() });
      this.state.applyOps(ops);
      this.revision = rev;
      this.remember(key, rev, hash);
      for (const r of this.recorders) r.push(ops);
      if (this.store && this.store.journalEntries >= this.compactEvery && !this.compacting) await this.startCompaction();
      return { revision: rev, applied: true };
    });
  }

  /** Replaces the whole state. The new state is persisted before it is served. */
  replace(key: string, hash: string, body: SnapshotBody | EnforcementState, recorded?: Op[][], ifRevision?: number): Promise<MutationResult> {
    return this.exclusive(async () => {
      const prior = this.replay(key, hash);
      if (prior) return prior;
      this.checkRevision(ifRevision);
      const next = body instanceof EnforcementState ? body : EnforcementState.fromSnapshot(body);
      // Mutations acknowledged while a pulled snapshot was in flight stay applied.
      for (const ops of recorded ?? []) {
        try {
          next.validate(ops);
          next.applyOps(ops);
        } catch (e) {
          if (!(e instanceof StateError)) throw e;
        }
      }
      const rev = this.revision + 1;
      const prevSync = this.lastSyncAt;
      this.lastSyncAt = new Date().toISOString();
      this.remember(key, rev, hash);
      const meta = { ...this.meta(), revision: rev };
      try {
        await this.settled();
        await this.store?.writeSnapshot(next, meta);
      } catch (e) {
        this.seen.delete(key);
        this.lastSyncAt = prevSync;
        throw e;
      }
      this.state = next;
      this.revision = rev;
      this.holding = false;
      const gcMs = collectGarbage();
      this.log.info({ revision: rev, counts: next.counts(), gcMs, rssMb: Math.round(process.memoryUsage.rss() / 2 ** 20) }, "state replaced");
      return { revision: rev, applied: true };
    });
  }

  /**
   * A pushed replacement applied as the difference a streamed snapshot has with
   * the current state (state-diff.ts), so it never holds two full states. Like a
   * batch: removals take effect at once, the rest once the difference is in the
   * journal. (A pull still builds a full state: its recorded batches must be
   * re-applied before anything of it is served; see replace.)
   */
  replaceByDiff(key: string, hash: string, diff: SnapshotDiff, ifRevision?: number): Promise<MutationResult> {
    return this.exclusive(async () => {
      const prior = this.replay(key, hash);
      if (prior) return prior;
      if (!this.state || this.state !== diff.base) throw new RevisionConflict("the state was replaced while this snapshot streamed in: send it again");
      this.checkRevision(ifRevision);
      const state = this.state;
      const ops = diff.ops();
      const removals = ops.filter((o) => o.op === "delete" && (o.kind === "grant" || o.kind === "credential"));
      if (removals.length > 0) {
        state.applyOps(removals);
        this.removedEarly(removals);
      }
      const rev = this.revision + 1;
      const at = new Date().toISOString();
      await this.store?.append({ rev, key, hash, ops, at });
      state.applyOps(ops);
      this.revision = rev;
      this.remember(key, rev, hash);
      this.lastSyncAt = at;
      this.holding = false;
      this.diffApplied(rev, ops);
      for (const r of this.recorders) r.push(ops);
      if (this.store && this.store.journalEntries >= this.compactEvery && !this.compacting) await this.startCompaction();
      this.log.info({ revision: rev, changed: ops.length, counts: state.counts(), rssMb: Math.round(process.memoryUsage.rss() / 2 ** 20) }, "state replaced by its difference");
      return { revision: rev, applied: true };
    });
  }

  /**
   * The dashboard's drift repair computes its change from a digest taken at
   * some revision; a decision delivered since then must not be undone by it.
   */
  private checkRevision(ifRevision: number | undefined): void {
    if (ifRevision !== undefined && ifRevision !== this.revision) throw new RevisionConflict(`ifRevision ${ifRevision} is not the current revision ${this.revision}`);
  }

  /** Starts recording applied batches (for a snapshot pull in flight). */
  record(): { ops: Op[][]; stop: () => void } {
    const ops: Op[][] = [];
    this.recorders.add(ops);
    return { ops, stop: () => this.recorders.delete(ops) };
  }

  /**
   * Rotates the journal under the mutation lock, then writes the snapshot in
   * the background so revocations are never queued behind a million-grant write.
   */
  private async startCompaction(): Promise<void> {
    const store = this.store!;
    if (!(await store.rotateJournal())) return;
    const state = this.state!;
    const meta = this.meta();
    const t = Date.now();
    this.compacting = store
      .writeSnapshotFile(state, meta)
      .then(() => store.removeOldJournal())
      .then(
        () => this.log.info({ revision: meta.revision, ms: Date.now() - t }, "journal compacted"),
        (e: unknown) => this.log.error({ err: (e as Error).message }, "compaction failed; the journal is kept"),
      )
      .finally(() => (this.compacting = null));
  }

  /** Resolves when no compaction is running (tests, shutdown, snapshot replacement). */
  async settled(): Promise<void> {
    while (this.compacting) await this.compacting;
  }

  /** Waits for queued mutations and closes the journal. */
  async close(): Promise<void> {
    await this.exclusive(async () => {
      await this.settled();
      await this.store?.closeJournal();
    });
  }
}

export class NotReady extends Error {}
