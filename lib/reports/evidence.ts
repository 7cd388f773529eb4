import type { PrismaClient } from "@/lib/db";
import { encodeCheckpointToken, type CheckpointToken, type ExportPosition } from "@/lib/audit/checkpoint";
import { createCheckpoint, latestCheckpoint } from "@/lib/audit/publish";
import type { StartedExport } from "./records";

/**
 * What every export carries so that an auditor who keeps the file can later
 * prove the audit log was cut or rewritten after it: the export's own place in
 * the chain (its report.export_started event) and the latest signed checkpoint,
 * made right after that event. Carried as a "tollgate-checkpoint:" token
 * (lib/audit/checkpoint.ts) that one grep finds in the CSV, JSON or PDF, and
 * that `npm run audit:verify --checkpoints <export file>` reads back.
 */
export interface ExportEvidence {
  position: ExportPosition;
  checkpoint: { message: string; signature: string } | null;
  /** The token (null without a checkpoint: no signing key configured). */
  token: string | null;
  /** Trailer lines appended after the CSV's records. */
  csvTrailer: string;
  /** The "auditEvidence" member of a JSON export. */
  json: Record<string, unknown>;
}

export async function exportEvidence(client: PrismaClient, started: StartedExport): Promise<ExportEvidence> {
  const position: ExportPosition = { exportId: started.id, eventSeq: started.event.seq.toString(), eventHash: started.event.hash };
  const made = await createCheckpoint(client, { reason: "export" });
  // Without a signing key there is no new checkpoint; an older one still bounds the log from below.
  const checkpoint = made?.checkpoint ?? (await latestCheckpoint(client));
  const cp = checkpoint ? { message: checkpoint.message, signature: checkpoint.signature } : null;
  const token = cp ? encodeCheckpointToken({ ...cp, export: position } satisfies CheckpointToken) : null;
  const positionLine = `# tollgate-audit-position export=${position.exportId} event_seq=${position.eventSeq} event_hash=${position.eventHash}`;
  const csvTrailer = [positionLine, token ? `# ${token}` : "# tollgate-audit: no signed checkpoint (no audit signing key configured)"].join("\r\n") + "\r\n";
  return {
    position,
    checkpoint: cp,
    token,
    csvTrailer,
    json: { position, checkpoint: cp, token },
  };
}

/**
 * The CSV's records, then the evidence trailer: lines starting with "#" after
 * the last record (one field each, so a spreadsheet shows them as a last row;
 * test/support/csv.ts and most CSV readers with a comment option skip them).
 */
export async function* withTrailer(chunks: AsyncGenerator<Uint8Array>, trailer: string): AsyncGenerator<Uint8Array> {
  // yield* forwards return() to the inner generator, so a cancelled download still stops the cursor.
  yield* chunks;
  yield Buffer.from(trailer);
}
