import { createReadStream } from "node:fs";
import { open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
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

export const FORMAT = "tollgate-proxy-state/2";

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
  /** Checksummed journal lines without a `rev` (records other than state batches), in file order. */
  records: unknown[];
  /** A journal ended in a line that was never completed (a crash mid-append): fold it away before appending. */
  tornTail: boolean;
}

/**
 * The persisted files do not verify (a checksum, a missing end marker, a gap in
 * the journal's revisions, an old unchecked format). They have been renamed
 * aside (`aside`) and the proxy must not serve until it gets a verified state.
 */
export class DamagedState extends Error {
  constructor(
    message: string,
    readonly aside: string[],
  ) {
    super(message);
  }
}

const CHUNK = 1 << 20;

// Every line of the snapshot and the journal is "<crc32 of the JSON, 8 hex> <JSON>".
// CRC-32 catches any flipped byte and any burst up to 32 bits in a line; a
// dropped or duplicated line is caught by the end marker's entry count (snapshot)
// and by consecutive revisions (journal). It guards against damage, not against
// someone who can write the state directory (they can write a valid file too).
const crcHex = (s: string): string => (crc32(s) >>> 0).toString(16).padStart(8, "0");
export const checkedLine = (json: string): string => `${crcHex(json)} ${json}\n`;

/** The JSON of a checked line, or null when its checksum does not match. */
export function verifiedJson(line: string): string | null {
  if (line.length < 10 || line.charCodeAt(8) !== 32) return null;
  const json = line.slice(9);
  return line.slice(0, 8) === crcHex(json) ? json : null;
}

/** Lines of a file, each with whether it was terminated by "\n" (an unterminated last line is a torn append). */
async function* linesOf(file: string): AsyncGenerator<{ text: string; terminated: boolean; n: number }> {
  let rest = "";
  let n = 0;
  for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 }) as AsyncIterable<string>) {
    // A long line (a large batch) spans many chunks: only split once a newline arrives.
    if (!chunk.includes("\n")) {
      rest += chunk;
      continue;
    }
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const text of parts) yield { text, terminated: true, n: ++n };
  }
  if (rest.length > 0) yield { text: rest, terminated: false, n: ++n };
}

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

class Unverified extends Error {}

export class StateStore {
  private journal: FileHandle | null = null;
  journalEntries = 0;
  readonly journalFile: string;
  private readonly oldJournalFile: string;

  constructor(readonly file: string) {
    this.journalFile = file + ".journal";
    this.oldJournalFile = file + ".journal.old";
  }

  /**
   * Null when there is no snapshot file yet. When the snapshot or a journal
   * does not verify, every file of the set is renamed aside (never overwritten
   * or deleted) and DamagedState is thrown: the caller stays not ready.
   */
  async load(): Promise<Loaded | null> {
    if (!(await exists(this.file))) {
      // A journal without its snapshot cannot be replayed onto anything: keep it aside too.
      if ((await exists(this.journalFile)) || (await exists(this.oldJournalFile))) {
        throw new DamagedState("journal found without its snapshot file", await this.setAside());
      }
      return null;
    }
    try {
      return await this.read();
    } catch (e) {
      if (!(e instanceof Unverified)) throw e;
      throw new DamagedState(e.message, await this.setAside());
    }
  }

  private async read(): Promise<Loaded> {
    const state = new EnforcementState();
    let meta: PersistedMeta | null = null;
    let end: { entries: number } | null = null;
    let entries = 0;
    let pending: Op[] = [];
    const bad = (n: number, why: string) => new Unverified(`${this.file} line ${n}: ${why}`);
    for await (const { text, n } of linesOf(this.file)) {
      if (end) throw bad(n, "data after the end marker");
      const json = verifiedJson(text);
      if (json === null) throw bad(n, "checksum mismatch");
      let rec;
      try {
        rec = JSON.parse(json);
      } catch {
        throw bad(n, "not JSON despite a matching checksum");
      }
      if (meta === null) {
        if (rec.format !== FORMAT) throw bad(n, `not a ${FORMAT} file`);
        meta = { revision: rec.revision, environment: rec.environment, lastSyncAt: rec.lastSyncAt, idempotency: rec.idempotency };
        continue;
      }
      if (rec.end) {
        end = rec;
        continue;
      }
      entries++;
      pending.push({ op: "upsert", kind: rec.k as Kind, value: rec.v } as Op);
      if (pending.length >= 10_000) {
        state.applyOps(pending);
        pending = [];
      }
    }
    state.applyOps(pending);
    if (!meta) throw new Unverified(`${this.file}: empty state file`);
    if (!end) throw new Unverified(`${this.file}: incomplete state file (no end marker)`);
    if (end.entries !== entries) throw new Unverified(`${this.file}: ${entries} entries where the end marker says ${end.entries}`);

    // Journal entries after the snapshot, in order, with consecutive revisions.
    // Only an unterminated last line may be skipped: that append was never acknowledged.
    const replayed: JournalEntry[] = [];
    const records: unknown[] = [];
    let tornTail = false;
    for (const jf of [this.oldJournalFile, this.journalFile]) {
      if (!(await exists(jf))) continue;
      for await (const { text, terminated, n } of linesOf(jf)) {
        if (tornTail) throw new Unverified(`${jf} line ${n}: follows an incomplete line`);
        if (!terminated) {
          tornTail = true;
          continue;
        }
        const json = verifiedJson(text);
        if (json === null) throw new Unverified(`${jf} line ${n}: checksum mismatch`);
        const e = JSON.parse(json) as JournalEntry;
        // A verified line that is not a state batch (no revision) is kept for its owner, in order.
        if (typeof e.rev !== "number") {
          records.push(e);
          continue;
        }
        if (e.rev <= meta.revision) continue;
        if (e.rev !== meta.revision + 1) throw new Unverified(`${jf} line ${n}: revision ${e.rev} follows ${meta.revision} (entries missing)`);
        state.applyOps(e.ops);
        meta.revision = e.rev;
        meta.idempotency.push([e.key, e.rev, e.hash]);
        replayed.push(e);
      }
      // A torn line can only be the very last thing written, i.e. the end of the newest journal.
      if (tornTail && jf === this.oldJournalFile && (await exists(this.journalFile))) throw new Unverified(`${jf}: incomplete line before ${this.journalFile}`);
    }
    return { state, meta, replayed, records, tornTail };
  }

  /** Renames the snapshot and journals to "<name>.damaged-<time>" so nothing later writes over them. */
  private async setAside(): Promise<string[]> {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const moved: string[] = [];
    for (const f of [this.file, this.oldJournalFile, this.journalFile]) {
      if (!(await exists(f))) continue;
      const to = `${f}.damaged-${stamp}`;
      await rename(f, to);
      moved.push(to);
    }
    await fsyncDir(path.dirname(this.file));
    return moved;
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
      let buf = checkedLine(JSON.stringify({ format: FORMAT, ...meta }));
      let entries = 0;
      for (const { kind, value } of state.values()) {
        buf += checkedLine(`{"k":"${kind}","v":${JSON.stringify(value)}}`);
        entries++;
        if (buf.length >= CHUNK) {
          await h.write(buf);
          buf = "";
        }
      }
      buf += checkedLine(JSON.stringify({ end: true, entries }));
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
    await this.journal.write(checkedLine(JSON.stringify(entry)));
    await this.journal.datasync();
    this.journalEntries++;
  }

  async closeJournal(): Promise<void> {
    const j = this.journal;
    this.journal = null;
    await j?.close();
  }
}
