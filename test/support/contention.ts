import type pg from "pg";
import type { Actor } from "@/lib/auth/actor";
import type { PrismaClient } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { makeReviewer } from "@/lib/analysis/fixtures";
import { createCampaign } from "@/lib/campaigns/create";
import { launchCampaign } from "@/lib/campaigns/launch";
import { startExport } from "@/lib/reports/export";
import { approveFinding, revokeGrant } from "@/lib/review";

/**
 * The contention scenario of issue 14, shared by the integration test
 * (test/contention.test.ts, small) and the load test (bench/contention.ts,
 * full size): reviewers deciding findings while campaigns launch (long
 * transactions over the whole inventory) and inventory exports stream, all at
 * once on one process's connection pool.
 */
export interface ContentionWorld {
  reviewers: Actor[];
  admin: Actor;
  auditor: Actor;
  findingIds: string[];
  campaignIds: string[];
}

/** `principals` principals with 4 grants each (one environment served by one proxy), `findings` of them with an open finding. */
export async function buildContentionWorld(
  client: PrismaClient,
  o: { principals: number; findings: number; reviewers: number; campaigns: number },
): Promise<ContentionWorld> {
  const env = await client.environment.create({ data: { name: "prod", tier: "production" } });
  // A proxy row makes every revoke write its outbox row, as in production; nothing delivers them here.
  await client.proxy.create({ data: { name: "edge", adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(24), environmentId: env.id } });
  const api = await client.api.create({ data: { name: "orders", baseUrl: "http://upstream.test/orders", environmentId: env.id } });
  for (const level of ["read", "write", "admin", "delete"] as const) {
    await client.scope.create({ data: { apiId: api.id, name: `orders:${level}`, level: level === "delete" ? "admin" : level } });
  }
  await client.$executeRawUnsafe(
    `INSERT INTO "Principal" (id, kind, "displayName", status, "updatedAt")
     SELECT gen_random_uuid(), 'user', 'person-' || n, 'active', now() FROM generate_series(1, $1::int) n`,
    o.principals,
  );
  await client.$executeRawUnsafe(
    `INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId", status, "grantedAt", "lastUsedAt")
     SELECT gen_random_uuid(), p.id, s.id, $1::uuid, 'active', now() - interval '400 days', now() - interval '200 days'
     FROM "Principal" p CROSS JOIN "Scope" s WHERE s."apiId" = $2::uuid`,
    env.id,
    api.id,
  );
  const findings = await client.$queryRawUnsafe<{ id: string }[]>(
    `INSERT INTO "Finding" (id, "grantId", rule, severity, "riskScore", evidence, suggestion, status)
     SELECT gen_random_uuid(), g.id, 'dormant', 'medium', 50, '{}'::jsonb, 'Revoke', 'open'
     FROM (SELECT id FROM "Grant" ORDER BY id LIMIT $1::int) g
     RETURNING id`,
    o.findings,
  );
  const reviewers = [];
  for (let i = 0; i < o.reviewers; i++) reviewers.push((await makeReviewer(client)).actor);
  const admin = (await makeReviewer(client, ["admin"])).actor;
  const auditor = (await makeReviewer(client, ["auditor"])).actor;
  const certifier = (await makeReviewer(client, ["manager"])).user;
  const campaignIds = [];
  for (let i = 0; i < o.campaigns; i++) {
    const c = await createCampaign(
      admin,
      {
        name: `Load campaign ${i + 1}`,
        period: "2026-Q4",
        dueAt: new Date(Date.now() + 14 * 86_400_000).toISOString(),
        reviewerRule: "named",
        namedReviewerIds: [certifier.id],
        closePolicy: "keep_and_flag",
      },
      client,
    );
    campaignIds.push(c.id);
  }
  await client.$executeRawUnsafe(`ANALYZE`);
  return { reviewers, admin, auditor, findingIds: findings.map((f) => f.id).sort(), campaignIds };
}

export interface Outcome {
  ok: boolean;
  /** AppError code, or "unexpected" for anything else (a leak: Prisma's P2028 and the like). */
  code?: string;
  message?: string;
  ms: number;
}

export interface ContentionResult {
  decisions: Outcome[];
  launches: Outcome[];
  exports: (Outcome & { exportId?: string; bytes?: number })[];
  wallMs: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Outcome> {
  const t = performance.now();
  try {
    await fn();
    return { ok: true, ms: performance.now() - t };
  } catch (e) {
    const ms = performance.now() - t;
    if (e instanceof AppError) return { ok: false, code: e.code, message: e.message, ms };
    return { ok: false, code: "unexpected", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), ms };
  }
}

/**
 * Everything at once: `decisions` decisions spread round-robin over the
 * reviewers (every tenth an approve, the rest revokes; `duplicates` of them
 * decide a finding another reviewer is also deciding, so exactly that many
 * must come back as clean 409 conflicts), every campaign launched, and
 * `exports` inventory CSV exports read to the end.
 */
export async function runContention(
  client: PrismaClient,
  world: ContentionWorld,
  o: { decisions: number; duplicates: number; exports: number; reportPool?: pg.Pool },
): Promise<ContentionResult> {
  const distinct = o.decisions - o.duplicates;
  if (distinct > world.findingIds.length) throw new Error(`need ${distinct} findings, have ${world.findingIds.length}`);
  const targets = world.findingIds.slice(0, distinct);
  for (let i = 0; i < o.duplicates; i++) targets.push(targets[i]);
  const started = performance.now();
  const decisions = targets.map((findingId, i) => {
    const actor = world.reviewers[i % world.reviewers.length];
    return timed(() =>
      i % 10 === 9 ? approveFinding(actor, { findingId, justification: "Still needed for the nightly reconciliation" }, client) : revokeGrant(actor, { findingId }, client),
    );
  });
  const launches = world.campaignIds.map((campaignId) => timed(() => launchCampaign(world.admin, { campaignId }, client)));
  const exports = Array.from({ length: o.exports }, async () => {
    let exportId: string | undefined;
    let bytes = 0;
    const r = await timed(async () => {
      const res = await startExport(world.auditor, { report: "inventory", format: "csv", filters: {} }, { client, pool: o.reportPool });
      exportId = res.exportId;
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
      }
    });
    return { ...r, exportId, bytes };
  });
  const result = {
    decisions: await Promise.all(decisions),
    launches: await Promise.all(launches),
    exports: await Promise.all(exports),
    wallMs: 0,
  };
  result.wallMs = performance.now() - started;
  return result;
}
