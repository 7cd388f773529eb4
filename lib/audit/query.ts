import { z } from "zod";
import { db, type Prisma, type PrismaClient } from "@/lib/db";
import { authorize, type Actor } from "@/lib/auth/actor";
import { fromZod } from "@/lib/errors";
import { env } from "@/lib/config/env";
import { verifyAuditLogFromSources } from "./sources";
import type { AuditLogVerification } from "./verify";

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
  .optional()
  .or(z.literal("").transform(() => undefined));

/** The Audit page's URL search params: one parser shared by the page and lib. */
export const auditFilterSchema = z.object({
  action: z.string().trim().max(64).optional().transform((v) => v || undefined),
  actor: z.string().trim().max(200).optional().transform((v) => v || undefined),
  from: day,
  to: day,
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  perPage: z.coerce.number().int().min(10).max(200).default(50),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export function parseAuditFilter(params: Record<string, string | string[] | undefined>): AuditFilter {
  const flat = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = auditFilterSchema.safeParse(flat);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

export interface AuditRow {
  seq: string;
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  data: unknown;
  hash: string;
}

export async function listAuditEvents(
  actor: Actor,
  filter: AuditFilter,
): Promise<{ rows: AuditRow[]; total: number; actions: string[] }> {
  authorize(actor, "audit:read");
  const where: Prisma.AuditEventWhereInput = {};
  if (filter.action) where.action = filter.action;
  if (filter.actor) where.actor = { contains: filter.actor, mode: "insensitive" };
  if (filter.from || filter.to) {
    where.at = {
      ...(filter.from ? { gte: new Date(`${filter.from}T00:00:00.000Z`) } : {}),
      // "to" is inclusive of the whole day.
      ...(filter.to ? { lt: new Date(Date.parse(`${filter.to}T00:00:00.000Z`) + 86_400_000) } : {}),
    };
  }
  const client = db();
  const [rows, total, actions] = await Promise.all([
    client.auditEvent.findMany({
      where,
      orderBy: { seq: "desc" },
      skip: (filter.page - 1) * filter.perPage,
      take: filter.perPage,
    }),
    client.auditEvent.count({ where }),
    client.auditEvent.findMany({ distinct: ["action"], select: { action: true }, orderBy: { action: "asc" } }),
  ]);
  return {
    rows: rows.map((r) => ({
      seq: r.seq.toString(),
      id: r.id,
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      target: r.target,
      data: r.data,
      hash: r.hash,
    })),
    total,
    actions: actions.map((a) => a.action),
  };
}

/**
 * Verification for the Audit page: the same check as `npm run audit:verify`
 * (chain, every checkpoint from the database, the checkpoint file and the
 * proxies, and the cross-checks).
 */
export async function verifyAuditChainAs(actor: Actor, client?: PrismaClient): Promise<AuditLogVerification> {
  authorize(actor, "audit:read");
  // The app's own database is read over plain pg too (fast path); a client passed in is used as is.
  return client ? verifyAuditLogFromSources(client) : verifyAuditLogFromSources(db(), { databaseUrl: env().DATABASE_URL });
}
