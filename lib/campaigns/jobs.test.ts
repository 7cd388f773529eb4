import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SMTPServer } from "smtp-server";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { AppError } from "@/lib/errors";
import { deliverPendingEmails } from "@/lib/notifications/email";
import { freePort } from "@/test/support/db";
import { useTestDatabase } from "@/test/support/use-test-database";
import { certifyItem } from "./certify";
import { createCampaign } from "./create";
import { advanceDueCampaigns, escalateOverdue, launchRecurring, nextQuarter, reminderStage, runCampaignJobs, sendReminders } from "./jobs";
import { launchCampaign } from "./launch";

// The schedules with a controllable clock: every job takes `now`, so a test
// walks a campaign through its reminders, escalation, fallback round and
// close by passing later and later instants — never by waiting.
const ctx = useTestDatabase(4);
const DAY = 86_400_000;
const at = (base: Date, days: number, hours = 0) => new Date(base.getTime() + days * DAY + hours * 3_600_000);

let smtp: SMTPServer;
let smtpPort = 0;
const received: { to: string[]; body: string }[] = [];

beforeAll(async () => {
  smtpPort = await freePort();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      let body = "";
      stream.on("data", (c: Buffer) => (body += c.toString()));
      stream.on("end", () => {
        // Undo quoted-printable soft line breaks and escapes, so the assertion reads the text as sent.
        const text = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), body: text });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(smtpPort, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

async function setup(o: { fallback?: boolean; policy?: "revoke" | "keep_and_flag"; recurrence?: "none" | "quarterly"; period?: string; dueAt?: Date; launchAt?: Date } = {}) {
  const c = ctx.client;
  const env = await makeEnvironment(c, "production");
  await c.proxy.create({ data: { name: `px-${env.id.slice(0, 8)}`, adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(20), environmentId: env.id } });
  const team = await c.team.create({ data: { name: `t-${env.id.slice(0, 8)}` } });
  const { scopes } = await makeApi(c, env.id, ["read", "write"], { teamId: team.id });
  // Director → manager (reviewer of the reports) → two reports.
  const directorP = await makePrincipal(c, { teamId: team.id, name: "Director" });
  const director = await makeReviewer(c, ["manager"], directorP.id);
  const mgrP = await c.principal.update({ where: { id: (await makePrincipal(c, { teamId: team.id, name: "Mgr" })).id }, data: { managerId: directorP.id } });
  const manager = await makeReviewer(c, ["manager"], mgrP.id);
  const admin = await makeReviewer(c, ["admin"]);
  const fallback = await makeReviewer(c, ["reviewer"]);
  const reports = [];
  for (const name of ["A", "B", "C"]) {
    const p = await c.principal.update({ where: { id: (await makePrincipal(c, { teamId: team.id, name })).id }, data: { managerId: mgrP.id } });
    reports.push(await makeGrant(c, { principalId: p.id, scopeId: scopes.read.id, environmentId: env.id, lastUsedAt: daysAgo(2) }));
  }
  const launchAt = o.launchAt ?? new Date();
  const dueAt = o.dueAt ?? at(launchAt, 10);
  const created = await createCampaign(
    admin.actor,
    {
      name: `Team access ${o.period ?? "2026-Q4"}`,
      period: o.period ?? "2026-Q4",
      teamIds: [team.id],
      dueAt: dueAt.toISOString(),
      reviewerRule: "manager",
      closePolicy: o.policy ?? "revoke",
      fallbackReviewerId: o.fallback ? fallback.user.id : null,
      fallbackDays: 2,
      recurrence: o.recurrence ?? "none",
    },
    c,
    { now: launchAt },
  );
  await launchCampaign(admin.actor, { campaignId: created.id }, c, launchAt);
  const items = await c.campaignItem.findMany({ where: { campaignId: created.id }, orderBy: { id: "asc" } });
  return { campaignId: created.id, dueAt, launchAt, director, manager, admin, fallback, items, team };
}

const notes = (userId: string, kind?: string) => ctx.client.notification.findMany({ where: { userId, ...(kind ? { kind } : {}) }, orderBy: { createdAt: "asc" } });

describe("reminders", () => {
  test("stages: 7, 3 and 1 days before the due date, then daily while overdue", () => {
    const due = new Date("2026-12-20T12:00:00Z");
    expect(reminderStage(due, at(due, -8))).toBeNull();
    expect(reminderStage(due, at(due, -6))).toBe("7d");
    expect(reminderStage(due, at(due, -2, -12))).toBe("3d");
    expect(reminderStage(due, at(due, 0, -5))).toBe("1d");
    expect(reminderStage(due, at(due, 0, 1))).toBe("overdue-1");
    expect(reminderStage(due, at(due, 1, 1))).toBe("overdue-2");
  });

  test("each stage notifies each reviewer once, however often the job runs; nothing once the list is done", async () => {
    const s = await setup();
    const reminders = async () => (await notes(s.manager.user.id)).filter((n) => n.kind !== "campaign.assigned").map((n) => n.message.split(":")[0]);
    await sendReminders(ctx.client, at(s.dueAt, -8));
    expect(await reminders()).toEqual([]);
    await sendReminders(ctx.client, at(s.dueAt, -6));
    await sendReminders(ctx.client, at(s.dueAt, -5));
    expect(await reminders()).toEqual(["Reminder"]);
    await sendReminders(ctx.client, at(s.dueAt, -2));
    await sendReminders(ctx.client, at(s.dueAt, -0.5));
    await sendReminders(ctx.client, at(s.dueAt, 0, 2));
    await sendReminders(ctx.client, at(s.dueAt, 0, 3));
    expect(await reminders()).toEqual(["Reminder", "Reminder", "Reminder", "Overdue"]);
    const keys = (await notes(s.manager.user.id)).map((n) => n.dedupeKey?.split(":").pop());
    expect(keys).toEqual(["undefined", "7d", "3d", "1d", "overdue-1"].map((k) => (k === "undefined" ? s.manager.user.id : k)));
    for (const i of s.items) await certifyItem(s.manager.actor, { itemId: i.id, decision: "keep", justification: "Still on the team" }, ctx.client);
    await sendReminders(ctx.client, at(s.dueAt, 1, 3));
    expect(await reminders()).toHaveLength(4);
  });
});

describe("campaign.overdue webhook", () => {
  test("an overdue campaign queues one signed webhook delivery per overdue day, however often the job runs", async () => {
    const s = await setup({ period: "2026-H2" });
    const hook = await ctx.client.webhookEndpoint.create({ data: { name: `wh-${s.campaignId.slice(0, 8)}`, url: "http://127.0.0.1:1/hook", secret: "whsec_test", events: ["campaign.overdue"], createdBy: "test" } });
    const rows = () => ctx.client.outboxItem.findMany({ where: { webhookId: hook.id }, orderBy: { id: "asc" } });
    await sendReminders(ctx.client, at(s.dueAt, -2));
    expect(await rows()).toEqual([]);
    await sendReminders(ctx.client, at(s.dueAt, 0, 2));
    await sendReminders(ctx.client, at(s.dueAt, 0, 3));
    await sendReminders(ctx.client, at(s.dueAt, 1, 2));
    const r = await rows();
    expect(r.map((x) => x.idempotencyKey)).toEqual([`campaign.overdue:${s.campaignId}:overdue-1`, `campaign.overdue:${s.campaignId}:overdue-2`]);
    expect(r[0].payload).toMatchObject({ type: "campaign.overdue", data: { campaignId: s.campaignId, undecidedAssignments: 3 } });
    // Out of the way of the escalation tests below, which count every overdue item.
    await ctx.client.webhookEndpoint.delete({ where: { id: hook.id } });
    await ctx.client.campaign.update({ where: { id: s.campaignId }, data: { status: "closed", closedAt: new Date() } });
  });
});

describe("escalation, fallback round and close policy", () => {
  test("a day overdue, items escalate once to the reviewer's manager, who can then decide them", async () => {
    const s = await setup();
    expect(await escalateOverdue(ctx.client, at(s.dueAt, 0, 12))).toBe(0);
    expect(await escalateOverdue(ctx.client, at(s.dueAt, 1, 1))).toBe(3);
    expect(await escalateOverdue(ctx.client, at(s.dueAt, 2, 1))).toBe(0);
    const items = await ctx.client.campaignItem.findMany({ where: { campaignId: s.campaignId }, include: { reviewers: true } });
    for (const i of items) {
      expect(i.escalatedToId).toBe(s.director.user.id);
      expect(i.reviewers.map((r) => [r.userId, r.source]).sort()).toEqual([[s.director.user.id, "escalated"], [s.manager.user.id, "manager"]].sort());
    }
    expect((await notes(s.director.user.id, "campaign.escalated"))[0].message).toContain("3 overdue item(s)");
    await certifyItem(s.director.actor, { itemId: items[0].id, decision: "revoke", justification: "No answer from the manager" }, ctx.client);
  });

  test("at the due date unanswered items go to the fallback reviewer; after the extra round the revoke policy applies and the campaign freezes", async () => {
    const s = await setup({ fallback: true });
    await certifyItem(s.manager.actor, { itemId: s.items[0].id, decision: "keep", justification: "Still on the team" }, ctx.client);
    expect(await advanceDueCampaigns(ctx.client, at(s.dueAt, -1))).toEqual({ fallback: [], closed: [] });
    expect((await advanceDueCampaigns(ctx.client, at(s.dueAt, 0, 1))).fallback).toEqual([s.campaignId]);
    const c1 = await ctx.client.campaign.findUniqueOrThrow({ where: { id: s.campaignId } });
    expect(c1.status).toBe("fallback");
    const fb = await ctx.client.campaignItemReviewer.findMany({ where: { userId: s.fallback.user.id } });
    expect(fb.map((r) => r.itemId).sort()).toEqual([s.items[1].id, s.items[2].id].sort());
    expect((await notes(s.fallback.user.id, "campaign.fallback"))).toHaveLength(1);
    // The fallback reviewer answers one during the extra round; the other stays unanswered.
    await certifyItem(s.fallback.actor, { itemId: s.items[1].id, decision: "keep", justification: "Confirmed with the director" }, ctx.client);
    expect((await advanceDueCampaigns(ctx.client, at(s.dueAt, 1))).closed).toEqual([]);
    expect((await advanceDueCampaigns(ctx.client, at(s.dueAt, 2, 1))).closed).toEqual([s.campaignId]);
    const c2 = await ctx.client.campaign.findUniqueOrThrow({ where: { id: s.campaignId } });
    expect(c2.status).toBe("closed");
    const last = await ctx.client.campaignItem.findUniqueOrThrow({ where: { id: s.items[2].id }, include: { decisions: { include: { outbox: true } } } });
    expect(last).toMatchObject({ decision: "revoke", closedByPolicy: true, decidedById: s.admin.user.id });
    expect(last.decisions[0]).toMatchObject({ kind: "revoke", enforcement: "pending" });
    expect(last.decisions[0].outbox).toHaveLength(1);
    expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: last.grantId } })).status).toBe("revoked");
    expect(await ctx.client.auditEvent.count({ where: { action: "campaign.close", target: `campaign:${s.campaignId}` } })).toBe(1);
    // Frozen: a late decision is refused, a second run changes nothing.
    const late = await certifyItem(s.manager.actor, { itemId: s.items[2].id, decision: "keep", justification: "Sorry, I was away" }, ctx.client).catch((e: unknown) => e);
    expect((late as AppError).code).toBe("conflict");
    expect(await advanceDueCampaigns(ctx.client, at(s.dueAt, 5))).toEqual({ fallback: [], closed: [] });
  });

  test("keep-and-flag keeps the grants, flags the items, and needs no enforcement", async () => {
    const s = await setup({ policy: "keep_and_flag" });
    await advanceDueCampaigns(ctx.client, at(s.dueAt, 0, 1));
    const items = await ctx.client.campaignItem.findMany({ where: { campaignId: s.campaignId }, include: { decisions: true } });
    for (const i of items) {
      expect(i).toMatchObject({ decision: "keep", flagged: true, closedByPolicy: true });
      expect(i.decisions[0]).toMatchObject({ kind: "approve", enforcement: "not_required" });
      expect((await ctx.client.grant.findUniqueOrThrow({ where: { id: i.grantId } })).status).toBe("active");
    }
  });
});

describe("recurring campaigns", () => {
  test("a quarterly campaign is copied and launched once the next quarter begins, once", async () => {
    expect(nextQuarter("2026-Q4")).toBe("2027-Q1");
    const launchAt = new Date("2026-10-05T09:00:00Z");
    const s = await setup({ recurrence: "quarterly", period: "2026-Q4", launchAt, dueAt: new Date("2026-11-15T17:00:00Z") });
    expect(await launchRecurring(ctx.client, new Date("2026-12-31T23:00:00Z"))).toEqual([]);
    const jan = new Date("2027-01-02T06:00:00Z");
    const [id] = await launchRecurring(ctx.client, jan);
    const next = await ctx.client.campaign.findUniqueOrThrow({ where: { id } });
    expect(next).toMatchObject({ period: "2027-Q1", status: "active", seriesId: s.campaignId, name: "Team access 2027-Q1", snapshotCount: 3 });
    // Same offset into the quarter: 45 days and 17 hours.
    expect(next.dueAt.toISOString()).toBe("2027-02-15T17:00:00.000Z");
    expect(await launchRecurring(ctx.client, new Date("2027-01-02T06:15:00Z"))).toEqual([]);
  });
});

describe("email", () => {
  test("notifications are emailed once through a real SMTP server", async () => {
    const s = await setup();
    await sendReminders(ctx.client, at(s.dueAt, -6));
    const cfg = { url: `smtp://127.0.0.1:${smtpPort}`, from: "tollgate@example.test" };
    const now = new Date();
    const first = await deliverPendingEmails(ctx.client, now, cfg, "https://tollgate.example.test");
    expect(first.failed).toBe(0);
    expect(first.sent).toBeGreaterThanOrEqual(2);
    const mine = received.filter((m) => m.to.includes(s.manager.user.email));
    expect(mine.length).toBe(2);
    expect(mine.some((m) => m.body.includes("Reminder: 3 item(s) to certify") && m.body.includes(`https://tollgate.example.test/certifications?campaign=${s.campaignId}`))).toBe(true);
    expect((await deliverPendingEmails(ctx.client, now, cfg)).sent).toBe(0);
    expect(await ctx.client.notification.count({ where: { userId: s.manager.user.id, emailedAt: null } })).toBe(0);
  });

  test("runCampaignJobs without SMTP configured only notifies in-app", async () => {
    const s = await setup();
    const summary = await runCampaignJobs(ctx.client, at(s.dueAt, -2), { smtp: null });
    expect(summary.emailed).toBe(0);
    expect(summary.reminders).toBeGreaterThanOrEqual(1);
  });
});
