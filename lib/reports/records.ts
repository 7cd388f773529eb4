import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { actorLabel, authorize, systemActor, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { OUTCOME_RETRY, RECORD_TX, retrying } from "@/lib/db/retry";
import { notFound } from "@/lib/errors";
import type { ExportFormat } from "./types";

/**
 * The export record: written when an export starts (so an export that dies
 * mid-stream is still on file, as "running" or "failed"), completed with the
 * row count, byte count and SHA-256 of exactly the bytes sent. Each transition
 * is an audit event in the same transaction.
 */
export interface StartedExport {
  id: string;
  startedAt: Date;
  /** The export's own audit event (report.export_started): its position in the chain. */
  event: { seq: bigint; hash: string };
}

export async function recordExportStart(
  client: PrismaClient,
  actor: Actor,
  input: { report: string; format: ExportFormat; filters: unknown },
): Promise<StartedExport> {
  return retrying(client, "start the export").$transaction(async (tx) => {
    const row = await tx.reportExport.create({
      data: {
        report: input.report,
        format: input.format,
        filters: input.filters as object,
        actor: actorLabel(actor),
        userId: actor.kind === "user" ? actor.userId : null,
      },
      select: { id: true, startedAt: true },
    });
    const event = await appendAuditEvent(tx, {
      actor,
      action: "report.export_started",
      target: `report_export:${row.id}`,
      data: { report: input.report, format: input.format, filters: input.filters },
    });
    return { ...row, event: { seq: event.seq, hash: event.hash } };
  }, RECORD_TX);
}

export type ExportOutcome =
  | { status: "completed"; rowCount: number; byteCount: number; sha256: string }
  | { status: "failed"; rowCount: number; byteCount: number; error: string };

/**
 * Completes or fails a running export; a second call for the same export changes nothing.
 * The bytes were already served, so the record must follow: contention is retried for
 * about a minute (issue 14: under load outcomes were lost, leaving "running" rows
 * that the hourly sweep later called unfinished).
 */
export async function recordExportEnd(client: PrismaClient, actor: Actor, exportId: string, outcome: ExportOutcome): Promise<void> {
  await retrying(client, "record the export's outcome", OUTCOME_RETRY).$transaction(async (tx) => {
    const updated = await tx.reportExport.updateMany({
      where: { id: exportId, status: "running" },
      data: {
        status: outcome.status,
        rowCount: outcome.rowCount,
        byteCount: BigInt(outcome.byteCount),
        sha256: outcome.status === "completed" ? outcome.sha256 : null,
        error: outcome.status === "failed" ? outcome.error.slice(0, 500) : null,
        finishedAt: new Date(),
      },
    });
    if (updated.count === 0) return;
    await appendAuditEvent(tx, {
      actor,
      action: outcome.status === "completed" ? "report.export_completed" : "report.export_failed",
      target: `report_export:${exportId}`,
      data: outcome,
    });
  }, RECORD_TX);
}

/** An export still "running" after this long was cut off (server stopped, process killed): no download takes that long. */
export const ABANDONED_AFTER_MS = 6 * 3_600_000;

/**
 * Marks exports left "running" by a server that stopped mid-stream as failed,
 * with an audit event each, so the export log never shows a stale "running".
 * Age-based rather than at start-up, so one instance restarting cannot fail
 * another instance's live download. Run hourly (lib/enforcement/background.ts).
 */
export async function failAbandonedExports(client: PrismaClient, now: Date, maxAgeMs = ABANDONED_AFTER_MS): Promise<number> {
  const stale = await client.reportExport.findMany({
    where: { status: "running", startedAt: { lt: new Date(now.getTime() - maxAgeMs) } },
    select: { id: true, rowCount: true, byteCount: true },
  });
  const hours = Math.round(maxAgeMs / 3_600_000);
  for (const e of stale) {
    await recordExportEnd(client, systemActor("export-maintenance"), e.id, {
      status: "failed",
      rowCount: e.rowCount ?? 0,
      byteCount: Number(e.byteCount ?? 0),
      error: `did not finish within ${hours} h: the server stopped or the download stalled`,
    });
  }
  return stale.length;
}

export interface ExportRecordRow {
  id: string;
  report: string;
  format: string;
  filters: unknown;
  actor: string;
  status: "running" | "completed" | "failed";
  rowCount: number | null;
  byteCount: number | null;
  sha256: string | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

type Row = Awaited<ReturnType<PrismaClient["reportExport"]["findFirstOrThrow"]>>;
const toRow = (r: Row): ExportRecordRow => ({
  id: r.id,
  report: r.report,
  format: r.format,
  filters: r.filters,
  actor: r.actor,
  status: r.status,
  rowCount: r.rowCount,
  byteCount: r.byteCount === null ? null : Number(r.byteCount),
  sha256: r.sha256,
  error: r.error,
  startedAt: r.startedAt.toISOString(),
  finishedAt: r.finishedAt?.toISOString() ?? null,
});

export const exportListQuery = z.object({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  perPage: z.coerce.number().int().min(10).max(100).default(20),
});

/** Past exports, newest first, paginated in SQL (the /reports page's table). */
export async function listExports(
  actor: Actor,
  query: z.infer<typeof exportListQuery>,
  client: PrismaClient = db(),
): Promise<{ rows: ExportRecordRow[]; total: number }> {
  authorize(actor, "reports:export");
  const [rows, total] = await Promise.all([
    client.reportExport.findMany({ orderBy: [{ startedAt: "desc" }, { id: "desc" }], skip: (query.page - 1) * query.perPage, take: query.perPage }),
    client.reportExport.count(),
  ]);
  return { rows: rows.map(toRow), total };
}

/** One export record: how a client that streamed a file learns the SHA-256 recorded when the stream ended. */
export async function getExport(actor: Actor, exportId: string, client: PrismaClient = db()): Promise<ExportRecordRow> {
  authorize(actor, "reports:export");
  if (!z.guid().safeParse(exportId).success) throw notFound("Export");
  const row = await client.reportExport.findUnique({ where: { id: exportId } });
  if (!row) throw notFound("Export");
  return toRow(row);
}

export interface ReportFormOptions {
  environments: string[];
  teams: string[];
  campaigns: { id: string; label: string }[];
}

/** Choices for the /reports filter form: names that exist, and campaigns that have items. */
export async function reportFormOptions(actor: Actor, client: PrismaClient = db()): Promise<ReportFormOptions> {
  authorize(actor, "reports:export");
  const [environments, teams, campaigns] = await Promise.all([
    client.environment.findMany({ select: { name: true }, orderBy: { name: "asc" } }),
    client.team.findMany({ where: { deletedAt: null }, select: { name: true }, orderBy: { name: "asc" } }),
    client.campaign.findMany({
      where: { status: { not: "draft" } },
      select: { id: true, name: true, period: true, status: true },
      orderBy: [{ launchedAt: "desc" }, { id: "asc" }],
      take: 200,
    }),
  ]);
  return {
    environments: environments.map((e) => e.name),
    teams: teams.map((t) => t.name),
    campaigns: campaigns.map((c) => ({ id: c.id, label: `${c.name} (${c.period}, ${c.status})` })),
  };
}
