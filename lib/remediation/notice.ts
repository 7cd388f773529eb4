import { appendAuditEvent } from "@/lib/audit";
import type { Tx } from "@/lib/db";
import { createNotifications, type NewNotification } from "@/lib/notifications";
import { findCandidates } from "./candidates";
import { accountableFor } from "./people";
import type { RemediationKindName } from "./schemas";

const DAY_MS = 86_400_000;

/** The audit actor of what a policy does by itself: the policy and the admin who enabled it. */
export async function policyActor(tx: Tx, policy: { name: string; enabledById: string | null }): Promise<string> {
  const u = policy.enabledById ? await tx.user.findUnique({ where: { id: policy.enabledById }, select: { email: true } }) : null;
  return `policy:${policy.name} (enabled by ${u?.email ?? "unknown"})`;
}

/**
 * Notices what an enabled policy would act on now: one item per grant (or
 * principal's API, or key), due after the notice period, and one in-app
 * notification per owner and manager naming how many of their items and when.
 * Returns how many items were noticed.
 */
export async function noticePolicy(tx: Tx, policyId: string, now: Date): Promise<number> {
  const p = await tx.remediationPolicy.findUniqueOrThrow({ where: { id: policyId } });
  if (p.status !== "enabled") return 0;
  const found = await findCandidates(tx, { id: p.id, kind: p.kind as RemediationKindName, days: p.days }, now);
  if (found.length === 0) return 0;
  const dueAt = new Date(now.getTime() + p.noticeDays * DAY_MS);
  const created = await tx.remediationItem.createManyAndReturn({
    data: found.map((c) => ({
      policyId: p.id,
      principalId: c.principalId,
      grantId: c.grantId,
      credentialId: c.credentialId,
      grantIds: c.grantIds,
      keptScopeIds: c.keptScopeIds,
      summary: c.summary,
      noticedAt: now,
      dueAt,
    })),
    // A concurrent run noticed some of them first (the partial unique indexes): those are theirs.
    skipDuplicates: true,
    select: { id: true, principalId: true },
  });
  const people = await accountableFor(tx, created.map((c) => c.principalId));
  const perUser = new Map<string, number>();
  for (const item of created) {
    const a = people.get(item.principalId);
    for (const userId of new Set([a?.ownerUserId, a?.managerUserId].filter((x): x is string => !!x))) perUser.set(userId, (perUser.get(userId) ?? 0) + 1);
  }
  const due = dueAt.toISOString().slice(0, 16).replace("T", " ");
  const rows: NewNotification[] = [...perUser.entries()].map(([userId, n]) => ({
    userId,
    kind: "remediation.notice",
    message: `Policy "${p.name}" will act on ${n} item${n === 1 ? "" : "s"} you own or manage on ${due} UTC unless you object with a reason.`,
    link: "/remediation",
    dedupeKey: `remediation:${p.id}:${userId}:${now.toISOString()}`,
    createdAt: now,
  }));
  const notified = await createNotifications(tx, rows);
  await appendAuditEvent(tx, {
    actor: await policyActor(tx, p),
    action: "remediation.notice",
    target: `remediation-policy:${p.id}`,
    data: { items: created.length, dueAt: dueAt.toISOString(), notified },
  });
  return created.length;
}
