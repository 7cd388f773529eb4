import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { conflict, forbidden, fromZod, notFound } from "@/lib/errors";
import { createNotifications } from "@/lib/notifications";
import { findingRuleFor } from "./execute";
import { accountableFor } from "./people";
import { objectionInput } from "./schemas";

/**
 * The owner or the manager objects to a noticed item, with a reason, before
 * it is due: the policy will not act on it, and it becomes a normal finding in
 * the review queue (its evidence carries the policy and the reason), so a
 * reviewer decides instead. The enabling admin is told.
 */
export async function objectToItem(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<{ itemId: string; findingId: string | null }> {
  authorize(actor, "notifications:read");
  if (actor.kind !== "user" || !actor.principalId) throw forbidden("Only the owner or the manager can object, signed in");
  const parsed = objectionInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { itemId, reason } = parsed.data;
  return client.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "RemediationItem" WHERE id = ${itemId}::uuid FOR UPDATE`;
    if (!row) throw notFound("Remediation item");
    const item = await tx.remediationItem.findUniqueOrThrow({ where: { id: itemId }, include: { policy: true } });
    const who = (await accountableFor(tx, [item.principalId])).get(item.principalId);
    if (actor.principalId !== who?.ownerPrincipalId && actor.principalId !== who?.managerPrincipalId) throw forbidden("Only the owner or the manager of this access can object");
    if (item.status !== "noticed") throw conflict(`This item is ${item.status.replaceAll("_", " ")}: it can no longer be objected to`);
    if (item.dueAt <= now) throw conflict("The notice period is over");

    // The finding goes on the item's grant; a key item on one of its principal's active grants (a finding is about a grant).
    const grantId = item.grantId ?? (await tx.grant.findFirst({ where: { principalId: item.principalId, status: "active" }, select: { id: true }, orderBy: { grantedAt: "asc" } }))?.id ?? null;
    let findingId: string | null = null;
    if (grantId) {
      const g = await tx.grant.findUnique({ where: { id: grantId }, select: { lastUsedAt: true, status: true } });
      if (g?.status === "active") {
        const rule = findingRuleFor(item.policy.kind, g.lastUsedAt === null);
        const objection = { policy: item.policy.name, remediationItemId: item.id, summary: item.summary, objection: reason, objectedBy: actor.email };
        // The analysis may already have this finding open (one open finding per grant and rule): the objection joins it.
        const open = await tx.finding.findFirst({ where: { grantId, rule, status: "open" }, select: { id: true, evidence: true } });
        if (open) {
          const evidence = open.evidence && typeof open.evidence === "object" && !Array.isArray(open.evidence) ? open.evidence : {};
          await tx.finding.update({ where: { id: open.id }, data: { evidence: { ...evidence, remediationObjection: objection } } });
          findingId = open.id;
        } else {
          const f = await tx.finding.create({
            data: { grantId, rule, severity: "medium", riskScore: 50, evidence: objection, suggestion: `Objected to remediation policy "${item.policy.name}": ${reason}` },
            select: { id: true },
          });
          findingId = f.id;
        }
      }
    }
    await tx.remediationItem.update({ where: { id: item.id }, data: { status: "objected", objectionReason: reason, objectedById: actor.userId, objectedAt: now, findingId } });
    await appendAuditEvent(tx, { actor, action: "remediation.object", target: `remediation-item:${item.id}`, data: { policy: item.policy.name, reason, findingId } });
    if (item.policy.enabledById) {
      await createNotifications(tx, [{ userId: item.policy.enabledById, kind: "remediation.objection", message: `${actor.name} objected to "${item.policy.name}" on: ${item.summary}`, link: findingId ? "/queues" : "/settings/policies", createdAt: now }]);
    }
    return { itemId: item.id, findingId };
  });
}
