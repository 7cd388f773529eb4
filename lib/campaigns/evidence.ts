import { createHash } from "node:crypto";
import type { Tx } from "@/lib/db";

/**
 * Completeness evidence: a SHA-256 over one canonical line per item, in grant
 * id order. The same function recomputes it from the stored items (tests,
 * auditors), so a silently added or removed row changes the digest.
 * Line: grantId|principalId|scopeId|environmentId|grantedAt|expiresAt|lastUsedAt (ISO-8601 UTC, "" for null).
 */
export interface SnapshotLine {
  grantId: string;
  principalId: string;
  scopeId: string;
  environmentId: string;
  grantedAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export function snapshotLine(i: SnapshotLine): string {
  return [i.grantId, i.principalId, i.scopeId, i.environmentId, i.grantedAt.toISOString(), i.expiresAt?.toISOString() ?? "", i.lastUsedAt?.toISOString() ?? ""].join("|");
}

export function snapshotDigest(items: SnapshotLine[]): string {
  const lines = [...items].sort((a, b) => (a.grantId < b.grantId ? -1 : a.grantId > b.grantId ? 1 : 0)).map(snapshotLine);
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

const iso = (col: string) => `coalesce(to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')`;

/** The same digest computed in SQL over a launched campaign's items (set-based: no rows leave the database). */
export async function storedSnapshotDigest(tx: Tx, campaignId: string): Promise<{ count: number; sha256: string }> {
  const [row] = await tx.$queryRawUnsafe<{ count: number; sha256: string }[]>(
    `SELECT count(*)::int AS count,
            encode(sha256(convert_to(coalesce(string_agg(concat_ws('|', "grantId", "principalId", "scopeId", "environmentId",
              ${iso('"grantedAt"')}, ${iso('"expiresAt"')}, ${iso('"lastUsedAt"')}), E'\\n' ORDER BY "grantId"::text COLLATE "C"), ''), 'UTF8')), 'hex') AS sha256
       FROM "CampaignItem" WHERE "campaignId" = $1::uuid`,
    campaignId,
  );
  return row;
}
