import { authorize, type Actor } from "@/lib/auth/actor";
import { loadTwoPersonRule, requiresSecondReviewer } from "@/lib/auth/sod";
import { db, type PrismaClient } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { dormancyDaysFor, loadSettings } from "@/lib/settings";
import { decisionStates, type DecisionState } from "./queue";
import { defaultReduce } from "./reduce-plan";
import { confirmStance, findingStance } from "./stance";

const DAY = 86_400_000;

export interface FindingDetail {
  id: string;
  rule: string;
  severity: string;
  riskScore: number;
  status: string;
  suggestion: string;
  evidence: Record<string, unknown>;
  openedAt: Date;
  reReviewAt: Date | null;
  assignee: { id: string; name: string } | null;
  grant: {
    id: string;
    status: string;
    grantedAt: Date;
    grantedBy: string | null;
    lastUsedAt: Date | null;
    expiresAt: Date | null;
    principal: { id: string; name: string; kind: string; status: string };
    scope: { id: string; name: string; level: string };
    api: { id: string; name: string };
    environment: { id: string; name: string; tier: string };
  };
  /** The principal's active scopes on this API: what was granted vs. what was used in the window. */
  scopesOnApi: {
    scopeId: string;
    name: string;
    level: string;
    lastUsedAt: Date | null;
    usedInWindow: boolean;
    /** Scopes some endpoint requires together with this one (an AND set): reduce keeps or drops such a set whole. */
    requiredWith: string[];
  }[];
  windowDays: number;
  /** Requests per day for the last 90 days, zero-filled, oldest first. */
  usage: { day: string; requests: number }[];
  needsSecondReviewer: boolean;
  /** What the person asking may do with this finding, and if nothing, why (lib/review/stance.ts). */
  viewer: { canDecide: boolean; reason: string | null };
  /** The default reduce (keep the scopes used in the window); `offered` is false when it would remove nothing. */
  reduce: { offered: boolean; keepScopeIds: string[]; removes: number };
  decisions: (DecisionState & {
    decider: string;
    confirmer: string | null;
    justification: string | null;
    createdAt: Date;
    /** Two-person rule: this person may confirm the proposal. */
    mayConfirm: boolean;
    /** Two-person rule: what this person is told instead of a Confirm button (the proposer waits for someone else). */
    waiting: string | null;
  })[];
}

export async function getFindingDetail(actor: Actor, findingId: string, client: PrismaClient = db(), now = new Date()): Promise<FindingDetail> {
  authorize(actor, "findings:read");
  if (!/^[0-9a-f-]{36}$/i.test(findingId)) throw notFound("Finding");
  const f = await client.finding.findUnique({
    where: { id: findingId },
    include: {
      assignee: { select: { id: true, name: true } },
      grant: {
        include: {
          principal: { select: { id: true, displayName: true, kind: true, status: true, managerId: true } },
          grantedBy: { select: { displayName: true } },
          scope: { include: { api: { select: { id: true, name: true } } } },
          environment: true,
        },
      },
      decisions: { orderBy: { createdAt: "desc" }, include: { decider: { select: { name: true } }, confirmer: { select: { name: true } } } },
    },
  });
  if (!f) throw notFound("Finding");
  const g = f.grant;
  const settings = await loadSettings(client);
  const windowDays = dormancyDaysFor(settings, g.environmentId);
  const windowStart = now.getTime() - windowDays * DAY;
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 89 * DAY);
  const [siblings, usageRows, states, rule] = await Promise.all([
    client.grant.findMany({
      where: { principalId: g.principalId, environmentId: g.environmentId, status: "active", scope: { apiId: g.scope.apiId } },
      select: { scopeId: true, lastUsedAt: true, scope: { select: { name: true, level: true } } },
      orderBy: { scope: { name: "asc" } },
    }),
    client.grantUsageDaily.findMany({ where: { grantId: g.id, day: { gte: from } }, select: { day: true, requestCount: true } }),
    decisionStates(actor, f.decisions.map((d) => d.id), client),
    loadTwoPersonRule(client),
  ]);
  const partners = await client.$queryRaw<{ scopeId: string; names: string[] }[]>`
    SELECT es."scopeId"::text AS "scopeId", array_agg(DISTINCT s2.name ORDER BY s2.name) AS names
    FROM "EndpointScope" es
    JOIN "EndpointScope" es2 ON es2."endpointId" = es."endpointId" AND es2."requirementId" = es."requirementId" AND es2."scopeId" <> es."scopeId"
    JOIN "Scope" s2 ON s2.id = es2."scopeId"
    WHERE es."scopeId" = ANY(${siblings.map((x) => x.scopeId)}::uuid[])
    GROUP BY es."scopeId"`;
  const partnersOf = new Map(partners.map((p) => [p.scopeId, p.names]));
  const byDay = new Map(usageRows.map((u) => [u.day.toISOString().slice(0, 10), Number(u.requestCount)]));
  const usage = Array.from({ length: 90 }, (_, i) => {
    const day = new Date(from.getTime() + i * DAY).toISOString().slice(0, 10);
    return { day, requests: byDay.get(day) ?? 0 };
  });
  const stateById = new Map(states.map((s) => [s.decisionId, s]));
  const holder = { id: g.principal.id, kind: g.principal.kind, managerId: g.principal.managerId };
  const scopesOnApi = siblings.map((s) => ({
    scopeId: s.scopeId,
    name: s.scope.name,
    level: s.scope.level,
    lastUsedAt: s.lastUsedAt,
    usedInWindow: Boolean(s.lastUsedAt && s.lastUsedAt.getTime() >= windowStart),
    requiredWith: partnersOf.get(s.scopeId) ?? [],
  }));
  return {
    id: f.id,
    rule: f.rule,
    severity: f.severity,
    riskScore: f.riskScore,
    status: f.status,
    suggestion: f.suggestion,
    evidence: (f.evidence ?? {}) as Record<string, unknown>,
    openedAt: f.openedAt,
    reReviewAt: f.reReviewAt,
    assignee: f.assignee,
    grant: {
      id: g.id,
      status: g.status,
      grantedAt: g.grantedAt,
      grantedBy: g.grantedBy?.displayName ?? null,
      lastUsedAt: g.lastUsedAt,
      expiresAt: g.expiresAt,
      principal: { id: g.principal.id, name: g.principal.displayName, kind: g.principal.kind, status: g.principal.status },
      scope: { id: g.scope.id, name: g.scope.name, level: g.scope.level },
      api: g.scope.api,
      environment: { id: g.environment.id, name: g.environment.name, tier: g.environment.tier },
    },
    scopesOnApi,
    windowDays,
    usage,
    needsSecondReviewer: requiresSecondReviewer({ scope: g.scope, environment: g.environment }, rule),
    viewer: findingStance(actor, holder),
    reduce: defaultReduce(scopesOnApi),
    decisions: f.decisions.map((d) => ({
      ...stateById.get(d.id)!,
      decider: d.decider.name,
      confirmer: d.confirmer?.name ?? null,
      justification: d.justification,
      createdAt: d.createdAt,
      ...confirmStance(actor, holder, d),
    })),
  };
}
