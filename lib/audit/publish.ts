import { open } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { PrismaClient } from "@/lib/db";
import { adminRequest, type ProxyTarget } from "@/lib/enforcement/admin-client";
import { checkpointFileLine, newCheckpointId, parseCheckpointMessage, signCheckpoint, type SignedCheckpoint } from "./checkpoint";
import { auditSigner, type AuditSigner } from "./signing";

/**
 * Making a checkpoint = sign the current head, then publish it to every place
 * an insider with only database access cannot reach: the database row (for
 * convenience), the append-only checkpoint file, and every proxy's journal.
 * The database copy and the file are written before returning; the proxies are
 * sent to in the background (a slow proxy must not slow an export or a
 * schedule), and a failure there is logged and retried with the next checkpoint.
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
  log?: (msg: string) => void;
}

export interface CheckpointResult {
  checkpoint: SignedCheckpoint;
  seq: bigint;
  headHash: string;
  created: boolean;
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
  // One round trip for the head and the last checkpoint of this key (this runs at every export).
  const [row] = await client.$queryRaw<{ seq: bigint | null; hash: string | null; lastSeq: bigint | null; lastHash: string | null; lastMessage: string | null; lastSignature: string | null }[]>`
    SELECT h.seq, h.hash, c.seq AS "lastSeq", c."headHash" AS "lastHash", c.message AS "lastMessage", c.signature AS "lastSignature"
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (SELECT seq, hash FROM "AuditEvent" ORDER BY seq DESC LIMIT 1) h ON true
    LEFT JOIN LATERAL (SELECT seq, "headHash", message, signature FROM "AuditCheckpoint" WHERE "keyId" = ${signer.keyId} ORDER BY seq DESC, at DESC LIMIT 1) c ON true`;
  if (!row || row.seq === null || row.hash === null) return null;
  const head = { seq: row.seq, hash: row.hash };
  if (!opts.force && row.lastSeq === head.seq && row.lastHash === head.hash) {
    return { checkpoint: { message: row.lastMessage!, signature: row.lastSignature! }, seq: head.seq, headHash: head.hash, created: false };
  }
  const at = new Date();
  const checkpoint = signCheckpoint(signer, { seq: head.seq, headHash: head.hash }, at);
  const dir = opts.dir === undefined ? checkpointDirFromEnv() : opts.dir;
  // The database row and the file line are independent: written side by side, both done before returning.
  await Promise.all([
    client.$executeRaw`
      INSERT INTO "AuditCheckpoint" (id, seq, "headHash", at, "keyId", message, signature, reason)
      VALUES (${newCheckpointId()}::uuid, ${head.seq}, ${head.hash}, ${at}, ${signer.keyId}, ${checkpoint.message}, ${checkpoint.signature}, ${opts.reason ?? "manual"})`,
    dir ? appendCheckpointFile(dir, checkpoint) : Promise.resolve(),
  ]);
  // The proxies are looked up and sent to after returning: nothing waits for them unless asked to.
  const proxies = (async () => {
    try {
      const targets = opts.proxies ?? (await client.proxy.findMany({ select: { adminUrl: true, adminToken: true } }));
      return await publishToProxies(targets, checkpoint, opts.log);
    } catch (e) {
      opts.log?.(`audit checkpoint not sent to the proxies: ${(e as Error).message}`);
      return [];
    }
  })();
  if (opts.awaitProxies) await proxies;
  return { checkpoint, seq: head.seq, headHash: head.hash, created: true, proxies };
}

const madeDirs = new Set<string>();

/** Appends one line and fsyncs before returning: an acknowledged checkpoint is on disk. O_APPEND suits WORM/append-only mounts. */
export async function appendCheckpointFile(dir: string, cp: SignedCheckpoint): Promise<void> {
  if (!madeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const handle = await open(path.join(dir, CHECKPOINT_FILE), "a", 0o640);
  try {
    await handle.write(checkpointFileLine(cp));
    await handle.sync();
  } finally {
    await handle.close();
  }
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
