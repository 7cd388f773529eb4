import { eventHashFromText, GENESIS_HASH } from "./canonical";
import type { ChainRow, EventBatch } from "./chain-read";

/**
 * Verifying the chain range by range. Every event stores the hash it links to
 * (prevHash), so a run of consecutive events can be checked on its own — each
 * event's content against its hash, each link against the event before it in
 * the run — and the runs are then joined in seq order by comparing each run's
 * first prevHash with the previous run's last hash. That is exactly the
 * sequential walk, cut into pieces that can be checked in parallel (worker
 * threads) and joined cheaply.
 */
export interface BrokenEvent {
  seq: string;
  id: string;
  action: string;
  at: string;
  reason: string;
}

export interface RangeSummary {
  count: number;
  first: Omit<BrokenEvent, "reason"> | null;
  firstPrevHash: string | null;
  lastSeq: string | null;
  lastHash: string | null;
  /** The first event of the run that fails its own checks, with how many good events precede it in the run. */
  bad: { event: BrokenEvent; index: number; prevSeq: string | null; prevHash: string | null } | null;
  /** [seq, hash] of the watched seqs present in the run. */
  found: [string, string][];
}

export const LINK_BROKEN = "prevHash does not match the previous event's hash (an event was removed, inserted or reordered before it)";
export const CONTENT_CHANGED = "content does not match its hash (the event was modified)";

const identity = (row: ChainRow) => ({ seq: row.seq, id: row.id, action: row.action, at: row.at });

/** Checks one run of consecutive events. Stops hashing after its first bad event (only watched seqs are still collected). */
export function verifyRange(batches: Iterable<EventBatch>, watch: ReadonlySet<string> | null): RangeSummary {
  const s: RangeSummary = { count: 0, first: null, firstPrevHash: null, lastSeq: null, lastHash: null, bad: null, found: [] };
  let prevSeq: string | null = null;
  let prevHash: string | null = null;
  const visit = (row: ChainRow) => {
    if (watch?.has(row.seq)) s.found.push([row.seq, row.hash]);
    if (s.bad) return;
    if (s.count === 0) {
      s.first = identity(row);
      s.firstPrevHash = row.prevHash;
    }
    let reason: string | null = null;
    if (prevHash !== null && row.prevHash !== prevHash) reason = LINK_BROKEN;
    else if (row.hash !== (row.contentHash ? row.contentHash() : eventHashFromText(row.prevHash, row))) reason = CONTENT_CHANGED;
    if (reason) {
      s.bad = { event: { ...identity(row), reason }, index: s.count, prevSeq, prevHash };
      return;
    }
    prevSeq = row.seq;
    prevHash = row.hash;
    s.count++;
  };
  for (const batch of batches) batch.each(visit);
  s.lastSeq = prevSeq;
  s.lastHash = prevHash;
  return s;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  headHash: string;
  /** seq of the last event verified (null on an empty log). */
  headSeq: string | null;
  firstBroken?: BrokenEvent;
}

/** Joins run summaries, fed in seq order, into the result of one sequential walk from genesis. */
export class ChainStitcher {
  private headHash = GENESIS_HASH;
  private headSeq: string | null = null;
  private checked = 0;
  private broken: BrokenEvent | undefined;

  constructor(private readonly found?: Map<bigint, string>) {}

  get isBroken(): boolean {
    return this.broken !== undefined;
  }

  add(r: RangeSummary): void {
    for (const [seq, hash] of r.found) this.found?.set(BigInt(seq), hash);
    if (this.broken) return;
    if (r.first && r.firstPrevHash !== this.headHash) {
      this.broken = { ...r.first, reason: LINK_BROKEN };
      return;
    }
    if (r.bad) {
      this.checked += r.bad.index;
      if (r.bad.prevHash !== null) {
        this.headHash = r.bad.prevHash;
        this.headSeq = r.bad.prevSeq;
      }
      // The run's first event failing its content check while linking correctly is a content failure.
      this.broken = r.bad.event;
      return;
    }
    this.checked += r.count;
    if (r.lastHash !== null) {
      this.headHash = r.lastHash;
      this.headSeq = r.lastSeq;
    }
  }

  result(): ChainVerification {
    const { headHash, headSeq, checked, broken } = this;
    return broken ? { ok: false, checked, headHash, headSeq, firstBroken: broken } : { ok: true, checked, headHash, headSeq };
  }
}
