import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient } from "@/lib/db";
import { badRequest, fromZod } from "@/lib/errors";
import { plainText } from "@/lib/validation/text";
import { openZombieFindings } from "@/lib/discovery/zombies";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { openAnomalies, reactivatedCandidates, signalCandidates } from "./anomalies";

/**
 * Ingestion of the enforcement proxy's usage reports (POST /api/v1/usage).
 * Everything is set-based (unnest → INSERT … SELECT / UPDATE … FROM) and in one
 * transaction together with the UsageReport row that makes a redelivered
 * report (same reportId) a no-op. Unknown grants and credentials (deleted
 * since the proxy counted them) are skipped, not errors.
 */

const MAX_ROWS = 50_000;

/**
 * The ingest transaction's budget. Prisma's default (5 s to finish) was a cliff: with the proxy flat out on a
 * 2-core machine and 20,000 active keys, a report of 5,000 grant-days + 2,000 signals took 5.7-6.8 s of wall time
 * (0.3 s of its own CPU and ~1 s of Postgres CPU; the rest waiting for a core), was rolled back at 5 s, and the
 * proxy resent the same report every tick for a minute: no usage and no findings landed at all (bench/signals-e2e.ts,
 * docs/BENCHMARKS.md). A report that is slow must still commit: the proxy's own 10 s answer timeout then only
 * makes it resend a report the dashboard already holds, which the reportId turns into a no-op.
 */
export const INGEST_TX = { maxWait: 10_000, timeout: 60_000 } as const;

/**
 * What a report may claim. Usage decides dormancy, so a timestamp is evidence:
 * `lastUsedAt: 9999-12-31` kept a grant "used" for ever through greatest(), and
 * year 0000 reached Postgres as a 500. Times must lie between a fixed floor and
 * now plus a small clock skew; against each grant or credential, no earlier than
 * its creation minus a slack (a proxy's clock may lag, and a day is counted in
 * UTC). A report's counts for one grant-day are bounded, and the column is
 * BIGINT, so no sum of reports can overflow it.
 */
export const USAGE_CLOCK_SKEW_MS = 5 * 60_000;
export const USAGE_CREATION_SLACK = "2 days";
const FLOOR = Date.UTC(2000, 0, 1);
export const MAX_COUNT_PER_GRANT_DAY = 1_000_000_000;

const inRange = (t: number, now: number) => t >= FLOOR && t <= now + USAGE_CLOCK_SKEW_MS;
const instant = z.iso
  .datetime({ offset: true })
  .refine((v) => inRange(Date.parse(v), Date.now()), "must lie between 2000-01-01 and now (plus 5 minutes of clock skew)");
// A day is in range if any instant of it is: its UTC start is at most now + skew.
const usageDay = z.iso.date().refine((v) => inRange(Date.parse(`${v}T00:00:00Z`), Date.now()), "must lie between 2000-01-01 and today");

export const usageReportSchema = z.object({
  reportId: plainText(200),
  proxy: plainText(200),
  environment: plainText(200),
  grants: z
    .array(z.object({ grantId: z.guid(), day: usageDay, count: z.number().int().min(1).max(MAX_COUNT_PER_GRANT_DAY), lastUsedAt: instant }))
    .max(MAX_ROWS)
    .superRefine((rows, ctx) => {
      const totals = new Map<string, number>();
      rows.forEach((g, i) => {
        const key = `${g.grantId} ${g.day}`;
        const total = (totals.get(key) ?? 0) + g.count;
        totals.set(key, total);
        if (total > MAX_COUNT_PER_GRANT_DAY && total - g.count <= MAX_COUNT_PER_GRANT_DAY) {
          ctx.addIssue({ code: "custom", path: [i, "count"], message: `counts for grant ${g.grantId} on ${g.day} add up to more than ${MAX_COUNT_PER_GRANT_DAY} in one report` });
        }
      });
    }),
  credentials: z.array(z.object({ credentialId: z.guid(), lastUsedAt: instant })).max(MAX_ROWS),
  shadow: z
    .array(
      z.object({
        apiId: z.guid().nullable(),
        method: z.string().regex(/^[A-Z]{1,16}$/),
        path: plainText(512).startsWith("/"),
        count: z.number().int().min(1).max(1_000_000_000),
        distinctKeys: z.number().int().min(0).max(1_000_000),
        firstSeenAt: instant,
        lastSeenAt: instant,
      }).refine((o) => Date.parse(o.firstSeenAt) <= Date.parse(o.lastSeenAt), { path: ["lastSeenAt"], message: "must not be before firstSeenAt" }),
    )
    .max(MAX_ROWS),
  /** Allowed requests per route (= endpoint id) and day; absent from proxies older than issue 17. */
  routes: z
    .array(z.object({ routeId: z.guid(), day: usageDay, count: z.number().int().min(1).max(1_000_000_000), lastUsedAt: instant }))
    .max(MAX_ROWS)
    .default([]),
  /** Per-credential usage signals (issue 22, proxy/signals.ts); absent from older proxies and with PROXY_SIGNALS off. */
  signals: z
    .array(
      z.object({
        credentialId: z.guid(),
        grantId: z.guid().nullable(),
        endpoints: z.array(z.guid()).max(10_000),
        networks: z.array(z.string().regex(/^[0-9a-f.:]{2,39}\/(24|48)$/, "must be an IPv4 /24 or IPv6 /48 network")).max(64),
        minutes: z.array(z.object({ minute: instant, count: z.number().int().min(1).max(100_000_000) })).max(1_000),
      }),
    )
    .max(MAX_ROWS)
    .default([]),
});
export type UsageReportInput = z.input<typeof usageReportSchema>;

export interface IngestResult {
  /** false when this reportId was ingested before (nothing changed). */
  accepted: boolean;
  grantDays: number;
  credentials: number;
  shadow: number;
  /** Endpoint-days counted, and zombie findings opened by this report (lib/discovery/zombies.ts). */
  endpointDays: number;
  zombieFindings: number;
  /** Anomaly findings this report opened (lib/usage/anomalies.ts). */
  anomalies: { id: string; grantId: string; rule: string; severity: string }[];
  proxyKnown: boolean;
}

export async function ingestUsageReport(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<IngestResult> {
  authorize(actor, "usage:ingest");
  const parsed = usageReportSchema.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const r = parsed.data;

  const result = await client.$transaction(async (tx) => {
    await refuseImplausible(tx, r);
    const fresh = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO "UsageReport" (id, "proxyName") VALUES (${r.reportId}, ${r.proxy})
      ON CONFLICT (id) DO NOTHING RETURNING id`;
    if (fresh.length === 0) return { accepted: false, grantDays: 0, credentials: 0, shadow: 0, endpointDays: 0, zombieFindings: 0, anomalies: [], proxyKnown: false };
    // Before lastUsedAt moves forward: what wakes from ≥ 90 days of disuse.
    const reactivated = await reactivatedCandidates(tx, r.grants, r.credentials, r.signals);

    let grantDays = 0;
    if (r.grants.length > 0) {
      const ids = r.grants.map((g) => g.grantId);
      // Duplicate (grant, day) pairs in one report are summed first: ON CONFLICT cannot touch a row twice.
      grantDays = await tx.$executeRaw`
        INSERT INTO "GrantUsageDaily" ("grantId", day, "requestCount")
        SELECT u.g, u.d, sum(u.c)
        FROM unnest(${ids}::uuid[], ${r.grants.map((g) => g.day)}::date[], ${r.grants.map((g) => g.count)}::bigint[]) AS u(g, d, c)
        JOIN "Grant" gr ON gr.id = u.g
        GROUP BY u.g, u.d
        ON CONFLICT ("grantId", day) DO UPDATE SET "requestCount" = "GrantUsageDaily"."requestCount" + excluded."requestCount"`;
      await tx.$executeRaw`
        UPDATE "Grant" g SET "lastUsedAt" = greatest(g."lastUsedAt", u.t)
        FROM (SELECT x.g, max(x.t) AS t FROM unnest(${ids}::uuid[], ${r.grants.map((g) => g.lastUsedAt)}::timestamptz[]) AS x(g, t) GROUP BY x.g) u
        WHERE g.id = u.g`;
    }

    let credentials = 0;
    if (r.credentials.length > 0) {
      credentials = await tx.$executeRaw`
        UPDATE "Credential" c SET "lastUsedAt" = greatest(c."lastUsedAt", u.t)
        FROM (SELECT x.c, max(x.t) AS t FROM unnest(${r.credentials.map((c) => c.credentialId)}::uuid[], ${r.credentials.map((c) => c.lastUsedAt)}::timestamptz[]) AS x(c, t) GROUP BY x.c) u
        WHERE c.id = u.c`;
    }

    let shadow = 0;
    if (r.shadow.length > 0) {
      const s = r.shadow;
      shadow = await tx.$executeRaw`
        INSERT INTO "ShadowEndpoint" (id, "environmentId", "apiId", method, path, "requestCount", "distinctKeys", "firstSeenAt", "lastSeenAt")
        SELECT gen_random_uuid(), e.id, (array_agg(u.a) FILTER (WHERE u.a IS NOT NULL))[1], u.m, u.p, sum(u.c), max(u.k), min(u.f), max(u.l)
        FROM unnest(${s.map((x) => x.apiId)}::uuid[], ${s.map((x) => x.method)}::text[], ${s.map((x) => x.path)}::text[],
                    ${s.map((x) => x.count)}::bigint[], ${s.map((x) => x.distinctKeys)}::int[],
                    ${s.map((x) => x.firstSeenAt)}::timestamptz[], ${s.map((x) => x.lastSeenAt)}::timestamptz[]) AS u(a, m, p, c, k, f, l)
        JOIN "Environment" e ON e.name = ${r.environment}
        GROUP BY e.id, u.m, u.p
        ON CONFLICT ("environmentId", method, path) DO UPDATE SET
          "requestCount" = "ShadowEndpoint"."requestCount" + excluded."requestCount",
          "distinctKeys" = greatest("ShadowEndpoint"."distinctKeys", excluded."distinctKeys"),
          "firstSeenAt" = least("ShadowEndpoint"."firstSeenAt", excluded."firstSeenAt"),
          "lastSeenAt" = greatest("ShadowEndpoint"."lastSeenAt", excluded."lastSeenAt"),
          "apiId" = coalesce("ShadowEndpoint"."apiId", excluded."apiId")`;
    }

    let endpointDays = 0;
    let zombieFindings = 0;
    if (r.routes.length > 0) {
      const ids = r.routes.map((x) => x.routeId);
      // Routes are endpoints (the snapshot's route id is the endpoint id); deleted ones are skipped.
      endpointDays = await tx.$executeRaw`
        INSERT INTO "EndpointUsageDaily" ("endpointId", day, "requestCount")
        SELECT u.e, u.d, sum(u.c)
        FROM unnest(${ids}::uuid[], ${r.routes.map((x) => x.day)}::date[], ${r.routes.map((x) => x.count)}::bigint[]) AS u(e, d, c)
        JOIN "Endpoint" en ON en.id = u.e
        GROUP BY u.e, u.d
        ON CONFLICT ("endpointId", day) DO UPDATE SET "requestCount" = "EndpointUsageDaily"."requestCount" + excluded."requestCount"`;
      await tx.$executeRaw`
        UPDATE "Endpoint" e SET "lastSeenAt" = greatest(e."lastSeenAt", u.t)
        FROM (SELECT x.e, max(x.t) AS t FROM unnest(${ids}::uuid[], ${r.routes.map((x) => x.lastUsedAt)}::timestamptz[]) AS x(e, t) GROUP BY x.e) u
        WHERE e.id = u.e`;
      // A deprecated endpoint that still gets traffic is a zombie: a finding at once, not at the next import.
      zombieFindings = await openZombieFindings(tx, { endpointIds: [...new Set(ids)] });
    }

    const anomalies = await openAnomalies(tx, [...reactivated, ...(await signalCandidates(tx, r.signals, r.environment, new Date()))]);

    // Only a registered proxy gets its last-report time; an unregistered one is not created here.
    const proxyKnown = (await tx.$executeRaw`UPDATE "Proxy" SET "lastReportAt" = now() WHERE name = ${r.proxy}`) > 0;
    return { accepted: true, grantDays, credentials, shadow, endpointDays, zombieFindings, anomalies, proxyKnown };
  }, INGEST_TX);
  // Anomalies may have queued webhook deliveries: send them now, not at the worker's next poll.
  if (result.anomalies.length > 0) wakeDelivery();
  return result;
}

type Report = z.output<typeof usageReportSchema>;
type Queryable = Pick<PrismaClient, "$queryRaw">;

/**
 * The checks that need the database, each naming the first offending entry:
 * usage dated before its grant (or credential) existed, a shadow observation
 * naming an API that does not exist in the report's environment, and shadow
 * observations for an environment that does not exist. Nothing is written
 * before they pass (the caller's transaction has not written yet).
 */
async function refuseImplausible(tx: Queryable, r: Report): Promise<void> {
  if (r.grants.length > 0) {
    const early = await tx.$queryRaw<{ i: bigint; created: Date }[]>`
      SELECT u.i, gr."grantedAt" AS created
      FROM unnest(${r.grants.map((g) => g.grantId)}::uuid[], ${r.grants.map((g) => g.day)}::date[], ${r.grants.map((g) => g.lastUsedAt)}::timestamptz[])
        WITH ORDINALITY AS u(g, d, t, i)
      JOIN "Grant" gr ON gr.id = u.g
      WHERE u.t < gr."grantedAt" - ${USAGE_CREATION_SLACK}::interval
         OR u.d < (gr."grantedAt" - ${USAGE_CREATION_SLACK}::interval)::date
      ORDER BY u.i LIMIT 1`;
    if (early[0]) {
      const i = Number(early[0].i) - 1;
      throw badRequest(`grants.${i}: usage on ${r.grants[i].day} (last used ${r.grants[i].lastUsedAt}) predates grant ${r.grants[i].grantId}, granted ${early[0].created.toISOString()}`, `grants.${i}`);
    }
  }
  if (r.credentials.length > 0) {
    const early = await tx.$queryRaw<{ i: bigint; created: Date }[]>`
      SELECT u.i, c."createdAt" AS created
      FROM unnest(${r.credentials.map((c) => c.credentialId)}::uuid[], ${r.credentials.map((c) => c.lastUsedAt)}::timestamptz[]) WITH ORDINALITY AS u(c, t, i)
      JOIN "Credential" c ON c.id = u.c
      WHERE u.t < c."createdAt" - ${USAGE_CREATION_SLACK}::interval
      ORDER BY u.i LIMIT 1`;
    if (early[0]) {
      const i = Number(early[0].i) - 1;
      throw badRequest(`credentials.${i}: last used ${r.credentials[i].lastUsedAt}, before credential ${r.credentials[i].credentialId} was created (${early[0].created.toISOString()})`, `credentials.${i}`);
    }
  }
  if (r.signals.length > 0) {
    // A signal's minutes are usage too: none before its credential existed (less the same slack).
    const earliest = r.signals.map((x) => (x.minutes.length ? new Date(Math.min(...x.minutes.map((m) => Date.parse(m.minute)))).toISOString() : null));
    const early = await tx.$queryRaw<{ i: bigint; created: Date }[]>`
      SELECT u.i, c."createdAt" AS created
      FROM unnest(${r.signals.map((x) => x.credentialId)}::uuid[], ${earliest}::timestamptz[]) WITH ORDINALITY AS u(c, t, i)
      JOIN "Credential" c ON c.id = u.c
      WHERE u.t IS NOT NULL AND u.t < c."createdAt" - ${USAGE_CREATION_SLACK}::interval
      ORDER BY u.i LIMIT 1`;
    if (early[0]) {
      const i = Number(early[0].i) - 1;
      throw badRequest(`signals.${i}.minutes: usage from ${earliest[i]}, before credential ${r.signals[i].credentialId} was created (${early[0].created.toISOString()})`, `signals.${i}.minutes`);
    }
  }
  if (r.shadow.length > 0) {
    const env = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Environment" WHERE name = ${r.environment}`;
    if (!env[0]) throw badRequest(`environment: no environment named ${JSON.stringify(r.environment)} for these shadow observations`, "environment");
    const unknown = await tx.$queryRaw<{ i: bigint }[]>`
      SELECT u.i FROM unnest(${r.shadow.map((x) => x.apiId)}::uuid[]) WITH ORDINALITY AS u(a, i)
      WHERE u.a IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "Api" a WHERE a.id = u.a AND a."environmentId" = ${env[0].id}::uuid)
      ORDER BY u.i LIMIT 1`;
    if (unknown[0]) {
      const i = Number(unknown[0].i) - 1;
      throw badRequest(`shadow.${i}.apiId: no API ${r.shadow[i].apiId} in environment ${r.environment}`, `shadow.${i}.apiId`);
    }
  }
}
