import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { db, type PrismaClient } from "@/lib/db";
import { badRequest, conflict, fromZod, notFound } from "@/lib/errors";
import { loadSettings } from "@/lib/settings";
import { proxyHealth, unreachableSince, type ProxyHealth } from "./proxy-health";

/** Proxies the dashboard delivers decisions to. The admin token is write-only: it is never returned. */
export interface ProxyView {
  id: string;
  name: string;
  adminUrl: string;
  environmentId: string;
  environment: string;
  lastRevision: number | null;
  lastSyncAt: Date | null;
  lastReportAt: Date | null;
  lastError: string | null;
  pendingDeliveries: number;
  /** Seconds since the oldest delivery this proxy has not acknowledged (null: none waiting). */
  lagSeconds: number | null;
  health: ProxyHealth;
  unreachableSince: Date | null;
}

const fields = {
  name: z.string().trim().min(1, "is required").max(100).regex(/^[A-Za-z0-9._-]+$/, "letters, digits, . _ - only"),
  adminUrl: z
    .string()
    .trim()
    .url("must be a URL like http://10.0.0.5:8081")
    .refine((u) => /^https?:\/\//.test(u) && !u.includes("?") && !u.includes("#"), "must be an http(s) URL without query"),
  adminToken: z.string().min(16, "must be at least 16 characters").max(500),
  environmentId: z.uuid("choose an environment"),
};
export const createProxyInput = z.object(fields).strict();
export const updateProxyInput = z
  .object({ id: z.uuid(), ...fields, adminToken: fields.adminToken.optional().or(z.literal("").transform(() => undefined)) })
  .strict();
export const deleteProxyInput = z.object({ id: z.uuid() }).strict();

export async function listProxies(actor: Actor, client: PrismaClient = db(), now = new Date()): Promise<ProxyView[]> {
  authorize(actor, "proxies:manage");
  const [rows, waiting, settings] = await Promise.all([
    client.proxy.findMany({
      include: { environment: { select: { name: true } }, _count: { select: { outbox: { where: { status: { not: "applied" } } } } } },
      orderBy: { name: "asc" },
    }),
    client.outboxItem.groupBy({ by: ["proxyId"], where: { status: { not: "applied" } }, _min: { createdAt: true } }),
    loadSettings(client),
  ]);
  const oldest = new Map(waiting.map((w) => [w.proxyId, w._min.createdAt]));
  return rows.map((p) => ({
    id: p.id,
    name: p.name,
    adminUrl: p.adminUrl,
    environmentId: p.environmentId,
    environment: p.environment.name,
    lastRevision: p.lastRevision === null ? null : Number(p.lastRevision),
    lastSyncAt: p.lastSyncAt,
    lastReportAt: p.lastReportAt,
    lastError: p.lastError,
    pendingDeliveries: p._count.outbox,
    lagSeconds: oldest.get(p.id) ? Math.max(0, Math.round((now.getTime() - oldest.get(p.id)!.getTime()) / 1000)) : null,
    health: proxyHealth(p, now, settings.proxyDegradedMinutes),
    unreachableSince: unreachableSince(p),
  }));
}

async function checkEnvironment(client: Pick<PrismaClient, "environment">, environmentId: string) {
  if (!(await client.environment.findUnique({ where: { id: environmentId }, select: { id: true } })))
    throw badRequest("environmentId: no such environment", "environmentId");
}

const uniqueName = (e: unknown) => String(e).includes("Unique constraint") || (e as { code?: string }).code === "P2002";

export async function createProxy(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "proxies:manage");
  const parsed = createProxyInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const v = parsed.data;
  try {
    return await client.$transaction(async (tx) => {
      await checkEnvironment(tx, v.environmentId);
      const p = await tx.proxy.create({ data: v, select: { id: true } });
      await appendAuditEvent(tx, { actor, action: "proxy.create", target: `proxy:${p.id}`, data: { name: v.name, adminUrl: v.adminUrl, environmentId: v.environmentId } });
      return p;
    });
  } catch (e) {
    if (uniqueName(e)) throw conflict(`A proxy named ${v.name} already exists`);
    throw e;
  }
}

export async function updateProxy(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "proxies:manage");
  const parsed = updateProxyInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { id, adminToken, ...rest } = parsed.data;
  try {
    return await client.$transaction(async (tx) => {
      await checkEnvironment(tx, rest.environmentId);
      const updated = await tx.proxy.updateMany({ where: { id }, data: { ...rest, ...(adminToken ? { adminToken } : {}) } });
      if (updated.count === 0) throw notFound("Proxy");
      await appendAuditEvent(tx, { actor, action: "proxy.update", target: `proxy:${id}`, data: { ...rest, tokenChanged: Boolean(adminToken) } });
      return { id };
    });
  } catch (e) {
    if (uniqueName(e)) throw conflict(`A proxy named ${rest.name} already exists`);
    throw e;
  }
}

/**
 * Deregistering a proxy drops its undelivered outbox rows: say so in the audit event. Decisions
 * that were waiting only on it and were acknowledged by another proxy of the environment now
 * count as enforced; one no remaining proxy acknowledged stays pending (nothing enforces it).
 */
export async function deleteProxy(actor: Actor, input: unknown, client: PrismaClient = db()) {
  authorize(actor, "proxies:manage");
  const parsed = deleteProxyInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const { id } = parsed.data;
  return client.$transaction(async (tx) => {
    const p = await tx.proxy.findUnique({ where: { id }, select: { name: true, _count: { select: { outbox: { where: { status: { not: "applied" } } } } } } });
    if (!p) throw notFound("Proxy");
    const waiting = await tx.outboxItem.findMany({ where: { proxyId: id, status: { not: "applied" } }, select: { decisionId: true, accessChangeId: true } });
    const decisionIds = [...new Set(waiting.flatMap((w) => (w.decisionId ? [w.decisionId] : [])))];
    const changeIds = [...new Set(waiting.flatMap((w) => (w.accessChangeId ? [w.accessChangeId] : [])))];
    await tx.outboxItem.deleteMany({ where: { proxyId: id } });
    await tx.proxy.delete({ where: { id } });
    // The same rule as the delivery worker's: enforced once every remaining delivery is applied.
    const enforced = decisionIds.length
      ? await tx.$executeRaw`
          UPDATE "Decision" d SET enforcement = 'applied', "enforcedAt" = now()
          WHERE d.id = ANY(${decisionIds}::uuid[]) AND d.enforcement <> 'applied'
            AND EXISTS (SELECT 1 FROM "OutboxItem" o WHERE o."decisionId" = d.id)
            AND NOT EXISTS (SELECT 1 FROM "OutboxItem" o WHERE o."decisionId" = d.id AND o.status <> 'applied')`
      : 0;
    if (changeIds.length)
      await tx.$executeRaw`
        UPDATE "AccessChange" c SET enforcement = 'applied', "enforcedAt" = now()
        WHERE c.id = ANY(${changeIds}::uuid[]) AND c.enforcement <> 'applied'
          AND EXISTS (SELECT 1 FROM "OutboxItem" o WHERE o."accessChangeId" = c.id)
          AND NOT EXISTS (SELECT 1 FROM "OutboxItem" o WHERE o."accessChangeId" = c.id AND o.status <> 'applied')`;
    await appendAuditEvent(tx, {
      actor,
      action: "proxy.delete",
      target: `proxy:${id}`,
      data: { name: p.name, droppedPendingDeliveries: p._count.outbox, decisionsNowEnforced: enforced },
    });
    return { id, droppedPendingDeliveries: p._count.outbox, decisionsNowEnforced: enforced };
  });
}

export const testProxyInput = z.object({ id: z.uuid("must be a proxy id") }).strict();

export interface ProxyTestResult {
  ok: boolean;
  /** What the admin sees: "revision 12, ready, 3 APIs, 40 grants (18 ms)" or why it failed. */
  message: string;
}

/**
 * "Test connection": one authenticated read of the proxy's state with the stored token. A probe,
 * not a change: nothing is written (the reconciler records sync state on its own schedule).
 */
export async function testProxyConnection(actor: Actor, input: unknown, client: PrismaClient = db()): Promise<ProxyTestResult> {
  authorize(actor, "proxies:manage");
  const parsed = testProxyInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const proxy = await client.proxy.findUnique({ where: { id: parsed.data.id }, select: { adminUrl: true, adminToken: true } });
  if (!proxy) throw notFound("Proxy");
  const { adminRequest, describeFailure, proxyState } = await import("./admin-client");
  const started = performance.now();
  try {
    const res = await adminRequest(proxy, "GET", "/admin/v1/state", undefined, 3_000);
    const ms = Math.round(performance.now() - started);
    if (res.status !== 200) return { ok: false, message: `The proxy answered ${describeFailure(res)} (${ms} ms)` };
    const state = proxyState.safeParse(res.body);
    if (!state.success) return { ok: false, message: `The proxy answered, but not with a Tollgate proxy state (${ms} ms)` };
    const s = state.data;
    return { ok: true, message: `Connected: revision ${s.revision}, ${s.ready ? "ready" : "not ready yet"}, ${s.counts.apis} APIs, ${s.counts.grants} grants (${ms} ms)` };
  } catch (e) {
    return { ok: false, message: `No answer from ${proxy.adminUrl}: ${e instanceof Error ? e.message : String(e)}` };
  }
}
