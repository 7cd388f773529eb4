import { z } from "zod";
import { actorLabel, authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { fromZod, notFound } from "@/lib/errors";

export const scopeLevelInput = z.object({ scopeId: z.uuid(), level: z.enum(["read", "write", "admin"]) });

/** An inferred level is a guess: an admin corrects it here, and re-imports keep the correction. */
export async function setScopeLevel(actor: Actor, raw: unknown, client: PrismaClient = db()) {
  authorize(actor, "inventory:write");
  const parsed = scopeLevelInput.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  const { scopeId, level } = parsed.data;
  return client.$transaction(async (tx) => {
    const scope = await tx.scope.findUnique({ where: { id: scopeId } });
    if (!scope) throw notFound("Scope");
    if (scope.level === level) return scope;
    // Marked as the admin's: the import's evidence stays beside it, but the level is now a person's call.
    const updated = await tx.scope.update({ where: { id: scopeId }, data: { level, levelSetBy: actorLabel(actor), levelSetAt: new Date() } });
    await appendAuditEvent(tx, { actor, action: "inventory.scope_level", target: `scope:${scopeId}`, data: { name: scope.name, apiId: scope.apiId, from: scope.level, to: level } });
    return updated;
  });
}
