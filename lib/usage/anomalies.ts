import type { Tx } from "@/lib/db";
import { appendAuditEvent } from "@/lib/audit";
import { systemActor } from "@/lib/auth/actor";
import { createNotifications } from "@/lib/notifications";
import { enqueueWebhookEvent } from "@/lib/webhooks/events";

/**
 * The anomaly rules of issue 22, evaluated inside the usage report's ingest
 * transaction (lib/usage/ingest.ts), so a finding is in the queue as soon as
 * the proxy's report (every PROXY_USAGE_FLUSH_MS, 5 s by default) is in, not
 * at the next hourly analysis. Each is set-based over the report's rows:
 *
 * - reactivated: a grant (or the credential that used it) last used ≥ 90 days
 *   before this use. Compared against the stored lastUsedAt *before* the report
 *   moves it forward.
 * - new_endpoint: the first call by a credential of an endpoint that needs a
 *   write or admin scope, once the credential has an endpoint history of at
 *   least LEARNING (a new key's first day is its baseline, not an anomaly).
 * - volume_spike: a credential's requests in one minute above
 *   max(SPIKE_FLOOR, 10 × the p95 of its busy minutes of the last 30 days,
 *   leaving out the last hour). The one-open-finding-per-(grant, rule) index
 *   makes a spike one finding, however many minutes or reports it spans.
 * - new_network: a production key seen from a client network (/24, /48) it
 *   never used, once it has a network history of at least LEARNING.
 *
 * Findings attach to a grant (the queue reviews grants): the grant the request
 * used, or for new_endpoint the principal's write/admin grant behind the endpoint.
 */
export const DORMANT_DAYS = 90;
export const LEARNING = "1 day";
export const SPIKE_FACTOR = 10;
export const SPIKE_FLOOR = 100;
const BASELINE_DAYS = 30;

export interface SignalRow {
  credentialId: string;
  grantId: string | null;
  endpoints: string[];
  networks: string[];
  minutes: { minute: string; count: number }[];
}

interface Candidate {
  grantId: string;
  rule: "reactivated" | "new_endpoint" | "volume_spike" | "new_network";
  evidence: Record<string, unknown>;
}

export interface OpenedAnomaly {
  id: string;
  grantId: string;
  rule: string;
  severity: string;
}

/** Grants and credentials of this report that wake from ≥ 90 days of disuse. Call before lastUsedAt is updated. */
export async function reactivatedCandidates(
  tx: Tx,
  grants: { grantId: string; lastUsedAt: string }[],
  credentials: { credentialId: string; lastUsedAt: string }[],
  signals: SignalRow[],
): Promise<Candidate[]> {
  const out = new Map<string, Candidate>();
  if (grants.length > 0) {
    const rows = await tx.$queryRaw<{ grantId: string; previous: Date; usedAt: Date }[]>`
      SELECT g.id AS "grantId", g."lastUsedAt" AS previous, u.t AS "usedAt"
      FROM (SELECT x.g, max(x.t) AS t FROM unnest(${grants.map((g) => g.grantId)}::uuid[], ${grants.map((g) => g.lastUsedAt)}::timestamptz[]) AS x(g, t) GROUP BY x.g) u
      JOIN "Grant" g ON g.id = u.g
      WHERE g."lastUsedAt" IS NOT NULL AND g."lastUsedAt" <= u.t - make_interval(days => ${DORMANT_DAYS})`;
    for (const r of rows) out.set(r.grantId, { grantId: r.grantId, rule: "reactivated", evidence: dormancy("grant", r.previous, r.usedAt) });
  }
  const grantOf = new Map(signals.filter((s) => s.grantId).map((s) => [s.credentialId, s.grantId!]));
  const used = credentials.filter((c) => grantOf.has(c.credentialId));
  if (used.length > 0) {
    const rows = await tx.$queryRaw<{ credentialId: string; prefix: string; previous: Date; usedAt: Date }[]>`
      SELECT c.id AS "credentialId", c.prefix, c."lastUsedAt" AS previous, u.t AS "usedAt"
      FROM (SELECT x.c, max(x.t) AS t FROM unnest(${used.map((c) => c.credentialId)}::uuid[], ${used.map((c) => c.lastUsedAt)}::timestamptz[]) AS x(c, t) GROUP BY x.c) u
      JOIN "Credential" c ON c.id = u.c
      WHERE c."lastUsedAt" IS NOT NULL AND c."lastUsedAt" <= u.t - make_interval(days => ${DORMANT_DAYS})`;
    for (const r of rows) {
      const grantId = grantOf.get(r.credentialId)!;
      const prior = out.get(grantId);
      const evidence = { ...(prior?.evidence ?? dormancy("credential", r.previous, r.usedAt)), credential: { id: r.credentialId, prefix: r.prefix, previousUseAt: r.previous.toISOString() } };
      out.set(grantId, { grantId, rule: "reactivated", evidence });
    }
  }
  return [...out.values()];
}

function dormancy(what: "grant" | "credential", previous: Date, usedAt: Date) {
  return {
    reason: `the ${what} was not used for ${Math.floor((usedAt.getTime() - previous.getTime()) / 86_400_000)} days (threshold ${DORMANT_DAYS}) and was used again`,
    previousUseAt: previous.toISOString(),
    usedAgainAt: usedAt.toISOString(),
    dormantDays: Math.floor((usedAt.getTime() - previous.getTime()) / 86_400_000),
  };
}

/** Records the report's signals (endpoint and network history, minute counts) and returns the anomalies they show. */
export async function signalCandidates(tx: Tx, signals: SignalRow[], environment: string, now: Date): Promise<Candidate[]> {
  if (signals.length === 0) return [];
  const out: Candidate[] = [];
  const grantOf = new Map(signals.filter((s) => s.grantId).map((s) => [s.credentialId, s.grantId!]));
  const firstRequests = (credentialId: string) => signals.find((s) => s.credentialId === credentialId)?.endpoints.slice(0, 10) ?? [];

  // Endpoint history, and new_endpoint. The outer SELECT sees the table as it was before this statement's insert.
  const pc: string[] = [];
  const pe: string[] = [];
  for (const s of signals) {
    for (const e of s.endpoints) {
      pc.push(s.credentialId);
      pe.push(e);
    }
  }
  if (pc.length > 0) {
    const fresh = await tx.$queryRaw<{ credentialId: string; grantId: string; level: string; method: string; path: string }[]>`
      WITH ins AS (
        INSERT INTO "CredentialEndpointSeen" ("credentialId", "endpointId", "firstSeenAt", "lastSeenAt")
        SELECT DISTINCT u.c, u.e, ${now}::timestamptz, ${now}::timestamptz
        FROM unnest(${pc}::uuid[], ${pe}::uuid[]) AS u(c, e)
        JOIN "Credential" c ON c.id = u.c JOIN "Endpoint" en ON en.id = u.e
        -- The pairs ON CONFLICT would leave alone (seen within the hour) are left out first: ON CONFLICT locks every
        -- conflicting row even when its WHERE declines the update (a WAL record and a dirtied page per known pair per report).
        WHERE NOT EXISTS (SELECT 1 FROM "CredentialEndpointSeen" k WHERE k."credentialId" = u.c AND k."endpointId" = u.e AND k."lastSeenAt" >= ${now}::timestamptz - interval '1 hour')
        ON CONFLICT ("credentialId", "endpointId") DO UPDATE SET "lastSeenAt" = excluded."lastSeenAt"
          -- A known pair is rewritten at most hourly: the steady state is then reads, not a row version per report.
          WHERE "CredentialEndpointSeen"."lastSeenAt" < excluded."lastSeenAt" - interval '1 hour'
        RETURNING "credentialId", "endpointId", (xmax = 0) AS inserted)
      SELECT ins."credentialId", w.id AS "grantId", w.level::text AS level, en.method, en."pathTemplate" AS path
      FROM ins
      JOIN "Endpoint" en ON en.id = ins."endpointId"
      JOIN "Credential" c ON c.id = ins."credentialId"
      JOIN LATERAL (
        SELECT g.id, s.level FROM "EndpointScope" es
        JOIN "Scope" s ON s.id = es."scopeId" AND s.level IN ('write', 'admin')
        JOIN "Grant" g ON g."scopeId" = s.id AND g."principalId" = c."principalId" AND g.status = 'active'
        WHERE es."endpointId" = en.id ORDER BY s.level DESC, g.id LIMIT 1) w ON true
      WHERE ins.inserted
        AND EXISTS (SELECT 1 FROM "CredentialEndpointSeen" h WHERE h."credentialId" = ins."credentialId" AND h."firstSeenAt" <= ${now}::timestamptz - ${LEARNING}::interval)`;
    for (const f of fresh) {
      out.push({
        grantId: f.grantId,
        rule: "new_endpoint",
        evidence: { reason: `first call of ${f.method} ${f.path}, which needs a ${f.level} scope, by a credential that never called it`, endpoint: `${f.method} ${f.path}`, scopeLevel: f.level, credentialId: f.credentialId, firstCallAt: now.toISOString() },
      });
    }
  }

  // Network history, and new_network (production keys only).
  const nc: string[] = [];
  const nn: string[] = [];
  for (const s of signals) {
    for (const n of s.networks) {
      nc.push(s.credentialId);
      nn.push(n);
    }
  }
  if (nc.length > 0) {
    const [env] = await tx.$queryRaw<{ tier: string }[]>`SELECT tier::text FROM "Environment" WHERE name = ${environment}`;
    const fresh = await tx.$queryRaw<{ credentialId: string; network: string; known: string[] }[]>`
      WITH ins AS (
        INSERT INTO "CredentialNetworkSeen" ("credentialId", network, "firstSeenAt", "lastSeenAt")
        SELECT DISTINCT u.c, u.n, ${now}::timestamptz, ${now}::timestamptz
        FROM unnest(${nc}::uuid[], ${nn}::text[]) AS u(c, n) JOIN "Credential" c ON c.id = u.c
        -- As for endpoints: known networks seen within the hour are left out before ON CONFLICT would lock them.
        WHERE NOT EXISTS (SELECT 1 FROM "CredentialNetworkSeen" k WHERE k."credentialId" = u.c AND k.network = u.n AND k."lastSeenAt" >= ${now}::timestamptz - interval '1 hour')
        ON CONFLICT ("credentialId", network) DO UPDATE SET "lastSeenAt" = excluded."lastSeenAt"
          WHERE "CredentialNetworkSeen"."lastSeenAt" < excluded."lastSeenAt" - interval '1 hour'
        RETURNING "credentialId", network, (xmax = 0) AS inserted)
      SELECT ins."credentialId", ins.network,
             ARRAY(SELECT h.network FROM "CredentialNetworkSeen" h WHERE h."credentialId" = ins."credentialId" ORDER BY h."lastSeenAt" DESC LIMIT 10) AS known
      FROM ins
      WHERE ins.inserted
        AND EXISTS (SELECT 1 FROM "CredentialNetworkSeen" h WHERE h."credentialId" = ins."credentialId" AND h."firstSeenAt" <= ${now}::timestamptz - ${LEARNING}::interval)`;
    if (env?.tier === "production") {
      for (const f of fresh) {
        const grantId = grantOf.get(f.credentialId);
        if (!grantId) continue;
        out.push({
          grantId,
          rule: "new_network",
          evidence: { reason: `a production key used from ${f.network}, a network it never used before`, network: f.network, knownNetworks: f.known, credentialId: f.credentialId, firstSeenAt: now.toISOString(), firstRequests: firstRequests(f.credentialId) },
        });
      }
    }
  }

  // Minute counts, and volume_spike. Only minutes over the floor pay for the baseline's percentile.
  const mc: string[] = [];
  const mm: string[] = [];
  const mn: number[] = [];
  for (const s of signals) {
    for (const m of s.minutes) {
      mc.push(s.credentialId);
      mm.push(m.minute);
      mn.push(m.count);
    }
  }
  if (mc.length > 0) {
    const spikes = await tx.$queryRaw<{ credentialId: string; minute: Date; requests: number; p95: number; minutes: bigint }[]>`
      WITH ins AS (
        INSERT INTO "CredentialMinuteUsage" ("credentialId", minute, "requestCount")
        SELECT u.c, u.m, least(sum(u.n), 1000000000)::int
        FROM unnest(${mc}::uuid[], ${mm}::timestamptz[], ${mn}::int[]) AS u(c, m, n) JOIN "Credential" c ON c.id = u.c
        GROUP BY u.c, u.m
        ON CONFLICT ("credentialId", minute) DO UPDATE SET "requestCount" = least("CredentialMinuteUsage"."requestCount"::bigint + excluded."requestCount", 1000000000)::int
        RETURNING "credentialId", minute, "requestCount")
      SELECT i."credentialId", i.minute, i."requestCount" AS requests, b.p95, b.minutes
      FROM (SELECT * FROM ins WHERE ins."requestCount" > ${SPIKE_FLOOR}) i
      JOIN LATERAL (
        SELECT coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY h."requestCount"), 0)::float8 AS p95, count(*) AS minutes, min(h.minute) AS oldest
        FROM "CredentialMinuteUsage" h
        WHERE h."credentialId" = i."credentialId"
          AND h.minute >= ${now}::timestamptz - make_interval(days => ${BASELINE_DAYS}) AND h.minute < ${now}::timestamptz - interval '1 hour') b ON true
      WHERE b.oldest <= ${now}::timestamptz - ${LEARNING}::interval
        AND i."requestCount" > ${SPIKE_FACTOR} * b.p95`;
    for (const s of spikes) {
      const grantId = grantOf.get(s.credentialId);
      if (!grantId) continue;
      out.push({
        grantId,
        rule: "volume_spike",
        evidence: {
          reason: `${s.requests} requests in one minute, over ${SPIKE_FACTOR}× the key's 30-day p95 of ${s.p95} per busy minute (floor ${SPIKE_FLOOR})`,
          minute: s.minute.toISOString(),
          requests: s.requests,
          baselineP95PerMinute: s.p95,
          baselineMinutes: Number(s.minutes),
          threshold: Math.max(SPIKE_FLOOR, SPIKE_FACTOR * s.p95),
          credentialId: s.credentialId,
          firstRequests: firstRequests(s.credentialId),
        },
      });
    }
    // The baseline needs 30 days; older minutes go as the keys that own them report.
    await tx.$executeRaw`
      DELETE FROM "CredentialMinuteUsage"
      WHERE "credentialId" = ANY(${[...new Set(mc)]}::uuid[]) AND minute < ${now}::timestamptz - make_interval(days => ${BASELINE_DAYS})`;
  }
  return out;
}

const SUGGESTION: Record<Candidate["rule"], string> = {
  reactivated: "Confirm with the owner that this access is expected to be in use again; revoke it if nobody claims it",
  new_endpoint: "Check that this credential is meant to call this endpoint; reduce the grant if not",
  volume_spike: "Check the caller for a runaway job or a leaked key; rotate the key if the traffic is not expected",
  new_network: "Check where the key is used from; rotate it if it may have leaked",
};
const RISK: Record<string, number> = { critical: 90, high: 75, medium: 55, low: 30 };

/**
 * Opens the findings (one open per grant and rule), then for each new one: an
 * audit event, the owning team's in-app notification when it is critical
 * (e-mailed by the notification job where SMTP is configured), and the
 * `anomaly` and `finding.opened` webhook events. Returns what was opened.
 */
export async function openAnomalies(tx: Tx, candidates: Candidate[]): Promise<OpenedAnomaly[]> {
  if (candidates.length === 0) return [];
  const info = await tx.$queryRaw<{ id: string; level: string; tier: string; api: string; apiId: string; teamId: string | null; principal: string; environment: string }[]>`
    SELECT g.id, s.level::text AS level, e.tier::text AS tier, a.name AS api, a.id AS "apiId", a."teamId", p."displayName" AS principal, e.name AS environment
    FROM "Grant" g JOIN "Scope" s ON s.id = g."scopeId" JOIN "Api" a ON a.id = s."apiId"
    JOIN "Environment" e ON e.id = g."environmentId" JOIN "Principal" p ON p.id = g."principalId"
    WHERE g.id = ANY(${[...new Set(candidates.map((c) => c.grantId))]}::uuid[])`;
  const byGrant = new Map(info.map((i) => [i.id, i]));
  const rows = candidates.filter((c) => byGrant.has(c.grantId)).map((c) => ({ ...c, severity: severityOf(c.rule, byGrant.get(c.grantId)!) }));
  if (rows.length === 0) return [];
  const opened = await tx.$queryRaw<OpenedAnomaly[]>`
    INSERT INTO "Finding" (id, "grantId", rule, severity, "riskScore", evidence, suggestion)
    SELECT gen_random_uuid(), x.g, x.r::"FindingRule", x.s::"Severity", x.k, x.e::jsonb, x.m
    FROM unnest(${rows.map((r) => r.grantId)}::uuid[], ${rows.map((r) => r.rule)}::text[], ${rows.map((r) => r.severity)}::text[],
                ${rows.map((r) => RISK[r.severity])}::int[], ${rows.map((r) => JSON.stringify(r.evidence))}::text[], ${rows.map((r) => SUGGESTION[r.rule])}::text[]) AS x(g, r, s, k, e, m)
    ON CONFLICT ("grantId", rule) WHERE status = 'open' DO NOTHING
    RETURNING id, "grantId", rule::text AS rule, severity::text AS severity`;
  if (opened.length === 0) return [];
  await appendAuditEvent(tx, {
    actor: systemActor("anomaly-rules"),
    action: "finding.anomaly_opened",
    target: `findings:${opened.length}`,
    data: { findings: opened.map((o) => ({ id: o.id, rule: o.rule, severity: o.severity, grantId: o.grantId })) },
  });
  for (const o of opened) {
    const g = byGrant.get(o.grantId)!;
    const evidence = rows.find((r) => r.grantId === o.grantId && r.rule === o.rule)!.evidence;
    const summary = `${o.severity} ${o.rule.replace("_", " ")}: ${g.principal} on ${g.api} (${g.environment}) — ${String(evidence.reason)}`;
    const data = { findingId: o.id, rule: o.rule, severity: o.severity, grantId: o.grantId, principal: g.principal, api: g.api, environment: g.environment, evidence, link: `/queues?rule=${o.rule}` };
    await enqueueWebhookEvent(tx, "anomaly", o.id, summary, data);
    await enqueueWebhookEvent(tx, "finding.opened", o.id, summary, data);
    if (o.severity === "critical" && g.teamId) {
      const users = await tx.user.findMany({ where: { principal: { teamId: g.teamId } }, select: { id: true } });
      await createNotifications(tx, users.map((u) => ({ userId: u.id, kind: "anomaly.critical", message: summary.slice(0, 500), link: `/queues?rule=${o.rule}`, dedupeKey: `anomaly:${o.id}:${u.id}` })));
    }
  }
  return opened;
}

/** Admin scopes and production raise the severity; a spike or a new network is about the key, so one step lower. */
function severityOf(rule: Candidate["rule"], g: { level: string; tier: string }): "critical" | "high" | "medium" | "low" {
  const prod = g.tier === "production";
  const steps = (g.level === "admin" ? 2 : g.level === "write" ? 1 : 0) + (prod ? 1 : 0) - (rule === "volume_spike" || rule === "new_network" ? 1 : 0);
  return steps >= 3 ? "critical" : steps === 2 ? "high" : steps === 1 ? "medium" : "low";
}
