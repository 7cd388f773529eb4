import { PgBoss } from "pg-boss";
import { systemActor } from "@/lib/auth/actor";
import { env } from "@/lib/config/env";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { runAnalysis } from "@/lib/analysis";
import { CAMPAIGN_QUEUE, runCampaignJobs } from "@/lib/campaigns/jobs";
import { expireStaleRequests, markExpiredGrants } from "@/lib/access/requests";
import { failAbandonedExports } from "@/lib/reports/records";
import { startCheckpointSchedule } from "@/lib/audit/schedule";
import { runRemediation } from "@/lib/remediation";
import { alertDegradedProxies } from "./proxy-health";
import { reconcileProxies } from "./reconcile";
import { startDeliveryWorker, type DeliveryWorker } from "./worker";

/**
 * Schedules (cron, UTC): analysis hourly, drift reconciliation every minute, campaign jobs every 15 minutes,
 * abandoned-export cleanup hourly, access-request and time-boxed grant expiry every minute, remediation
 * policies every 15 minutes.
 */
export const ANALYSIS_QUEUE = "analysis-run";
export const RECONCILE_QUEUE = "enforcement-reconcile";
export const EXPORTS_QUEUE = "reports-abandoned";
/** Access requests: unanswered ones expire after 7 days; time-boxed grants the proxy already ended are marked expired. */
export const ACCESS_QUEUE = "access-expiry";
/** Remediation policies (issue 22): notice what enabled policies would act on, execute what is due. */
export const REMEDIATION_QUEUE = "remediation-run";

/** One scheduled job: a pg-boss queue, its cron (UTC) and its handler. */
export interface ScheduledJob {
  queue: string;
  cron: string;
  work: () => Promise<void>;
}

type JobBoss = Pick<PgBoss, "createQueue" | "schedule" | "work">;

/**
 * Registers each job on its own: one that fails (a bad cron, a queue error) is
 * logged naming its queue and the others are still registered. (Registering
 * them in one sequence used to skip every job after the first failure while the
 * dashboard kept serving.)
 */
export async function registerJobs(boss: JobBoss, jobs: ScheduledJob[], logFn = log): Promise<{ registered: string[]; failed: { queue: string; error: string }[] }> {
  const registered: string[] = [];
  const failed: { queue: string; error: string }[] = [];
  for (const job of jobs) {
    try {
      await boss.createQueue(job.queue);
      await boss.schedule(job.queue, job.cron);
      await boss.work(job.queue, async () => {
        await job.work();
      });
      registered.push(job.queue);
    } catch (e) {
      const error = (e as Error).message;
      failed.push({ queue: job.queue, error });
      logFn(`job ${job.queue} (cron ${JSON.stringify(job.cron)}) could not be registered; the other jobs still run`, error);
    }
  }
  return { registered, failed };
}

function scheduledJobs(client: ReturnType<typeof db>): ScheduledJob[] {
  const cfg = env();
  return [
    {
      queue: ANALYSIS_QUEUE,
      cron: cfg.TOLLGATE_ANALYSIS_CRON,
      work: async () => {
        try {
          await runAnalysis(systemActor("schedule"), {}, client);
        } catch (e) {
          // A run already in progress (e.g. started from /queues) is not an error.
          if (!(e instanceof AppError && e.code === "conflict")) throw e;
        }
      },
    },
    {
      queue: RECONCILE_QUEUE,
      cron: cfg.TOLLGATE_RECONCILE_CRON,
      work: async () => {
        await reconcileProxies(client);
        // The pass just recorded which proxies answer: alert admins about those down too long.
        await alertDegradedProxies(client);
      },
    },
    { queue: EXPORTS_QUEUE, cron: "41 * * * *", work: async () => void (await failAbandonedExports(client, new Date())) },
    // Campaign reminders, escalation, fallback round, close policy, quarterly launches, email.
    { queue: CAMPAIGN_QUEUE, cron: cfg.TOLLGATE_CAMPAIGN_CRON, work: async () => void (await runCampaignJobs(client, new Date())) },
    {
      queue: ACCESS_QUEUE,
      cron: "* * * * *",
      work: async () => {
        const now = new Date();
        await expireStaleRequests(client, now);
        await markExpiredGrants(client, now);
      },
    },
    { queue: REMEDIATION_QUEUE, cron: "*/15 * * * *", work: async () => void (await runRemediation(client, new Date())) },
  ];
}

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
      await registerJobs(boss, scheduledJobs(client));
    } catch (e) {
      log("background schedules unavailable", (e as Error).message);
    }
    scheduleFirstAnalysis(client);
    // Signed audit checkpoints (docs/SECURITY.md): independent of pg-boss on purpose.
    startCheckpointSchedule(client, log);
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
