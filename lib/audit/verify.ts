import type { KeyObject } from "node:crypto";
import type { PrismaClient } from "@/lib/db";
import { verifyAuditChain, type ChainVerification } from "./chain";
import { checkCheckpoint, type CheckpointFields, type SignedCheckpoint } from "./checkpoint";
import { crossCheckAuditEvents, type CrossCheckFinding } from "./cross-check";

/**
 * The whole verification: the hash chain, then every checkpoint found against
 * it, then the cross-checks. The chain alone catches a changed or removed event
 * in the middle; only a checkpoint signed with a key outside the database
 * catches the newest events being cut off, or the whole chain being rewritten
 * consistently; the cross-checks catch an event deleted while its effect
 * remains, even before the next checkpoint.
 */
export interface SourcedCheckpoint {
  /** Where it was found: "database", "checkpoint file …", "proxy local", "--expect-head", an export file. */
  source: string;
  checkpoint: SignedCheckpoint;
}

/** An auditor's pinned head (`--expect-head <seq>:<hash>`): trusted because the auditor wrote it down, not signed. */
export interface ExpectedHead {
  source: string;
  seq: bigint;
  headHash: string;
}

export type CheckpointStatus = "ok" | "rejected" | "truncated" | "rewritten";

export interface CheckpointFinding {
  source: string;
  status: CheckpointStatus;
  seq: string | null;
  at: string | null;
  keyId: string | null;
  message: string;
}

export interface AuditLogVerification {
  ok: boolean;
  chain: ChainVerification;
  /** Highest seq in the table (whatever the chain says). */
  lastSeq: string | null;
  checkpoints: CheckpointFinding[];
  crossChecks: CrossCheckFinding[];
  /** One sentence per thing that is wrong, the most important first. Empty when ok. */
  problems: string[];
  /** Things that limit what could be proved (e.g. no checkpoint yet); not failures. */
  notes: string[];
}

export interface VerifyOptions {
  checkpoints?: SourcedCheckpoint[];
  expectHeads?: ExpectedHead[];
  trustedKeys: KeyObject[];
  batchSize?: number;
  /** The client's database URL: the chain is then read over plain pg (fast path for large logs). */
  databaseUrl?: string;
  /** With databaseUrl: check the chain in this many worker threads (the CLI); default 0, in this thread. */
  workers?: number;
  /** Skip the cross-checks (the 1M-event bench times the chain and checkpoints alone). */
  crossChecks?: boolean;
}

const range = (from: bigint, to: bigint) => (from === to ? `event ${to} missing` : `events ${from}–${to} missing`);

export async function verifyAuditLog(client: PrismaClient, opts: VerifyOptions): Promise<AuditLogVerification> {
  const findings: CheckpointFinding[] = [];
  const trusted: { source: string; fields: CheckpointFields; signed: boolean }[] = [];

  for (const { source, checkpoint } of opts.checkpoints ?? []) {
    const check = checkCheckpoint(checkpoint, opts.trustedKeys);
    if (check.ok) trusted.push({ source, fields: check.fields, signed: true });
    else
      findings.push({
        source,
        status: "rejected",
        seq: check.fields?.seq.toString() ?? null,
        at: check.fields?.at ?? null,
        keyId: check.fields?.keyId ?? null,
        message: `checkpoint from ${source}${check.fields ? ` (seq ${check.fields.seq}, ${check.fields.at})` : ""}: ${check.problem}`,
      });
  }
  for (const e of opts.expectHeads ?? []) trusted.push({ source: e.source, fields: { seq: e.seq, headHash: e.headHash, at: "", keyId: "" }, signed: false });

  const watch = new Set(trusted.map((t) => t.fields.seq));
  const found = new Map<bigint, string>();
  const chain = await verifyAuditChain(client, { batchSize: opts.batchSize, watch, found, databaseUrl: opts.databaseUrl, workers: opts.workers });
  const [last] = await client.$queryRaw<{ seq: bigint | null }[]>`SELECT max(seq) AS seq FROM "AuditEvent"`;
  const lastSeq = last?.seq ?? null;

  for (const t of trusted) {
    const { seq, headHash } = t.fields;
    const who = t.signed ? `the checkpoint of ${t.fields.at}, signed by key ${t.fields.keyId}, names seq ${seq}` : `the expected head from ${t.source} names seq ${seq}`;
    const base = { source: t.source, seq: seq.toString(), at: t.signed ? t.fields.at : null, keyId: t.signed ? t.fields.keyId : null };
    const hash = found.get(seq);
    if (hash === headHash) {
      findings.push({ ...base, status: "ok", message: `${t.signed ? "checkpoint" : "expected head"} from ${t.source} matches seq ${seq}` });
    } else if (hash !== undefined) {
      findings.push({ ...base, status: "rewritten", message: `the log was rewritten: ${who} with hash ${headHash}, but the event at seq ${seq} now has hash ${hash} (${t.source})` });
    } else if (lastSeq === null || lastSeq < seq) {
      const from = (lastSeq ?? 0n) + 1n;
      findings.push({ ...base, status: "truncated", message: `${range(from, seq)}: ${who} (${t.source}); the log ends at ${lastSeq === null ? "no events at all" : `seq ${lastSeq}`}` });
    } else {
      findings.push({ ...base, status: "rewritten", message: `the log was rewritten: ${who} with hash ${headHash}, but the log has no event at seq ${seq} while it has later ones (${t.source})` });
    }
  }

  const crossChecks = opts.crossChecks === false ? [] : await crossCheckAuditEvents(client);
  const problems: string[] = [];
  if (!chain.ok) {
    const b = chain.firstBroken!;
    problems.push(`audit chain BROKEN at event seq=${b.seq} id=${b.id} action=${b.action} at=${b.at}: ${b.reason}`);
  }
  // Truncation and rewrite first (what an insider hides), then rejected checkpoints, then cross-checks.
  for (const status of ["truncated", "rewritten", "rejected"] as const) {
    for (const f of findings) if (f.status === status) problems.push(f.message);
  }
  for (const c of crossChecks) problems.push(c.message);

  const notes: string[] = [];
  if (opts.trustedKeys.length === 0) notes.push("no audit public key configured: checkpoints cannot be verified, so truncation and rewrites of the whole chain cannot be detected");
  else if (!findings.some((f) => f.status !== "rejected") && trusted.length === 0)
    notes.push("no signed checkpoint found: truncation of the newest events cannot be detected until the first checkpoint is made");
  else if (lastSeq !== null) {
    const newest = trusted.reduce<bigint | null>((m, t) => (m === null || t.fields.seq > m ? t.fields.seq : m), null);
    if (newest !== null && newest < lastSeq) notes.push(`events after seq ${newest} are not yet covered by a checkpoint`);
  }
  return { ok: problems.length === 0, chain, lastSeq: lastSeq?.toString() ?? null, checkpoints: findings, crossChecks, problems, notes };
}

/**
 * The newest checkpoints the database holds (one a minute adds up). The newest
 * trusted checkpoint is what proves truncation; an older one matching is implied
 * by the verified chain. Rows an insider deleted are not here — that is what
 * the file and the proxies are for.
 */
export async function databaseCheckpoints(client: PrismaClient, limit = 1000): Promise<SourcedCheckpoint[]> {
  const rows = await client.auditCheckpoint.findMany({ orderBy: [{ seq: "desc" }, { at: "desc" }], take: limit, select: { message: true, signature: true } });
  return rows.reverse().map((r) => ({ source: "database", checkpoint: r }));
}
