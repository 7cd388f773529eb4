import path from "node:path";
import { databaseUrlOf, type PrismaClient } from "@/lib/db";
import { adminRequest, type ProxyTarget } from "@/lib/enforcement/admin-client";
import { checkCheckpoint, checkpointFileLine, newCheckpointId, parseCheckpointMessage, signCheckpoint, type SignedCheckpoint } from "./checkpoint";
import { checkpointConnection, HEAD_SQL, INSERT_SQL, toHeadRow, type CheckpointRow, type HeadRow } from "./checkpoint-connection";
import { appendDurably, durableAppender, readTail } from "./file-writer";
import { auditSigner, type AuditSigner } from "./signing";

/**
 * Making a checkpoint = sign the current head, then publish it to every place
 * an insider with only database access cannot reach: the database row (for
 * convenience), the append-only checkpoint file, and every proxy's journal.
 * The database row is committed before returning. The file line is appended
 * and fsynced after that, by one writer per file (file-writer.ts): an fsync
 * costs 1-60 ms on a busy machine, which an export should not wait for. The
 * result's `durable` promise settles only once the line is on disk; until then
 * the checkpoint is reported as pending (checkpointPublishStatus, Settings), a
 * failed write is logged and retried, and a restart re-appends any checkpoint
 * of the database the file lacks (republishMissing). The proxies are sent to in
 * the background too; a failure there is logged and retried with the next checkpoint.
 */
export interface CheckpointOptions {
  signer?: AuditSigner | null;
  /** Directory of the append-only checkpoint file; null = no file. Default TOLLGATE_AUDIT_CHECKPOINT_DIR. */
  dir?: string | null;
  reason?: "interval" | "export" | "manual";
  /** Sign even when the head has not moved since the last checkpoint (exports want a fresh time). */
  force?: boolean;
  /** Proxies to send to; default: every registered proxy. [] = none. */
  proxies?: ProxyTarget[];
  /** Wait for the proxies' answers (tests, the bench); default false. */
  awaitProxies?: boolean;
  /** Wait until the checkpoint file line is fsynced; default false (see `durable`). */
  awaitDurable?: boolean;
  log?: (msg: string) => void;
  /** Read the head and insert the row through the Prisma client instead of the dedicated connection (the bench's A/B). */
  viaPrisma?: boolean;
}

export interface CheckpointResult {
  checkpoint: SignedCheckpoint;
  seq: bigint;
  headHash: string;
  created: boolean;
  /** Settles once the checkpoint file holds the line (fsynced); at once without a file. Never rejects: failures are retried. */
  durable: Promise<void>;
  proxies?: Promise<ProxyPublishResult[]>;
}

export interface ProxyPublishResult {
  adminUrl: string;
  ok: boolean;
  error?: string;
}

export const CHECKPOINT_FILE = "audit-checkpoints.jsonl";

export function checkpointDirFromEnv(): string | null {
  return process.env.TOLLGATE_AUDIT_CHECKPOINT_DIR?.trim() || null;
}

/**
 * Signs and publishes a checkpoint of the current head. Returns null when there
 * is nothing to sign (no signer configured, or an empty log).
 */
export async function createCheckpoint(client: PrismaClient, opts: CheckpointOptions = {}): Promise<CheckpointResult | null> {
  const signer = opts.signer === undefined ? auditSigner() : opts.signer;
  if (!signer) return null;
  const url = databaseUrlOf(client);
  const conn = url && !opts.viaPrisma ? checkpointConnection(url) : null;
  // One round trip for the head and the last checkpoint of this key (this runs at every export).
  const row = conn ? await conn.head(signer.keyId) : await headThroughPrisma(client, signer.keyId);
  if (!row || row.seq === null || row.hash === null) return null;
  const head = { seq: row.seq, hash: row.hash };
  if (!opts.force && row.lastSeq === head.seq && row.lastHash === head.hash) {
    return { checkpoint: { message: row.lastMessage!, signature: row.lastSignature! }, seq: head.seq, headHash: head.hash, created: false, durable: Promise.resolve() };
  }
  const at = new Date();
  const checkpoint = signCheckpoint(signer, { seq: head.seq, headHash: head.hash }, at);
  const dir = opts.dir === undefined ? checkpointDirFromEnv() : opts.dir;
  // Committed without waiting for the WAL flush (synchronous_commit off for this one statement's transaction):
  // the database copy is the convenience copy an insider could delete anyway, the durable ones are the
  // fsynced file and the proxies' journals. A crash can lose only this row, never an event it names
  // (events commit synchronously), so the file's copy still verifies. It saves a WAL fsync per checkpoint.
  const record: CheckpointRow = { id: newCheckpointId(), seq: head.seq, headHash: head.hash, at, keyId: signer.keyId, ...checkpoint, reason: opts.reason ?? "manual" };
  if (conn) await conn.insert(record);
  else await client.$executeRawUnsafe(INSERT_SQL, record.id, record.seq, record.headHash, at, record.keyId, record.message, record.signature, record.reason);
  // After the commit, never before: the file never names a checkpoint the database rolled back.
  // Both start on the next turn of the event loop (setImmediate keeps their order): even opening the file and
  // building the proxy requests (~0.2 ms of CPU) is not the caller's to wait for.
  const file = dir ? path.join(dir, CHECKPOINT_FILE) : null;
  const durable = file ? new Promise<void>((done) => setImmediate(() => void durableAppender(file, opts.log).append(checkpointFileLine(checkpoint)).then(done))) : Promise.resolve();
  // The proxies are looked up and sent to after returning: nothing waits for them unless asked to.
  const proxies = (async () => {
    await new Promise((next) => setImmediate(next));
    try {
      const targets = opts.proxies ?? (await client.proxy.findMany({ select: { adminUrl: true, adminToken: true } }));
      return await publishToProxies(targets, checkpoint, opts.log);
    } catch (e) {
      opts.log?.(`audit checkpoint not sent to the proxies: ${(e as Error).message}`);
      return [];
    }
  })();
  if (opts.awaitProxies) await proxies;
  if (opts.awaitDurable) await durable;
  return { checkpoint, seq: head.seq, headHash: head.hash, created: true, durable, proxies };
}

/** The same head query through Prisma, for a client not made by createDb (no URL known to open a connection with). */
async function headThroughPrisma(client: PrismaClient, keyId: string): Promise<HeadRow | null> {
  return toHeadRow((await client.$queryRawUnsafe<Record<keyof HeadRow, string | null>[]>(HEAD_SQL, keyId))[0]);
}

/** Appends one checkpoint line and fsyncs before returning (the writer's primitive; the bench's fsync probe). */
export async function appendCheckpointFile(dir: string, cp: SignedCheckpoint): Promise<void> {
  await appendDurably(path.join(dir, CHECKPOINT_FILE), checkpointFileLine(cp));
}

/**
 * After a restart: checkpoints of this key the database holds but the file
 * does not (the process died between the commit and the fsync) are appended,
 * oldest first. Each is checked against the key first, so a row an insider
 * inserted cannot be laundered into the file. Compares against the file's tail only.
 */
export async function republishMissing(client: PrismaClient, signer: AuditSigner, dir: string, log?: (msg: string) => void): Promise<number> {
  const file = path.join(dir, CHECKPOINT_FILE);
  const inFile = new Set((await readTail(file, 256 * 1024)).split("\n").map((l) => l.trim()).filter(Boolean));
  const rows = await client.auditCheckpoint.findMany({ where: { keyId: signer.keyId }, orderBy: [{ seq: "desc" }, { at: "desc" }], take: 50, select: { message: true, signature: true } });
  const missing = rows
    .reverse()
    .filter((cp) => !inFile.has(checkpointFileLine(cp).trim()) && checkCheckpoint(cp, [signer.publicKey]).ok);
  if (missing.length === 0) return 0;
  log?.(`audit checkpoint file ${file} lacks ${missing.length} checkpoint(s) the database holds: appending them`);
  await durableAppender(file, log).append(missing.map(checkpointFileLine).join(""));
  return missing.length;
}

export async function publishToProxies(targets: ProxyTarget[], cp: SignedCheckpoint, log?: (msg: string) => void): Promise<ProxyPublishResult[]> {
  return Promise.all(
    targets.map(async (t): Promise<ProxyPublishResult> => {
      try {
        const res = await adminRequest(t, "PUT", "/admin/v1/audit-checkpoint", { checkpoint: cp }, 3_000);
        if (res.status === 200) return { adminUrl: t.adminUrl, ok: true };
        const error = `HTTP ${res.status}`;
        log?.(`audit checkpoint not accepted by proxy ${t.adminUrl}: ${error}`);
        return { adminUrl: t.adminUrl, ok: false, error };
      } catch (e) {
        log?.(`audit checkpoint not sent to proxy ${t.adminUrl}: ${(e as Error).message}`);
        return { adminUrl: t.adminUrl, ok: false, error: (e as Error).message };
      }
    }),
  );
}

/** The checkpoint each proxy holds (for verification); unreachable proxies are reported, not fatal. */
export async function fetchProxyCheckpoints(targets: (ProxyTarget & { name?: string })[]): Promise<{ source: string; checkpoint: SignedCheckpoint | null; error?: string }[]> {
  return Promise.all(
    targets.map(async (t) => {
      const source = `proxy ${t.name ?? t.adminUrl}`;
      try {
        const res = await adminRequest(t, "GET", "/admin/v1/audit-checkpoint", undefined, 3_000);
        if (res.status === 404) return { source, checkpoint: null };
        const body = res.body as { checkpoint?: SignedCheckpoint } | null;
        if (res.status !== 200 || !body?.checkpoint) return { source, checkpoint: null, error: `HTTP ${res.status}` };
        return { source, checkpoint: body.checkpoint };
      } catch (e) {
        return { source, checkpoint: null, error: (e as Error).message };
      }
    }),
  );
}

/** The newest checkpoint in the database, for exports and the Settings page. */
export async function latestCheckpoint(client: PrismaClient): Promise<(SignedCheckpoint & { seq: bigint }) | null> {
  const row = await client.auditCheckpoint.findFirst({ orderBy: [{ seq: "desc" }, { at: "desc" }] });
  if (!row || !parseCheckpointMessage(row.message)) return null;
  return { message: row.message, signature: row.signature, seq: row.seq };
}
