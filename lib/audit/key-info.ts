import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { checkpointDirFromEnv, CHECKPOINT_FILE } from "./publish";
import { auditSigner } from "./signing";
import { checkpointPublishStatus, type PublishStatus } from "./file-writer";
import path from "node:path";

/** What Settings shows about the audit signing key: its public half (to hand to auditors), id, and where checkpoints go. */
export interface AuditKeyInfo {
  configured: boolean;
  error: string | null;
  keyId: string | null;
  publicKeyPem: string | null;
  checkpointFile: string | null;
  latest: { seq: string; at: string; message: string } | null;
  /** Checkpoint file lines this process has not yet got onto disk, and the last write error. */
  publish: PublishStatus | null;
}

export async function auditKeyInfo(actor: Actor, client: PrismaClient = db()): Promise<AuditKeyInfo> {
  authorize(actor, "audit:read");
  let signer = null;
  let error: string | null = null;
  try {
    signer = auditSigner();
  } catch (e) {
    error = (e as Error).message;
  }
  const dir = checkpointDirFromEnv();
  const latest = await client.auditCheckpoint.findFirst({ orderBy: [{ seq: "desc" }, { at: "desc" }], select: { seq: true, at: true, message: true } });
  return {
    configured: signer !== null,
    error,
    keyId: signer?.keyId ?? null,
    publicKeyPem: signer?.publicKeyPem ?? null,
    checkpointFile: dir ? path.resolve(dir, CHECKPOINT_FILE) : null,
    publish: dir ? (checkpointPublishStatus().find((s) => s.file === path.resolve(dir, CHECKPOINT_FILE)) ?? null) : null,
    latest: latest ? { seq: latest.seq.toString(), at: latest.at.toISOString(), message: latest.message } : null,
  };
}
