import { createHash } from "node:crypto";
import readline from "node:readline";
import type { Readable } from "node:stream";
import { digestState } from "./digest";
import { firstIssue, KINDS, ndjsonHeader, ndjsonLine, ndjsonPullHeader, type Kind, type Op } from "./schemas";
import { EnforcementState, StateError } from "./state";
import { SnapshotDiff } from "./state-diff";

type Plural = "apis" | "routes" | "credentials" | "grants";

// A streamed snapshot (application/x-ndjson): pushed to PUT /admin/v1/snapshot,
// or pulled from the dashboard (GET /api/v1/proxy/snapshot). The state is
// validated and built line by line while the body streams in, so a
// million-grant snapshot never exists as one 200 MB string plus its parse tree.
// A pushed stream's header line carries the idempotency key; a pulled one's
// carries the dashboard's revision and environment instead.

export class NdjsonError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StreamedSnapshot {
  /** Present on a push (required there); absent on a pull. */
  idempotencyKey?: string;
  revision?: number;
  environment?: string;
  /** A push's condition: apply only at this proxy revision. */
  ifRevision?: number;
  /** SHA-256 over `hashPrefix` and the body: the idempotency hash. */
  hash: string;
  /** Built from the stream; or, when read `against` a current state, the difference from it instead. */
  state: EnforcementState | null;
  diff: SnapshotDiff | null;
}

export async function readNdjsonSnapshot(input: Readable, opts: { maxBytes: number; hashPrefix: string; pulled?: boolean; against?: EnforcementState | null }): Promise<StreamedSnapshot> {
  const hash = createHash("sha256").update(opts.hashPrefix);
  let size = 0;
  input.on("data", (c: Buffer) => {
    hash.update(c);
    size += c.length;
    if (size > opts.maxBytes) input.destroy(new NdjsonError("body", "body too large"));
  });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  const base = opts.against ?? null;
  const state = base ? null : new EnforcementState();
  let diff: SnapshotDiff | null = null;
  const headerSchema = opts.pulled ? ndjsonPullHeader : ndjsonHeader;
  let header: {
    idempotencyKey?: string;
    revision?: number;
    environment?: string;
    ifRevision?: number;
    counts?: Record<Plural, number>;
    digest?: { asOf: number; kinds: Record<Kind, string> };
  } | null = null;
  const seen: Record<Plural, number> = { apis: 0, routes: 0, credentials: 0, grants: 0 };
  let n = 0;
  let batch: Op[] = [];
  let batchStart = 0;
  const flush = () => {
    if (!state) return;
    try {
      state.validate(batch, "ops");
    } catch (e) {
      if (e instanceof StateError) {
        const m = /^ops\.(\d+)\.(.*)$/.exec(e.field);
        const line = m ? batchStart + Number(m[1]) : batchStart;
        throw new NdjsonError(`line ${line}: ${m ? m[2] : e.field}`, `line ${line}: ${e.message}`);
      }
      throw e;
    }
    state.applyOps(batch);
    batch = [];
  };
  for await (const text of lines) {
    n++;
    if (text.length === 0) continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new NdjsonError(`line ${n}`, `line ${n}: not valid JSON`);
    }
    if (header === null) {
      const h = headerSchema.safeParse(json);
      if (!h.success) {
        const { field, message } = firstIssue(h.error);
        throw new NdjsonError(`line 1: ${field ?? ""}`, `line 1: ${message}`);
      }
      header = h.data;
      if (base) diff = new SnapshotDiff(base, header.digest ? header.digest.asOf : null);
      continue;
    }
    const r = ndjsonLine.safeParse(json);
    if (!r.success) {
      const { field, message } = firstIssue(r.error);
      throw new NdjsonError(`line ${n}: ${field ?? ""}`, `line ${n}: ${message}`);
    }
    seen[`${r.data.kind}s`]++;
    if (diff) {
      try {
        diff.add(r.data.kind, r.data.value as unknown as Record<string, unknown>);
      } catch (e) {
        if (e instanceof StateError) throw new NdjsonError(`line ${n}: ${e.field}`, `line ${n}: ${e.message}`);
        throw e;
      }
      continue;
    }
    if (batch.length === 0) batchStart = n;
    batch.push({ op: "upsert", kind: r.data.kind, value: r.data.value } as Op);
    if (batch.length >= 5000) flush();
  }
  if (batch.length) flush();
  if (!header) throw new NdjsonError("line 1", `line 1: the header line${opts.pulled ? "" : " with idempotencyKey"} is missing`);
  // A sender that announces its counts (the dashboard does) lets a cut stream be told from a complete one.
  for (const k of Object.keys(seen) as Plural[]) {
    if (header.counts && header.counts[k] !== seen[k]) {
      throw new NdjsonError("counts", `the stream held ${seen[k]} ${k} where its header announced ${header.counts[k]}: incomplete, nothing applied`);
    }
  }
  // A sender that announces its content digest (the dashboard does) gets its state verified, not just parsed.
  if (header.digest) {
    const got = diff ? diff.digest!.result() : await digestState(state!, header.digest.asOf);
    for (const k of KINDS) {
      if (got[k].digest !== header.digest.kinds[k]) throw new NdjsonError("digest", `the ${k}s received do not match the digest in the header: not verified, nothing applied`);
    }
  }
  return { idempotencyKey: header.idempotencyKey, revision: header.revision, environment: header.environment, ifRevision: header.ifRevision, hash: hash.digest("hex"), state, diff };
}
