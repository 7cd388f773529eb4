import { randomBytes } from "node:crypto";
import { z } from "zod";
import { actorLabel, authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { conflict, fromZod, notFound } from "@/lib/errors";
import { wakeDelivery } from "@/lib/enforcement/wake";
import { WEBHOOK_EVENTS } from "./events";

/**
 * Outgoing webhooks, managed by admins in Settings → Webhooks. HTTPS only,
 * except plain HTTP to a loopback address (tests, demos, a local relay). The
 * signing secret is generated here and shown once; it is stored because every
 * delivery is signed with it.
 */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export const webhookUrl = z
  .string()
  .trim()
  .max(2000)
  .url("must be a URL like https://hooks.example.com/tollgate")
  .superRefine((v, ctx) => {
    if (!URL.canParse(v)) return; // the url() check above has named it
    const u = new URL(v);
    if (u.username || u.password) ctx.addIssue({ code: "custom", message: "must not carry a user name or password" });
    else if (u.protocol === "http:" && !LOOPBACK.test(u.hostname)) ctx.addIssue({ code: "custom", message: "must use https:// (plain http:// only to 127.0.0.1, [::1] or localhost)" });
    else if (u.protocol !== "https:" && u.protocol !== "http:") ctx.addIssue({ code: "custom", message: "must use https://" });
  });

export const createWebhookInput = z
  .object({
    name: z.string().trim().min(1, "is required").max(100, "must be at most 100 characters").regex(/^[A-Za-z0-9 ._-]+$/, "letters, digits, spaces, . _ - only"),
    url: webhookUrl,
    events: z.array(z.enum(WEBHOOK_EVENTS, "must be finding.opened, decision.enforced, campaign.overdue or anomaly")).min(1, "choose at least one event"),
    format: z.enum(["tollgate", "slack"], "must be tollgate or slack").default("tollgate"),
  })
  .strict();
export const webhookIdInput = z.object({ id: z.uuid("must be a webhook id") }).strict();
export const setWebhookEnabledInput = z.object({ id: z.uuid("must be a webhook id"), enabled: z.enum(["true", "false"]).transform((v) => v === "true") }).strict();

export interface WebhookView {
  id: string;
  name: string;
  url: string;
  events: string[];
  format: string;
  enabled: boolean;
  createdBy: string;
  createdAt: Date;
  deliveries: { delivered: number; pending: number; failed: number };
}

export interface DeliveryView {
  id: string;
  webhook: string;
  event: string;
  /** delivered (the receiver answered 2xx), pending (being retried), failed (gave up). */
  status: "delivered" | "pending" | "failed";
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  nextAttemptAt: Date;
}

export async function createWebhook(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "settings:write");
  const parsed = createWebhookInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const v = parsed.data;
  const secret = `whsec_${randomBytes(32).toString("base64url")}`;
  try {
    const w = await client.$transaction(async (tx) => {
      const w = await tx.webhookEndpoint.create({ data: { ...v, events: [...new Set(v.events)], secret, createdBy: actorLabel(actor) }, select: { id: true, name: true } });
      await appendAuditEvent(tx, { actor, action: "webhook.create", target: `webhook:${w.id}`, data: { name: v.name, url: v.url, events: v.events, format: v.format } });
      return w;
    });
    // The secret goes back to this one response; receivers verify deliveries with it.
    return { id: w.id, name: w.name, secret };
  } catch (e) {
    if ((e as { code?: string }).code === "P2002" || String(e).includes("Unique constraint")) throw conflict(`A webhook named ${v.name} already exists`);
    throw e;
  }
}

export async function setWebhookEnabled(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "settings:write");
  const parsed = setWebhookEnabledInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { id, enabled } = parsed.data;
  await client.$transaction(async (tx) => {
    const r = await tx.webhookEndpoint.updateMany({ where: { id }, data: { enabled } });
    if (r.count === 0) throw notFound("No such webhook");
    await appendAuditEvent(tx, { actor, action: enabled ? "webhook.enable" : "webhook.disable", target: `webhook:${id}` });
  });
  if (enabled) wakeDelivery();
}

/** Deleting a webhook drops its undelivered rows with it (cascade); delivered ones go too, the audit log keeps the record. */
export async function deleteWebhook(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "settings:write");
  const parsed = webhookIdInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  await client.$transaction(async (tx) => {
    const gone = await tx.webhookEndpoint.deleteMany({ where: { id: parsed.data.id } });
    if (gone.count === 0) throw notFound("No such webhook");
    await appendAuditEvent(tx, { actor, action: "webhook.delete", target: `webhook:${parsed.data.id}` });
  });
}

/** A failed delivery is tried again now, with a fresh attempt count. */
export async function retryWebhookDelivery(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "settings:write");
  const parsed = z.object({ id: z.string().regex(/^\d{1,19}$/, "must be a delivery id") }).strict().safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const r = await client.outboxItem.updateMany({
    where: { id: BigInt(parsed.data.id), webhookId: { not: null }, status: "failed" },
    data: { status: "pending", attempts: 0, nextAttemptAt: new Date(), lastError: null },
  });
  if (r.count === 0) throw conflict("Only a failed webhook delivery can be retried");
  wakeDelivery();
}

export async function listWebhooks(actor: Actor, client: PrismaClient = db()): Promise<WebhookView[]> {
  authorize(actor, "settings:write");
  const [hooks, counts] = await Promise.all([
    client.webhookEndpoint.findMany({ orderBy: { name: "asc" } }),
    client.outboxItem.groupBy({ by: ["webhookId", "status"], where: { webhookId: { not: null } }, _count: { _all: true } }),
  ]);
  return hooks.map((h) => {
    const n = (s: string) => counts.find((c) => c.webhookId === h.id && c.status === s)?._count._all ?? 0;
    return {
      id: h.id, name: h.name, url: h.url, events: h.events, format: h.format, enabled: h.enabled, createdBy: h.createdBy, createdAt: h.createdAt,
      deliveries: { delivered: n("applied"), pending: n("pending"), failed: n("failed") },
    };
  });
}

/** The latest deliveries (all webhooks, or one), newest first. */
export async function listWebhookDeliveries(actor: Actor, opts: { webhookId?: string; take?: number } = {}, client: PrismaClient = db()): Promise<DeliveryView[]> {
  authorize(actor, "settings:write");
  const rows = await client.outboxItem.findMany({
    where: { webhookId: opts.webhookId ?? { not: null } },
    orderBy: { id: "desc" },
    take: Math.min(opts.take ?? 50, 200),
    select: { id: true, operation: true, status: true, attempts: true, lastError: true, createdAt: true, appliedAt: true, nextAttemptAt: true, webhook: { select: { name: true } } },
  });
  return rows.map((r) => ({
    id: String(r.id),
    webhook: r.webhook?.name ?? "",
    event: r.operation.replace(/^webhook /, ""),
    status: r.status === "applied" ? "delivered" : r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    createdAt: r.createdAt,
    deliveredAt: r.appliedAt,
    nextAttemptAt: r.nextAttemptAt,
  }));
}
