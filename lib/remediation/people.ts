import type { PrismaClient, Tx } from "@/lib/db";

// Who hears about a remediation and may object: the owner (a person holds their
// own grants; a service account or key is owned by its managerId) and that
// owner's manager — the same people campaigns ask (lib/campaigns/reviewers.ts).

export interface Accountable {
  principalId: string;
  ownerPrincipalId: string | null;
  managerPrincipalId: string | null;
  ownerUserId: string | null;
  managerUserId: string | null;
}

export async function accountableFor(client: Tx | PrismaClient, principalIds: string[]): Promise<Map<string, Accountable>> {
  if (principalIds.length === 0) return new Map();
  const rows = await client.$queryRaw<Accountable[]>`
    SELECT p.id AS "principalId", x.owner AS "ownerPrincipalId", x.manager AS "managerPrincipalId", ou.id AS "ownerUserId", mu.id AS "managerUserId"
    FROM "Principal" p
    LEFT JOIN "Principal" op ON op.id = p."managerId"
    CROSS JOIN LATERAL (SELECT CASE WHEN p.kind = 'user' THEN p.id ELSE p."managerId" END AS owner,
                               CASE WHEN p.kind = 'user' THEN p."managerId" ELSE op."managerId" END AS manager) x
    LEFT JOIN "User" ou ON ou."principalId" = x.owner
    LEFT JOIN "User" mu ON mu."principalId" = x.manager
    WHERE p.id = ANY(${[...new Set(principalIds)]}::uuid[])`;
  return new Map(rows.map((r) => [r.principalId, r]));
}
