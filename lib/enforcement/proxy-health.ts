import type { PrismaClient } from "@/lib/db";
import { createNotifications } from "@/lib/notifications";
import { loadSettings } from "@/lib/settings";

export type ProxyHealth = "ok" | "never_contacted" | "error" | "degraded";

export interface ProxyContact {
  lastError: string | null;
  lastSyncAt: Date | null;
  lastRevision: number | bigint | null;
  createdAt: Date;
}

/**
 * Since when the dashboard has had no good answer from a proxy: its last
 * successful sync, or its registration when it never answered. Null while it answers.
 */
export function unreachableSince(p: ProxyContact): Date | null {
  if (p.lastError === null) return null;
  return p.lastSyncAt ?? p.createdAt;
}

/**
 * "degraded" is an error that lasted longer than the setting proxyDegradedMinutes
 * (a single failed delivery is "error": it is retried and usually clears itself).
 */
export function proxyHealth(p: ProxyContact, now: Date, degradedMinutes: number): ProxyHealth {
  const since = unreachableSince(p);
  if (since !== null) return now.getTime() - since.getTime() > degradedMinutes * 60_000 ? "degraded" : "error";
  if (p.lastSyncAt === null && p.lastRevision === null) return "never_contacted";
  return "ok";
}

/**
 * Notifies every admin once per outage of each degraded proxy (the dedupe key
 * holds the start of the outage, so a proxy that recovers and fails again alerts again).
 * Runs after each reconcile pass, which is what records a proxy's errors.
 */
export async function alertDegradedProxies(client: PrismaClient, now = new Date()): Promise<number> {
  const { proxyDegradedMinutes } = await loadSettings(client);
  const proxies = await client.proxy.findMany({
    where: { lastError: { not: null } },
    select: { id: true, name: true, lastError: true, lastSyncAt: true, lastRevision: true, createdAt: true, environment: { select: { name: true } } },
  });
  const degraded = proxies.filter((p) => proxyHealth(p, now, proxyDegradedMinutes) === "degraded");
  if (degraded.length === 0) return 0;
  const admins = await client.user.findMany({ where: { roles: { has: "admin" } }, select: { id: true } });
  const rows = degraded.flatMap((p) => {
    const since = unreachableSince(p)!;
    const message = `Proxy ${p.name} (${p.environment.name}) has been unreachable since ${since.toISOString().slice(0, 16).replace("T", " ")} UTC: decisions for this environment stay pending until it catches up or is deregistered`;
    return admins.map((a) => ({ userId: a.id, kind: "proxy.degraded", message, link: "/settings/proxies", dedupeKey: `proxy.degraded:${p.id}:${since.getTime()}:${a.id}` }));
  });
  return client.$transaction((tx) => createNotifications(tx, rows));
}
