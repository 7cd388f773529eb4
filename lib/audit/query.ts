import { z } from "zod";
import { db, type Prisma, type PrismaClient } from "@/lib/db";
import { authorize, type Actor } from "@/lib/auth/actor";
import { env } from "@/lib/config/env";
import { optionalParam, searchParamsParser, searchTextParam } from "@/lib/url-state";
import { verifyAuditLogFromSources } from "./sources";
import type { AuditLogVerification } from "./verify";

/** A calendar day (UTC) that exists: "2026-02-31" and "2026-13-01" are not days, so they are ignored, never a 500. */
const day = optionalParam(
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .refine((d) => {
      const t = Date.parse(`${d}T00:00:00.000Z`);
      return Number.isFinite(t) && new Date(t).toISOString().startsWith(d);
    }),
);

export const AUDIT_DEFAULT_PER_PAGE = 50;

/**
 * The Audit page's URL, read through lib/url-state.ts like every table's: a value
 * that does not parse falls back to "no filter" or the default, and the page names
 * what it ignored (parseAuditFilter.ignored).
 */
const auditFilterSchema = z.object({
  // A NUL in either was a 500 on /audit: searchTextParam drops control characters.
  action: searchTextParam(64),
  actor: searchTextParam(200),
  from: day,
  to: day,
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  perPage: z.coerce.number().int().min(10).max(200).catch(AUDIT_DEFAULT_PER_PAGE),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export const parseAuditFilter = searchParamsParser(auditFilterSchema);

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
