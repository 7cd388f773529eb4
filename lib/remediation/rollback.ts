import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { credentialTargets, recordAccessChange } from "@/lib/access/common";
import { db, type PrismaClient } from "@/lib/db";
import { conflict, forbidden, fromZod, notFound } from "@/lib/errors";
import { proxyTargets, type PrincipalOp } from "@/lib/enforcement/outbox";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { itemIdInput, ROLLBACK_DAYS } from "./schemas";

const DAY_MS = 86_400_000;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Restores what a policy removed, in one action, within ROLLBACK_DAYS of the
 * execution: the grants (or the key) are active again and upserted at every
 * proxy through an AccessChange (`restore_access`) and the outbox. Audited with
 * the decision it undoes. The same policy does not take the restored access
 * again (its item stays, rolled back).
 */
export async function rollbackItem(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<{ itemId: string; changeId: string; restored: number }> {
  authorize(actor, "policies:manage");
  if (actor.kind !== "user") throw forbidden("A rollback is signed by a signed-in admin");
  const parsed = itemIdInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const r = await client.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "RemediationItem" WHERE id = ${parsed.data.itemId}::uuid FOR UPDATE`;
    if (!row) throw notFound("Remediation item");
    const item = await tx.remediationItem.findUniqueOrThrow({ where: { id: row.id }, include: { policy: { select: { name: true } } } });
    // A two-person proposal a second reviewer confirmed was executed too (the confirmation does not know about the item).
    const confirmed = item.status === "proposed" && item.decisionId
      ? !!(await tx.decision.findFirst({ where: { id: item.decisionId, enforcement: { not: "proposed" }, discard: null }, select: { id: true } }))
      : false;
    if ((item.status !== "executed" && !confirmed) || !item.executedAt) throw conflict(`Only an executed item can be rolled back (this one is ${item.status.replace("_", " ")})`);
    if (now.getTime() - item.executedAt.getTime() > ROLLBACK_DAYS * DAY_MS) throw conflict(`Executed more than ${ROLLBACK_DAYS} days ago: grant the access again through a request instead`);
    const principal = await tx.principal.findUniqueOrThrow({ where: { id: item.principalId }, select: { id: true, status: true, homeEnvironmentId: true } });
    if (principal.status !== "active") throw conflict(`The principal is ${principal.status}: nothing to restore to`);

    let ops: PrincipalOp[];
    let proxyIds: string[];
    let restored: number;
    if (item.credentialId) {
      const cred = await tx.credential.findUniqueOrThrow({ where: { id: item.credentialId }, select: { id: true, hash: true, expiresAt: true, revokedAt: true } });
      if (!cred.revokedAt) throw conflict("The key is not revoked");
      await tx.credential.update({ where: { id: cred.id }, data: { revokedAt: null } });
      ops = [{ op: "upsert", kind: "credential", value: { id: cred.id, principalId: principal.id, hash: cred.hash, expiresAt: iso(cred.expiresAt) } }];
      proxyIds = await credentialTargets(tx, principal.homeEnvironmentId);
      restored = 1;
    } else {
      // Only what this item's decision revoked and nobody changed since.
      const grants = await tx.grant.findMany({ where: { id: { in: item.grantIds }, status: "revoked" }, select: { id: true, principalId: true, scopeId: true, environmentId: true, expiresAt: true } });
      if (grants.length === 0) throw conflict("Nothing to restore: the access was changed since");
      await tx.grant.updateMany({ where: { id: { in: grants.map((g) => g.id) } }, data: { status: "active", revokedAt: null } });
      ops = grants.map((g) => ({ op: "upsert", kind: "grant", value: { id: g.id, principalId: g.principalId, scopeId: g.scopeId, expiresAt: iso(g.expiresAt) } }));
      proxyIds = await proxyTargets(tx, grants[0].environmentId);
      restored = grants.length;
    }
    const change = await recordAccessChange(tx, {
      kind: "restore_access",
      actor,
      principalId: principal.id,
      credentialIds: item.credentialId ? [item.credentialId] : [],
      grantIds: item.credentialId ? [] : item.grantIds,
      proxyIds,
      ops,
    });
    await tx.remediationItem.update({ where: { id: item.id }, data: { status: "rolled_back", rolledBackAt: now, rolledBackById: actor.userId, restoreChangeId: change.id } });
    await appendAuditEvent(tx, {
      actor,
      action: "remediation.rollback",
      target: `remediation-item:${item.id}`,
      data: { policy: item.policy.name, decisionId: item.decisionId, accessChangeId: item.accessChangeId, restoreChangeId: change.id, restored },
    });
    return { itemId: item.id, changeId: change.id, restored, pending: change.enforcement === "pending" };
  });
  if (r.pending) wakeDelivery();
  return { itemId: r.itemId, changeId: r.changeId, restored: r.restored };
}
