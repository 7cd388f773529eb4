import { createReadStream } from "node:fs";
import { open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { EnforcementState } from "./state";
import type { Kind, Op } from "./schemas";

// Persistence of acknowledged state: a snapshot file (NDJSON, written to a temp
// file, fsynced, renamed) plus an append-only journal of applied batches, each
// fsynced before the mutation is acknowledged. Loading = snapshot + journal
// entries newer than the snapshot's revision. Compaction folds the journal into
// a new snapshot in the background: the snapshot of a state still being
// mutated may hold some objects in a later form than its revision says, which
// is harmless because every journal op sets or removes a whole object, so
// replaying the newer entries in order converges on the same final state. Why: see docs/ARCHITECTURE.md, "Proxy state and failing closed".

export const FORMAT = "tollgate-proxy-state/1";

export type IdempotencyRecord = [key: string, revision: number, hash: string];

export interface PersistedMeta {
  revision: number;
  environment: string;
  lastSyncAt: string | null;
  idempotency: IdempotencyRecord[];
}

export interface JournalEntry {
  rev: number;
  key: string;
  hash: string;
  ops: Op[];
  at: string;
}

export interface Loaded {
  state: EnforcementState;
  meta: PersistedMeta;
  replayed: JournalEntry[];
}

const CHUNK = 1 << 20;

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, "r");
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export class StateStore {
  private journal: FileHandle | null = null;
  journalEntries = 0;
  readonly journalFile: string;
  private readonly oldJournalFile: string;

  constructor(readonly file: string) {
    this.journalFile = file + ".journal";
    this.oldJournalFile = file + ".journal.old";
  }

  /** Null when there is no snapshot file yet. Throws when the file is incomplete or corrupt. */
  async load(): Promise<Loaded | null> {
    if (!(await exists(this.file))) return null;
    const state = new EnforcementState();
    let meta: PersistedMeta | null = null;
    let complete = false;
    let pending: Op[] = [];
    const lines = readline.createInterface({ input: createReadStream(this.file, "utf8"), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line) continue;
      const rec = JSON.parse(line);
      if (meta === null) {
        if (rec.format !== FORMAT) throw new Error(`${this.file}: not a ${FORMAT} file`);
        meta = { revision: rec.revision, environment: rec.environment, lastSyncAt: rec.lastSyncAt, idempotency: rec.idempotency };
        continue;
      }
      if (rec.end) {
        complete = true;
        break;
      }
      pending.push({ op: "upsert", kind: rec.k as Kind, value: rec.v } as Op);
      if (pending.length >= 10_000) {
        state.applyOps(pending);
        pending = [];
      }
    }
    state.applyOps(pending);
    if (!meta || !complete) throw new Error(`${this.file}: incomplete state file (no end marker)`);

    // Journal entries after the snapshot, in order; a torn last line was never acknowledged.
    const replayed: JournalEntry[] = [];
    for (const jf of [this.oldJournalFile, this.journalFile]) {
      if (!(await exists(jf))) continue;
      const jl = readline.createInterface({ input: createReadStream(jf, "utf8"), crlfDelay: Infinity });
      for await (const line of jl) {
        if (!line) continue;
        let e: JournalEntry;
        try {
          e = JSON.parse(line);
        } catch {
          break;
        }
        if (e.rev <= meta.revision) continue;
        state.applyOps(e.ops);
        meta.revision = e.rev;
        meta.idempotency.push([e.key, e.rev, e.hash]);
        replayed.push(e);
      }
    }
    return { state, meta, replayed };
  }

  /** Writes state atomically as the new snapshot and starts an empty journal (callers hold the mutation lock). */
  async writeSnapshot(state: EnforcementState, meta: PersistedMeta): Promise<void> {
    await this.closeJournal();
    await this.writeSnapshotFile(state, meta);
    // The snapshot covers everything journaled so far.
    await rm(this.journalFile, { force: true });
    await rm(this.oldJournalFile, { force: true });
    this.journalEntries = 0;
  }

  /**
   * Temp file, fsync, rename, directory fsync. Yields to the event loop between
   * 1 MB chunks, so requests and mutations keep flowing during a compaction.
   */
  async writeSnapshotFile(state: EnforcementState, meta: PersistedMeta): Promise<void> {
    const tmp = `${this.file}.tmp-${process.pid}`;
    const h = await open(tmp, "w");
    try {
      let buf = JSON.stringify({ format: FORMAT, ...meta }) + "\n";
      for (const { kind, value } of state.values()) {
        buf += `{"k":"${kind}","v":${JSON.stringify(value)}}\n`;
        if (buf.length >= CHUNK) {
          await h.write(buf);
          buf = "";
        }
      }
      buf += JSON.stringify({ end: true }) + "\n";
      await h.write(buf);
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, this.file);
    await fsyncDir(path.dirname(this.file));
  }

  /**
   * Starts a compaction: the current journal becomes <file>.journal.old and new
   * batches go to a fresh journal. False when an earlier compaction's old
   * journal is still there (its snapshot never completed): then we keep appending.
   */
  async rotateJournal(): Promise<boolean> {
    if (await exists(this.oldJournalFile)) return false;
    await this.closeJournal();
    if (await exists(this.journalFile)) await rename(this.journalFile, this.oldJournalFile);
    await fsyncDir(path.dirname(this.file));
    this.journalEntries = 0;
    return true;
  }

  async removeOldJournal(): Promise<void> {
    await rm(this.oldJournalFile, { force: true });
  }

  /** Appends one applied batch and fsyncs it: after this resolves the batch survives a crash. */
  async append(entry: JournalEntry): Promise<void> {
    if (!this.journal) {
      this.journal = await open(this.journalFile, "a");
      await fsyncDir(path.dirname(this.file));
    }
    await this.journal.write(JSON.stringify(entry) + "\n");
    await this.journal.datasync();
    this.journalEntries++;
  }

  async closeJournal(): Promise<void> {
    const j = this.journal;
    this.journal = null;
    await j?.close();
  }
}
