import type { PrismaClient } from "@/lib/db";

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
