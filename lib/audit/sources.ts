import { existsSync } from "node:fs";
import path from "node:path";
import type { KeyObject } from "node:crypto";
import type { PrismaClient } from "@/lib/db";
import { readCheckpointsFile } from "./checkpoint";
import { CHECKPOINT_FILE, checkpointDirFromEnv, fetchProxyCheckpoints } from "./publish";
import { trustedKeysFromEnv } from "./signing";
import { databaseCheckpoints, verifyAuditLog, type AuditLogVerification, type ExpectedHead, type SourcedCheckpoint } from "./verify";

/**
 * Every checkpoint Tollgate can find by itself: the database's, the checkpoint
 * file's, and each registered proxy's latest; plus files an auditor names.
 * Shared by `npm run audit:verify`, the Audit page and the audit-chain report,
 * so all three say the same thing.
 */
export interface CollectOptions {
  files?: string[];
  proxies?: boolean;
  checkpointDir?: string | null;
}

export async function collectCheckpoints(client: PrismaClient, opts: CollectOptions = {}): Promise<{ sources: SourcedCheckpoint[]; problems: string[]; notes: string[] }> {
  const sources = await databaseCheckpoints(client);
  const problems: string[] = [];
  const notes: string[] = [];
  const files = [...(opts.files ?? [])];
  const dir = opts.checkpointDir === undefined ? checkpointDirFromEnv() : opts.checkpointDir;
  if (dir) {
    const file = path.join(dir, CHECKPOINT_FILE);
    if (existsSync(file)) files.unshift(file);
    else notes.push(`checkpoint file ${file} does not exist yet`);
  }
  for (const file of files) {
    const read = await readCheckpointsFile(file);
    problems.push(...read.problems);
    for (const checkpoint of read.checkpoints) sources.push({ source: `file ${file}`, checkpoint });
    if (read.checkpoints.length === 0 && read.problems.length === 0) problems.push(`${file}: holds no checkpoint`);
  }
  if (opts.proxies !== false) {
    const proxies = await client.proxy.findMany({ select: { name: true, adminUrl: true, adminToken: true } });
    for (const p of await fetchProxyCheckpoints(proxies)) {
      if (p.checkpoint) sources.push({ source: p.source, checkpoint: p.checkpoint });
      else if (p.error) notes.push(`${p.source} unreachable (${p.error}): its checkpoint was not checked`);
    }
  }
  return { sources, problems, notes };
}

export async function verifyAuditLogFromSources(
  client: PrismaClient,
  opts: CollectOptions & { trustedKeys?: KeyObject[]; expectHeads?: ExpectedHead[]; databaseUrl?: string; workers?: number } = {},
): Promise<AuditLogVerification> {
  const collected = await collectCheckpoints(client, opts);
  const result = await verifyAuditLog(client, {
    checkpoints: collected.sources,
    expectHeads: opts.expectHeads,
    trustedKeys: opts.trustedKeys ?? trustedKeysFromEnv(),
    databaseUrl: opts.databaseUrl,
    workers: opts.workers,
  });
  const problems = [...result.problems, ...collected.problems];
  return { ...result, ok: problems.length === 0, problems, notes: [...result.notes, ...collected.notes] };
}
