import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { badRequest, conflict, forbidden, fromZod, notFound } from "@/lib/errors";
import { assignInput, claimInput } from "./schemas";

/** Takes an open, unassigned finding (or one already mine). Someone else's claim is a conflict. */
export async function claimFinding(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "findings:assign");
  if (actor.kind !== "user") throw forbidden("Only a signed-in reviewer can claim a finding");
  const parsed = claimInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { findingId } = parsed.data;
  return client.$transaction(async (tx) => {
    const claimed = await tx.finding.updateMany({
      where: { id: findingId, status: "open", OR: [{ assigneeId: null }, { assigneeId: actor.userId }] },
      data: { assigneeId: actor.userId },
    });
    if (claimed.count === 0) {
      const f = await tx.finding.findUnique({ where: { id: findingId }, select: { status: true } });
      if (!f) throw notFound("Finding");
      throw conflict(f.status === "open" ? "Another reviewer has already claimed this finding" : `This finding is ${f.status}`);
    }
    await appendAuditEvent(tx, { actor, action: "finding.claim", target: `finding:${findingId}`, data: {} });
    return { findingId, assigneeId: actor.userId };
  });
}

/** Assigns (or unassigns, with null) an open finding to a reviewer. */
export async function assignFinding(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "findings:assign");
  const parsed = assignInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { findingId, assigneeId } = parsed.data;
  return client.$transaction(async (tx) => {
    if (assigneeId) {
      const user = await tx.user.findUnique({ where: { id: assigneeId }, select: { roles: true } });
      if (!user) throw badRequest("assigneeId: no such user", "assigneeId");
      if (!user.roles.includes("reviewer")) throw badRequest("assigneeId: the user is not a reviewer", "assigneeId");
    }
    const updated = await tx.finding.updateMany({ where: { id: findingId, status: "open" }, data: { assigneeId } });
    if (updated.count === 0) {
      const f = await tx.finding.findUnique({ where: { id: findingId }, select: { status: true } });
      if (!f) throw notFound("Finding");
      throw conflict(`This finding is ${f.status}`);
    }
    await appendAuditEvent(tx, { actor, action: "finding.assign", target: `finding:${findingId}`, data: { assigneeId } });
    return { findingId, assigneeId };
  });
}
