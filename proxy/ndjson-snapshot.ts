import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import readline from "node:readline";
import { firstIssue, ndjsonHeader, ndjsonLine, type Op } from "./schemas";
import { EnforcementState, StateError } from "./state";

// PUT /admin/v1/snapshot with Content-Type application/x-ndjson: the state is
// validated and built line by line while the body streams in, so a
// million-grant snapshot never exists as one 200 MB string plus its parse tree.

export class NdjsonError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export async function readNdjsonSnapshot(req: IncomingMessage, maxBytes: number): Promise<{ idempotencyKey: string; hash: string; state: EnforcementState }> {
  const hash = createHash("sha256").update(`${req.method} ${req.url}\n`);
  let size = 0;
  req.on("data", (c: Buffer) => {
    hash.update(c);
    size += c.length;
    if (size > maxBytes) req.destroy(new NdjsonError("body", "body too large"));
  });
  const lines = readline.createInterface({ input: req, crlfDelay: Infinity });
  const state = new EnforcementState();
  let header: { idempotencyKey: string } | null = null;
  let n = 0;
  let batch: Op[] = [];
  let batchStart = 0;
  const flush = () => {
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
      const h = ndjsonHeader.safeParse(json);
      if (!h.success) {
        const { field, message } = firstIssue(h.error);
        throw new NdjsonError(`line 1: ${field ?? ""}`, `line 1: ${message}`);
      }
      header = h.data;
      continue;
    }
    const r = ndjsonLine.safeParse(json);
    if (!r.success) {
      const { field, message } = firstIssue(r.error);
      throw new NdjsonError(`line ${n}: ${field ?? ""}`, `line ${n}: ${message}`);
    }
    if (batch.length === 0) batchStart = n;
    batch.push({ op: "upsert", kind: r.data.kind, value: r.data.value } as Op);
    if (batch.length >= 5000) flush();
  }
  if (batch.length) flush();
  if (!header) throw new NdjsonError("line 1", "line 1: the header line with idempotencyKey is missing");
  return { idempotencyKey: header.idempotencyKey, hash: hash.digest("hex"), state };
}
