import type { PrismaClient, Tx } from "@/lib/db";
import { dormancyDaysFor, type Settings } from "@/lib/settings";

/** Per-environment parameters the usage-based rules need. */
export interface EnvironmentParams {
  id: string;
  name: string;
  windowDays: number;
  /** Usage-based rules are not judged here because the usage feed cannot be trusted. */
  heldBack: boolean;
  heldBackReason: string | null;
}

const DAY_MS = 86_400_000;

/**
 * Refuses to call anything unused when the usage feed is stale (Repokid's rule):
 * an environment whose proxies have never reported, or one of which has not
 * reported for longer than staleFeedDays, is held back. An environment without
 * any proxy is judged on whatever usage was imported.
 */
export async function environmentParams(client: PrismaClient | Tx, settings: Settings, now: Date): Promise<EnvironmentParams[]> {
  const envs = await client.environment.findMany({
    select: { id: true, name: true, proxies: { select: { name: true, lastReportAt: true } } },
    orderBy: { name: "asc" },
  });
  const staleBefore = now.getTime() - settings.staleFeedDays * DAY_MS;
  return envs.map((env) => {
    const reasons: string[] = [];
    for (const proxy of env.proxies) {
      if (!proxy.lastReportAt) reasons.push(`proxy ${proxy.name} has never reported usage`);
      else if (proxy.lastReportAt.getTime() < staleBefore)
        reasons.push(
          `proxy ${proxy.name} last reported usage at ${proxy.lastReportAt.toISOString()}, more than ${settings.staleFeedDays} days ago`,
        );
    }
    return {
      id: env.id,
      name: env.name,
      windowDays: dormancyDaysFor(settings, env.id),
      heldBack: reasons.length > 0,
      heldBackReason: reasons.length ? reasons.join("; ") : null,
    };
  });
}
