import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";

// Reads for the policies page (admins) and the notices page (owners and managers).

export async function listPolicies(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "policies:manage");
  const [policies, counts] = await Promise.all([
    client.remediationPolicy.findMany({ orderBy: { createdAt: "asc" } }),
    client.remediationItem.groupBy({ by: ["policyId", "status"], _count: { _all: true } }),
  ]);
  const users = new Map((await client.user.findMany({ where: { id: { in: policies.map((p) => p.enabledById).filter((x): x is string => !!x) } }, select: { id: true, email: true } })).map((u) => [u.id, u.email]));
  return policies.map((p) => ({
    ...p,
    enabledBy: p.enabledById ? (users.get(p.enabledById) ?? null) : null,
    counts: Object.fromEntries(counts.filter((c) => c.policyId === p.id).map((c) => [c.status, c._count._all])) as Record<string, number>,
  }));
}

export const ITEM_ROWS = 200;

export async function listPolicyItems(actor: Actor, policyId: string, client: PrismaClient = db()) {
  authorize(actor, "policies:manage");
  const items = await client.remediationItem.findMany({ where: { policyId }, orderBy: [{ noticedAt: "desc" }, { id: "asc" }], take: ITEM_ROWS });
  const names = new Map((await client.principal.findMany({ where: { id: { in: items.map((i) => i.principalId) } }, select: { id: true, displayName: true } })).map((p) => [p.id, p.displayName]));
  return items.map((i) => ({ ...i, principal: names.get(i.principalId) ?? i.principalId }));
}

/** Noticed items on access the caller owns or manages: what they may object to. */
export async function myNotices(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "notifications:read");
  if (actor.kind !== "user" || !actor.principalId) return [];
  return client.$queryRaw<{ id: string; policy: string; principal: string; summary: string; dueAt: Date; status: string; objectionReason: string | null }[]>`
    SELECT i.id, rp.name AS policy, p."displayName" AS principal, i.summary, i."dueAt", i.status::text AS status, i."objectionReason"
    FROM "RemediationItem" i
    JOIN "RemediationPolicy" rp ON rp.id = i."policyId"
    JOIN "Principal" p ON p.id = i."principalId"
    LEFT JOIN "Principal" op ON op.id = p."managerId"
    WHERE i.status IN ('noticed', 'objected')
      AND ${actor.principalId}::uuid IN (
        CASE WHEN p.kind = 'user' THEN p.id ELSE p."managerId" END,
        CASE WHEN p.kind = 'user' THEN p."managerId" ELSE op."managerId" END)
    ORDER BY i."dueAt", i.id
    LIMIT 500`;
}
