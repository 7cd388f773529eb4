/**
 * One-off A/B behind docs/BENCHMARKS.md (issue 22, "the anomaly rules' own statements"): the endpoint-history upsert
 * as it was (ON CONFLICT locking every known pair) and with the NOT EXISTS pre-filter, alternating, 10 rounds of 2,000
 * known pairs, in EXPLAIN (ANALYZE, WAL). `npx tsx bench/signals-e2e-seen-ab.ts <database kept by BENCH_KEEP=1 npx tsx bench/signals-e2e.ts>`.
 */
import pg from "pg";
import { benchRequests } from "./proxy-state";
const c = new pg.Client({ connectionString: process.argv[2], application_name: "bench-ab" });
await c.connect();
const reqs = benchRequests(20000);
const stmt = (pre: boolean) => `EXPLAIN (ANALYZE, WAL, FORMAT JSON) WITH ins AS (
        INSERT INTO "CredentialEndpointSeen" ("credentialId", "endpointId", "firstSeenAt", "lastSeenAt")
        SELECT DISTINCT u.c, u.e, $3::timestamptz, $3::timestamptz
        FROM unnest($1::uuid[], $2::uuid[]) AS u(c, e)
        JOIN "Credential" c ON c.id = u.c JOIN "Endpoint" en ON en.id = u.e
        ${pre ? `WHERE NOT EXISTS (SELECT 1 FROM "CredentialEndpointSeen" k WHERE k."credentialId" = u.c AND k."endpointId" = u.e AND k."lastSeenAt" >= $3::timestamptz - interval '1 hour')` : ""}
        ON CONFLICT ("credentialId", "endpointId") DO UPDATE SET "lastSeenAt" = excluded."lastSeenAt"
          WHERE "CredentialEndpointSeen"."lastSeenAt" < excluded."lastSeenAt" - interval '1 hour'
        RETURNING "credentialId", "endpointId", (xmax = 0) AS inserted)
      SELECT count(*) FROM ins WHERE ins.inserted`;
const res: Record<string, { ms: number[]; wal: number[]; bytes: number[] }> = { old: { ms: [], wal: [], bytes: [] }, new: { ms: [], wal: [], bytes: [] } };
for (let round = 0; round < 10; round++) {
  const slice = reqs.slice((round % 10) * 2000, (round % 10) * 2000 + 2000);
  for (const v of round % 2 ? ["new", "old"] : ["old", "new"]) {
    await c.query("BEGIN");
    const { rows } = await c.query(stmt(v === "new"), [slice.map((r) => r.credential), slice.map((r) => r.route), new Date()]);
    await c.query("COMMIT");
    const p = rows[0]["QUERY PLAN"][0];
    res[v].ms.push(p["Execution Time"]);
    res[v].wal.push(p.Plan["WAL Records"]);
    res[v].bytes.push(p.Plan["WAL Bytes"]);
  }
}
const med = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
for (const [v, r] of Object.entries(res)) console.log(`${v}: median ${med(r.ms).toFixed(1)} ms (${r.ms.map((m) => m.toFixed(0)).join(" ")}), WAL records median ${med(r.wal)}, WAL bytes median ${med(r.bytes)}`);
await c.end();
