import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";

/** What the upload page offers: environments to import into and the sources imported so far. */
export async function listImportTargets(actor: Actor, client: PrismaClient = db()) {
  authorize(actor, "imports:write");
  const [environments, sources] = await Promise.all([
    client.environment.findMany({ select: { name: true }, orderBy: { name: "asc" } }),
    client.accessImportSource.findMany({
      select: { name: true, format: true, lastAppliedAt: true, environment: { select: { name: true } }, _count: { select: { objects: { where: { goneAt: { not: null } } } } } },
      orderBy: { name: "asc" },
    }),
  ]);
  return {
    environments: environments.map((e) => e.name),
    sources: sources.map((s) => ({ name: s.name, format: s.format, environment: s.environment.name, lastAppliedAt: s.lastAppliedAt?.toISOString() ?? null, goneObjects: s._count.objects })),
  };
}
