import { systemActor } from "@/lib/auth/actor";
import { enqueueWebhookEvent } from "@/lib/webhooks/events";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { appendAuditEvent } from "@/lib/audit";
import { env } from "@/lib/config/env";
import type { PrismaClient } from "@/lib/db";
import { Prisma } from "@/lib/db";
import { createNotifications, type NewNotification } from "@/lib/notifications";
import { deliverPendingEmails, smtpConfig, type SmtpConfig } from "@/lib/notifications/email";
import { applyClosePolicy } from "./close";
import { CERTIFIER_ROLES, DAY_MS } from "./common";
import { createCampaign } from "./create";
import { launchCampaign } from "./launch";
import { SOD_ELIGIBLE } from "./reviewers";

/**
 * The campaign schedules. Each is an idempotent function of `now`: running it
 * twice, or late, does what running it once on time would have done, so tests
 * drive them with a controllable clock and pg-boss may retry them freely.
 */
const jobActor = systemActor("campaign-jobs");

/** Days before the due date at which reviewers are reminded; then daily while overdue. */
export const REMINDER_DAYS = [7, 3, 1] as const;
/** An item still undecided this long after the due date escalates. */
export const ESCALATE_AFTER_MS = DAY_MS;

/** The reminder stage a moment falls into, or null before the first one. */
export function reminderStage(dueAt: Date, now: Date): string | null {
  const left = dueAt.getTime() - now.getTime();
  if (left <= 0) return `overdue-${Math.floor(-left / DAY_MS) + 1}`;
  const days = [...REMINDER_DAYS].sort((a, b) => a - b).find((d) => left <= d * DAY_MS);
  return days === undefined ? null : `${days}d`;
}

export async function sendReminders(client: PrismaClient, now: Date): Promise<number> {
  const rows = await client.$queryRaw<{ campaignId: string; name: string; dueAt: Date; userId: string; n: number }[]>`
    SELECT c.id AS "campaignId", c.name, c."dueAt", r."userId", count(*)::int AS n
    FROM "Campaign" c
    JOIN "CampaignItem" ci ON ci."campaignId" = c.id AND ci.decision IS NULL
    JOIN "CampaignItemReviewer" r ON r."itemId" = ci.id
    WHERE c.status = 'active'
    GROUP BY c.id, r."userId"`;
  const notes: NewNotification[] = [];
  for (const r of rows) {
    const stage = reminderStage(r.dueAt, now);
    if (!stage) continue;
    const due = r.dueAt.toISOString().slice(0, 10);
    const overdue = stage.startsWith("overdue");
    notes.push({
      userId: r.userId,
      kind: overdue ? "campaign.overdue" : "campaign.reminder",
      message: overdue
        ? `Overdue: ${r.n} item(s) still to certify in "${r.name}" (was due ${due})`
        : `Reminder: ${r.n} item(s) to certify in "${r.name}", due ${due}`,
      link: `/certifications?campaign=${r.campaignId}`,
      dedupeKey: `reminder:${r.campaignId}:${r.userId}:${stage}`,
      createdAt: now,
    });
  }
  // One campaign.overdue webhook event per campaign and overdue day (idempotent per webhook, like the notifications).
  const overdue = new Map<string, { name: string; dueAt: Date; stage: string; items: number }>();
  for (const r of rows) {
    const stage = reminderStage(r.dueAt, now);
    if (stage?.startsWith("overdue")) {
      const o = overdue.get(r.campaignId) ?? { name: r.name, dueAt: r.dueAt, stage, items: 0 };
      o.items += r.n;
      overdue.set(r.campaignId, o);
    }
  }
  const created = await client.$transaction(async (tx) => {
    const n = await createNotifications(tx, notes);
    for (const [campaignId, o] of overdue) {
      await enqueueWebhookEvent(tx, "campaign.overdue", `${campaignId}:${o.stage}`, `Campaign "${o.name}" is overdue (was due ${o.dueAt.toISOString().slice(0, 10)})`, {
        campaignId,
        name: o.name,
        dueAt: o.dueAt.toISOString(),
        undecidedAssignments: o.items,
      });
    }
    return n;
  });
  if (overdue.size > 0) wakeDelivery();
  return created;
}

/**
 * Items still undecided a day after the due date escalate once: the
 * reviewer's manager (if they may certify the item) or else the campaign owner
 * joins the item's list and is notified.
 */
export async function escalateOverdue(client: PrismaClient, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - ESCALATE_AFTER_MS);
  const targets = await client.$queryRawUnsafe<{ itemId: string; campaignId: string; name: string; userId: string }[]>(
    `SELECT DISTINCT ON (ci.id) ci.id AS "itemId", c.id AS "campaignId", c.name, coalesce(m."userId", c."ownerId") AS "userId"
     FROM "CampaignItem" ci
     JOIN "Campaign" c ON c.id = ci."campaignId"
     LEFT JOIN LATERAL (
       SELECT u.id AS "userId" FROM "CampaignItemReviewer" r
       JOIN "User" rv ON rv.id = r."userId"
       JOIN "Principal" rp ON rp.id = rv."principalId"
       JOIN "User" u ON u."principalId" = rp."managerId"
       WHERE r."itemId" = ci.id AND u.id <> r."userId" AND u.roles && $2::text[] AND ${SOD_ELIGIBLE}
       ORDER BY u.id LIMIT 1
     ) m ON true
     WHERE c.status = 'active' AND c."dueAt" <= $1::timestamptz AND ci.decision IS NULL AND ci."escalatedAt" IS NULL
     ORDER BY ci.id
     LIMIT 5000`,
    cutoff.toISOString(),
    CERTIFIER_ROLES,
  );
  if (targets.length === 0) return 0;
  await client.$transaction(async (tx) => {
    await tx.campaignItemReviewer.createMany({
      data: targets.map((t) => ({ itemId: t.itemId, userId: t.userId, source: "escalated" as const, assignedAt: now })),
      skipDuplicates: true,
    });
    for (const t of targets) {
      await tx.campaignItem.updateMany({ where: { id: t.itemId, escalatedAt: null }, data: { escalatedAt: now, escalatedToId: t.userId } });
    }
    const groups = new Map<string, { campaignId: string; name: string; userId: string; itemIds: string[] }>();
    for (const t of targets) {
      const key = `${t.campaignId}:${t.userId}`;
      const g = groups.get(key) ?? { campaignId: t.campaignId, name: t.name, userId: t.userId, itemIds: [] };
      g.itemIds.push(t.itemId);
      groups.set(key, g);
    }
    const day = now.toISOString().slice(0, 10);
    await createNotifications(
      tx,
      [...groups.values()].map((g) => ({
        userId: g.userId,
        kind: "campaign.escalated",
        message: `Escalated to you: ${g.itemIds.length} overdue item(s) in "${g.name}"`,
        link: `/certifications?campaign=${g.campaignId}`,
        dedupeKey: `escalation:${g.campaignId}:${g.userId}:${day}`,
        createdAt: now,
      })),
    );
    for (const g of groups.values()) {
      await appendAuditEvent(tx, { actor: jobActor, action: "campaign.escalate", target: `campaign:${g.campaignId}`, data: { to: g.userId, itemIds: g.itemIds } });
    }
  });
  return targets.length;
}

/**
 * Past the due date: a campaign with a fallback reviewer re-issues its
 * unanswered items to them for `fallbackDays`; after that (or without one)
 * the close policy applies and the campaign freezes.
 */
export async function advanceDueCampaigns(client: PrismaClient, now: Date): Promise<{ fallback: string[]; closed: string[] }> {
  const out = { fallback: [] as string[], closed: [] as string[] };
  const due = await client.campaign.findMany({
    where: { OR: [{ status: "active", dueAt: { lte: now } }, { status: "fallback" }] },
    select: { id: true, name: true, status: true, fallbackReviewerId: true, fallbackDays: true, fallbackStartedAt: true },
  });
  for (const c of due) {
    if (c.status === "fallback") {
      if (c.fallbackStartedAt && c.fallbackStartedAt.getTime() + c.fallbackDays * DAY_MS <= now.getTime()) {
        await applyClosePolicy(client, c.id, now);
        out.closed.push(c.id);
      }
      continue;
    }
    const pending = await client.campaignItem.count({ where: { campaignId: c.id, decision: null } });
    if (pending > 0 && c.fallbackReviewerId && c.fallbackDays > 0) {
      await startFallbackRound(client, c.id, c.name, c.fallbackReviewerId, now);
      out.fallback.push(c.id);
    } else {
      await applyClosePolicy(client, c.id, now);
      out.closed.push(c.id);
    }
  }
  return out;
}

async function startFallbackRound(client: PrismaClient, campaignId: string, name: string, fallbackUserId: string, now: Date) {
  await client.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ status: string }[]>`SELECT status::text FROM "Campaign" WHERE id = ${campaignId}::uuid FOR UPDATE`;
    if (row.status !== "active") return;
    const added = await tx.$executeRawUnsafe(
      `INSERT INTO "CampaignItemReviewer" ("itemId", "userId", source, "assignedAt")
       SELECT ci.id, u.id, 'fallback_round', $3::timestamptz FROM "CampaignItem" ci JOIN "User" u ON u.id = $2::uuid
       WHERE ci."campaignId" = $1::uuid AND ci.decision IS NULL AND ${SOD_ELIGIBLE}
       ON CONFLICT DO NOTHING`,
      campaignId,
      fallbackUserId,
      now.toISOString(),
    );
    await tx.campaign.update({ where: { id: campaignId }, data: { status: "fallback", fallbackStartedAt: now } });
    await createNotifications(tx, [
      {
        userId: fallbackUserId,
        kind: "campaign.fallback",
        message: `Fallback round: ${added} unanswered item(s) of "${name}" were re-issued to you`,
        link: `/certifications?campaign=${campaignId}`,
        dedupeKey: `fallback:${campaignId}`,
        createdAt: now,
      },
    ]);
    await appendAuditEvent(tx, { actor: jobActor, action: "campaign.fallback_round", target: `campaign:${campaignId}`, data: { to: fallbackUserId, items: added } });
  });
}

/** "2026-Q4" → its first instant (UTC). */
export function quarterStart(period: string): Date {
  const m = /^(\d{4})-Q([1-4])$/.exec(period);
  if (!m) throw new Error(`not a quarter: ${period}`);
  return new Date(Date.UTC(Number(m[1]), (Number(m[2]) - 1) * 3, 1));
}

export function nextQuarter(period: string): string {
  const start = quarterStart(period);
  const next = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 3, 1));
  return `${next.getUTCFullYear()}-Q${next.getUTCMonth() / 3 + 1}`;
}

/**
 * Quarterly campaigns: once the next quarter has begun, the latest campaign of
 * each series is copied for it (same scope, rule and policy; due date at the
 * same offset into the quarter) and launched. One campaign per series and
 * period (a unique index), so a repeated run creates nothing.
 */
export async function launchRecurring(client: PrismaClient, now: Date): Promise<string[]> {
  const latest = await client.$queryRaw<{ id: string }[]>`
    SELECT DISTINCT ON ("seriesId") id FROM "Campaign"
    WHERE recurrence = 'quarterly' AND "seriesId" IS NOT NULL AND status <> 'draft'
    ORDER BY "seriesId", period DESC`;
  const launched: string[] = [];
  for (const { id } of latest) {
    const prev = await client.campaign.findUniqueOrThrow({ where: { id } });
    const period = nextQuarter(prev.period);
    const start = quarterStart(period);
    if (now.getTime() < start.getTime()) continue;
    const offset = prev.dueAt.getTime() - quarterStart(prev.period).getTime();
    const scope = prev.scope as { apiIds?: string[]; environmentIds?: string[]; teamIds?: string[] };
    let created;
    try {
      created = await createCampaign(
        jobActor,
        {
          name: prev.name.includes(prev.period) ? prev.name.replace(prev.period, period) : `${prev.name} (${period})`,
          period,
          apiIds: scope.apiIds ?? [],
          environmentIds: scope.environmentIds ?? [],
          teamIds: scope.teamIds ?? [],
          dueAt: new Date(Math.max(start.getTime() + offset, now.getTime() + DAY_MS)),
          reviewerRule: prev.reviewerRule,
          namedReviewerIds: prev.namedReviewerIds,
          closePolicy: prev.closePolicy,
          fallbackReviewerId: prev.fallbackReviewerId,
          fallbackDays: prev.fallbackDays,
          recurrence: "quarterly",
        },
        client,
        { now, ownerId: prev.ownerId, seriesId: prev.seriesId! },
      );
    } catch (e) {
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") continue; // another run created it
      throw e;
    }
    await launchCampaign(jobActor, { campaignId: created.id }, client, now);
    launched.push(created.id);
  }
  return launched;
}

export interface CampaignJobsSummary {
  launched: string[];
  reminders: number;
  escalated: number;
  fallback: string[];
  closed: string[];
  emailed: number;
}

/** One pass of every campaign schedule, in dependency order. */
export async function runCampaignJobs(client: PrismaClient, now: Date = new Date(), opts: { smtp?: SmtpConfig | null } = {}): Promise<CampaignJobsSummary> {
  const launched = await launchRecurring(client, now);
  const reminders = await sendReminders(client, now);
  const escalated = await escalateOverdue(client, now);
  const { fallback, closed } = await advanceDueCampaigns(client, now);
  const { sent: emailed } = await deliverPendingEmails(client, now, opts.smtp === undefined ? smtpConfig() : opts.smtp);
  return { launched, reminders, escalated, fallback, closed, emailed };
}

/** pg-boss registration, called from lib/enforcement/background.ts. Every 15 minutes (UTC cron). */
export const CAMPAIGN_QUEUE = "campaign-jobs";
export async function registerCampaignJobs(boss: { createQueue(n: string): Promise<unknown>; schedule(n: string, cron: string): Promise<unknown>; work(n: string, fn: () => Promise<void>): Promise<unknown> }, client: PrismaClient): Promise<void> {
  await boss.createQueue(CAMPAIGN_QUEUE);
  await boss.schedule(CAMPAIGN_QUEUE, env().TOLLGATE_CAMPAIGN_CRON);
  await boss.work(CAMPAIGN_QUEUE, async () => {
    await runCampaignJobs(client, new Date());
  });
}
