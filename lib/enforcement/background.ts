import { PgBoss } from "pg-boss";
import { systemActor } from "@/lib/auth/actor";
import { env } from "@/lib/config/env";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { runAnalysis } from "@/lib/analysis";
import { registerCampaignJobs } from "@/lib/campaigns/jobs";
import { expireStaleRequests, markExpiredGrants } from "@/lib/access/requests";
import { failAbandonedExports } from "@/lib/reports/records";
import { reconcileProxies } from "./reconcile";
import { startDeliveryWorker, type DeliveryWorker } from "./worker";

/**
 * Schedules (cron, UTC): analysis hourly, drift reconciliation every minute, campaign jobs every 15 minutes,
 * abandoned-export cleanup hourly, access-request and time-boxed grant expiry every minute.
 */
export const ANALYSIS_QUEUE = "analysis-run";
export const RECONCILE_QUEUE = "enforcement-reconcile";
export const EXPORTS_QUEUE = "reports-abandoned";
/** Access requests: unanswered ones expire after 7 days; time-boxed grants the proxy already ended are marked expired. */
export const ACCESS_QUEUE = "access-expiry";
const ANALYSIS_CRON = process.env.TOLLGATE_ANALYSIS_CRON ?? "17 * * * *";
const RECONCILE_CRON = process.env.TOLLGATE_RECONCILE_CRON ?? "* * * * *";

const g = globalThis as unknown as { __tollgateBackground?: Promise<{ worker: DeliveryWorker; boss: PgBoss | null }> };

const log = (msg: string, data?: unknown) => console.error(`[tollgate] ${msg}`, data ?? "");

/**
 * Started once per server process from instrumentation.ts (Node runtime only):
 * the outbox delivery worker (woken in-process after each decision, by
 * LISTEN/NOTIFY on real Postgres, and by a short poll) and the pg-boss
 * schedules. A failure here is logged; the dashboard keeps serving.
 */
export function startBackground() {
  g.__tollgateBackground ??= (async () => {
    const client = db();
    const listen = process.env.TOLLGATE_OUTBOX_LISTEN !== "0";
    const worker = await startDeliveryWorker({ client, listenUrl: listen ? env().DATABASE_URL : undefined, pollMs: 2_000, log });
    let boss: PgBoss | null = null;
    try {
      boss = new PgBoss({ connectionString: env().DATABASE_URL, max: 3 });
      boss.on("error", (e) => log("pg-boss error", (e as Error).message));
      await boss.start();
      await boss.createQueue(ANALYSIS_QUEUE);
      await boss.createQueue(RECONCILE_QUEUE);
      await boss.schedule(ANALYSIS_QUEUE, ANALYSIS_CRON);
      await boss.schedule(RECONCILE_QUEUE, RECONCILE_CRON);
      await boss.work(ANALYSIS_QUEUE, async () => {
        try {
          await runAnalysis(systemActor("schedule"), {}, client);
        } catch (e) {
          // A run already in progress (e.g. started from /queues) is not an error.
          if (!(e instanceof AppError && e.code === "conflict")) throw e;
        }
      });
      await boss.work(RECONCILE_QUEUE, async () => {
        await reconcileProxies(client);
      });
      await boss.createQueue(EXPORTS_QUEUE);
      await boss.schedule(EXPORTS_QUEUE, "41 * * * *");
      await boss.work(EXPORTS_QUEUE, async () => {
        await failAbandonedExports(client, new Date());
      });
      await boss.createQueue(ACCESS_QUEUE);
      await boss.schedule(ACCESS_QUEUE, "* * * * *");
      await boss.work(ACCESS_QUEUE, async () => {
        const now = new Date();
        await expireStaleRequests(client, now);
        await markExpiredGrants(client, now);
      });
      // Campaign reminders, escalation, fallback round, close policy, quarterly launches, email.
      await registerCampaignJobs(boss, client);
    } catch (e) {
      log("background schedules unavailable", (e as Error).message);
    }
    scheduleFirstAnalysis(client);
    return { worker, boss };
  })();
  return g.__tollgateBackground;
}

/**
 * A fresh installation (e.g. the demo's first start) should not wait up to an
 * hour for its first findings. Shortly after start-up, once the proxies have had
 * time to send their first usage report (so the feed is not judged stale), run
 * the analysis if it has never run.
 */
function scheduleFirstAnalysis(client: ReturnType<typeof db>) {
  const delay = Number(process.env.TOLLGATE_FIRST_ANALYSIS_DELAY_MS ?? 20_000);
  if (!Number.isFinite(delay) || delay < 0) return;
  const timer = setTimeout(async () => {
    try {
      if ((await client.analysisRun.count()) > 0) return;
      await runAnalysis(systemActor("first-start"), {}, client);
    } catch (e) {
      if (!(e instanceof AppError && e.code === "conflict")) log("first analysis failed", (e as Error).message);
    }
  }, delay);
  timer.unref();
}
