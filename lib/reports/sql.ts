import type { PrismaClient } from "@/lib/db";
import type { ReportSummary } from "./types";

/** Figures for summaries: counts over the same FROM … WHERE text the report's rows use, so they cannot disagree. */
export async function countRows(client: PrismaClient, from: string, params: unknown[]): Promise<number> {
  const [row] = await client.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n ${from}`, ...params);
  return row?.n ?? 0;
}

/** Label → count, largest first (ties by label), for one grouping expression. */
export async function countBy(client: PrismaClient, expr: string, from: string, params: unknown[]): Promise<[string, number][]> {
  const rows = await client.$queryRawUnsafe<{ k: string | null; n: number }[]>(
    `SELECT (${expr})::text AS k, count(*)::int AS n ${from} GROUP BY 1 ORDER BY 2 DESC, 1 ASC`,
    ...params,
  );
  return rows.map((r) => [r.k ?? "(none)", r.n]);
}

/**
 * A summary made of counts over the report's own FROM … WHERE text: the row count
 * (labelled `rows`), further counts of the rows meeting an extra condition, and
 * breakdown tables, all counted in parallel; `context` lines (the period, the
 * instant) come first.
 */
export async function countedSummary(
  client: PrismaClient,
  from: string,
  params: unknown[],
  spec: { context?: [string, string][]; rows: string; where?: [label: string, condition: string][]; breakdowns: { title: string; by: string }[] },
): Promise<ReportSummary> {
  const where = spec.where ?? [];
  const [total, counts, tables] = await Promise.all([
    countRows(client, from, params),
    Promise.all(where.map(([, condition]) => countRows(client, `${from} AND ${condition}`, params))),
    Promise.all(spec.breakdowns.map(async (b) => ({ title: b.title, rows: await countBy(client, b.by, from, params) }))),
  ]);
  return {
    rowCount: total,
    totals: [...(spec.context ?? []), [spec.rows, total], ...where.map(([label], i): [string, number] => [label, counts[i]])],
    breakdowns: tables,
  };
}
