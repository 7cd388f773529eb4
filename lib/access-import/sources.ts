import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { forbidden, fromZod, notFound } from "@/lib/errors";

/** What the upload page offers: environments to import into and the sources imported so far. */
export async function listImportTargets(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "imports:write");
  const [environments, sources] = await Promise.all([
    client.environment.findMany({ select: { name: true }, orderBy: { name: "asc" } }),
    client.accessImportSource.findMany({
      select: { name: true, format: true, lastAppliedAt: true, autoRollback: true, environment: { select: { name: true } }, _count: { select: { objects: { where: { goneAt: { not: null } } } } } },
      orderBy: { name: "asc" },
    }),
  ]);
  return {
    environments: environments.map((e) => e.name),
    sources: sources.map((s) => ({ name: s.name, format: s.format, environment: s.environment.name, lastAppliedAt: s.lastAppliedAt?.toISOString() ?? null, goneObjects: s._count.objects, autoRollback: s.autoRollback })),
  };
}

export const autoRollbackInput = z.object({
  source: z.string().trim().min(1, "is required").max(200),
  enabled: z.boolean(),
});

/**
 * Per source: roll back what a later import shows was granted outside review,
 * right after that import (issue 22). The rollback decisions are signed by the
 * admin who turned it on, so it takes a signed-in admin, not a token.
 */
export async function setImportAutoRollback(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<{ source: string; autoRollback: boolean }> {
  authorize(actor, "imports:write");
  if (actor.kind !== "user") throw forbidden("Only a signed-in admin can sign automatic rollbacks");
  const user = actor;
  const parsed = autoRollbackInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { source, enabled } = parsed.data;
  return client.$transaction(async (tx) => {
    const row = await tx.accessImportSource.findUnique({ where: { name: source }, select: { id: true } });
    if (!row) throw notFound(`Import source ${source}`);
    await tx.accessImportSource.update({ where: { id: row.id }, data: { autoRollback: enabled, autoRollbackById: enabled ? user.userId : null } });
    await appendAuditEvent(tx, { actor, action: enabled ? "import.auto_rollback_on" : "import.auto_rollback_off", target: `import-source:${row.id}`, data: { source } });
    return { source, autoRollback: enabled };
  });
}
