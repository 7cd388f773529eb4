import type { Tx } from "@/lib/db";
import { conflict, notFound } from "@/lib/errors";
import type { FindingRule, FindingStatus, GrantStatus } from "@/lib/generated/prisma/client";

export interface LockedFinding {
  id: string;
  grantId: string;
  rule: FindingRule;
  grant: {
    principalId: string;
    environmentId: string;
    scope: { apiId: string; level: string; name: string };
    environment: { tier: string; name: string };
    principal: { displayName: string };
  };
}

interface Row {
  id: string;
  grantId: string;
  rule: FindingRule;
  status: FindingStatus;
  grantStatus: GrantStatus;
  principalId: string;
  environmentId: string;
  apiId: string;
  level: string;
  scopeName: string;
  tier: string;
  envName: string;
  displayName: string;
  awaiting: boolean;
}

/**
 * Locks the finding row for the rest of the transaction and checks it can
 * still be decided: a finding that is no longer open, one already waiting for
 * a second reviewer, or one whose grant changed meanwhile is a conflict (409),
 * never silently overwritten. One round trip: decisions are on the hot path.
 * `confirming` names the proposal a second reviewer is confirming: that one
 * waiting decision is the expected state, not a conflict.
 */
export async function lockOpenFinding(tx: Tx, findingId: string, opts: { confirming?: string } = {}): Promise<LockedFinding> {
  const [row] = await tx.$queryRaw<Row[]>`
    SELECT f.id, f."grantId", f.rule, f.status, g.status AS "grantStatus", g."principalId", g."environmentId",
      s."apiId", s.level::text AS level, s.name AS "scopeName", e.tier::text AS tier, e.name AS "envName",
      p."displayName",
      EXISTS (SELECT 1 FROM "Decision" d WHERE d."findingId" = f.id AND d."awaitingConfirmation"
        AND d.id IS DISTINCT FROM ${opts.confirming ?? null}::uuid) AS awaiting
    FROM "Finding" f
    JOIN "Grant" g ON g.id = f."grantId"
    JOIN "Scope" s ON s.id = g."scopeId"
    JOIN "Environment" e ON e.id = g."environmentId"
    JOIN "Principal" p ON p.id = g."principalId"
    WHERE f.id = ${findingId}::uuid
    FOR UPDATE OF f`;
  if (!row) throw notFound("Finding");
  if (row.status !== "open") throw conflict(`This finding was already decided (${row.status})`);
  if (row.awaiting) throw conflict("A decision on this finding is waiting for a second reviewer");
  if (row.grantStatus !== "active") throw conflict(`The grant is no longer active (${row.grantStatus})`);
  return {
    id: row.id,
    grantId: row.grantId,
    rule: row.rule,
    grant: {
      principalId: row.principalId,
      environmentId: row.environmentId,
      scope: { apiId: row.apiId, level: row.level, name: row.scopeName },
      environment: { tier: row.tier, name: row.envName },
      principal: { displayName: row.displayName },
    },
  };
}
