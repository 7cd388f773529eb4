import { randomUUID, sign, verify, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { keyIdOf, type AuditSigner } from "./signing";

/**
 * A signed checkpoint names the audit chain's head at one moment: its sequence
 * number and hash. The signed bytes are one plain line, so an auditor can read
 * what was signed and check it with openssl or node alone (docs/SECURITY.md):
 *
 *   tollgate-audit-checkpoint/1 seq=113 head=<64 hex> at=2026-12-05T20:41:07.123Z key=ed25519:<16 hex>
 */
export interface SignedCheckpoint {
  message: string;
  /** Ed25519 signature over the UTF-8 bytes of message, base64. */
  signature: string;
}

export interface CheckpointFields {
  seq: bigint;
  headHash: string;
  at: string;
  keyId: string;
}

const MESSAGE = /^tollgate-audit-checkpoint\/1 seq=(\d{1,19}) head=([0-9a-f]{64}) at=(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) key=(ed25519:[0-9a-f]{16})$/;

export const signedCheckpointSchema = z.object({
  message: z.string().max(300).regex(MESSAGE, "is not a tollgate-audit-checkpoint/1 message"),
  signature: z.string().max(200).regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64"),
});

export function checkpointMessage(f: CheckpointFields): string {
  return `tollgate-audit-checkpoint/1 seq=${f.seq} head=${f.headHash} at=${f.at} key=${f.keyId}`;
}

export function parseCheckpointMessage(message: string): CheckpointFields | null {
  const m = MESSAGE.exec(message);
  if (!m) return null;
  return { seq: BigInt(m[1]), headHash: m[2], at: m[3], keyId: m[4] };
}

export function signCheckpoint(signer: AuditSigner, head: { seq: bigint; headHash: string }, at = new Date()): SignedCheckpoint {
  const message = checkpointMessage({ seq: head.seq, headHash: head.headHash, at: at.toISOString(), keyId: signer.keyId });
  return { message, signature: sign(null, Buffer.from(message, "utf8"), signer.privateKey).toString("base64") };
}

export type CheckpointCheck =
  | { ok: true; fields: CheckpointFields }
  | { ok: false; fields: CheckpointFields | null; problem: string };

/**
 * A checkpoint is trusted only when its message is well-formed, it names one of
 * the trusted keys, and that key's signature verifies. Each failure is named.
 */
export function checkCheckpoint(cp: SignedCheckpoint, trusted: KeyObject[]): CheckpointCheck {
  const fields = parseCheckpointMessage(cp.message);
  if (!fields) return { ok: false, fields: null, problem: "malformed checkpoint message" };
  const key = trusted.find((k) => keyIdOf(k) === fields.keyId);
  if (!key) {
    const known = trusted.map(keyIdOf).join(", ") || "none configured";
    return { ok: false, fields, problem: `signed by key ${fields.keyId}, which is not the trusted audit key (${known}): rejected` };
  }
  let good = false;
  try {
    good = verify(null, Buffer.from(cp.message, "utf8"), key, Buffer.from(cp.signature, "base64"));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, fields, problem: `bad signature: the signature does not verify with key ${fields.keyId} (the checkpoint was altered or forged)` };
  return { ok: true, fields };
}

// ---------------------------------------------------------------- carriers

/**
 * How a checkpoint travels inside an export (CSV trailer line, JSON member, PDF
 * text and metadata): "tollgate-checkpoint:" + base64url of a small JSON object.
 * base64url has no commas, quotes, slashes or parentheses, so the token survives
 * CSV, JSON and PDF string encoding unchanged and one grep finds it in any of them.
 */
export const TOKEN_PREFIX = "tollgate-checkpoint:";
const TOKEN_RE = /tollgate-checkpoint:([A-Za-z0-9_-]+)/g;

export interface ExportPosition {
  exportId: string;
  /** The export's own audit event (report.export_started): its place in the chain. */
  eventSeq: string;
  eventHash: string;
}

export interface CheckpointToken extends SignedCheckpoint {
  export?: ExportPosition;
}

export function encodeCheckpointToken(token: CheckpointToken): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify(token), "utf8").toString("base64url");
}

const tokenSchema = signedCheckpointSchema.extend({
  export: z.object({ exportId: z.string(), eventSeq: z.string().regex(/^\d+$/), eventHash: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
});

/** Every checkpoint token in a text (an export file, a checkpoint file), in order. Unreadable tokens are skipped. */
export function extractCheckpointTokens(text: string): CheckpointToken[] {
  const out: CheckpointToken[] = [];
  for (const m of text.matchAll(TOKEN_RE)) {
    try {
      const parsed = tokenSchema.safeParse(JSON.parse(Buffer.from(m[1], "base64url").toString("utf8")));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // not a token of ours
    }
  }
  return out;
}

/** One line of the append-only checkpoint file. */
export function checkpointFileLine(cp: SignedCheckpoint): string {
  return JSON.stringify({ message: cp.message, signature: cp.signature }) + "\n";
}

/**
 * Checkpoints from a file an auditor holds: the checkpoint file (JSON lines), a
 * saved export (CSV/JSON/PDF carrying tokens), or a mix. A line that looks like
 * a checkpoint but fails to parse is reported, not skipped: a damaged
 * checkpoint file is itself evidence.
 */
export async function readCheckpointsFile(file: string): Promise<{ checkpoints: CheckpointToken[]; problems: string[] }> {
  const text = await readFile(file, "latin1");
  const checkpoints: CheckpointToken[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{") || !trimmed.includes("tollgate-audit-checkpoint/")) return;
    try {
      const parsed = signedCheckpointSchema.safeParse(JSON.parse(Buffer.from(trimmed, "latin1").toString("utf8")));
      if (parsed.success) checkpoints.push(parsed.data);
      else problems.push(`${file} line ${i + 1}: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
    } catch {
      problems.push(`${file} line ${i + 1}: not valid JSON`);
    }
  });
  checkpoints.push(...extractCheckpointTokens(text));
  return { checkpoints, problems };
}

export const newCheckpointId = () => randomUUID();
