import pg from "pg";
import type { PrismaClient } from "@/lib/db";
import { adminRequest, describeFailure, mutationResult, type ProxyTarget } from "./admin-client";
import { OUTBOX_CHANNEL } from "./outbox";
import { onWake } from "./wake";
import { enqueueWebhookEvent } from "@/lib/webhooks/events";
import { deliverWebhooks } from "@/lib/webhooks/outbox";

export interface DeliveryWorkerOptions {
  client: PrismaClient;
  /** When set (real Postgres), also LISTEN for commits made by other processes. */
  listenUrl?: string;
  /** Safety-net poll for retries, crashes and missed wake-ups. */
  pollMs?: number;
  batchSize?: number;
  /** A claimed row not finished within this time is claimed again (worker crashed mid-batch). */
  leaseMs?: number;
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** After an applied revoke/reduce, GET the grant from each proxy and record verifiedRemovedAt on a 404. */
  verify?: boolean;
  log?: (msg: string, data?: unknown) => void;
  /** Called the moment a proxy acknowledges a row (benchmarks measure commit → ack with it). */
  onAck?: (ack: { decisionId: string | null; proxyId: string; revision: number; applied: boolean }) => void;
}

interface Claimed {
  id: bigint;
  /** One of proxyId and webhookId is set (migration 0031): webhooks ride the same outbox. */
  proxyId: string | null;
  webhookId: string | null;
  decisionId: string | null;
  /** Access changes (lib/access) record enforcement on AccessChange instead of Decision. */
  accessChangeId: string | null;
  payload: unknown;
  attempts: number;
}

/** Shown in pg_stat_activity, so an operator (and the recovery test) can find the LISTEN connection. */
export const LISTENER_APPLICATION_NAME = "tollgate-outbox-listener";
const LISTEN_BASE_BACKOFF_MS = 250;
const LISTEN_MAX_BACKOFF_MS = 30_000;

/** 400 and 409 will not change by retrying: the row fails at once so a person looks at it. */
const PERMANENT = new Set([400, 409]);

export class DeliveryWorker {
  private readonly o: Required<Omit<DeliveryWorkerOptions, "listenUrl" | "log" | "onAck">> & Pick<DeliveryWorkerOptions, "listenUrl" | "log" | "onAck">;
  private running = false;
  private again = false;
  private stopped = false;
  private current: Promise<void> = Promise.resolve();
  private verifications = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private offWake?: () => void;
  private listener?: pg.Client;
  private listenTimer?: NodeJS.Timeout;
  private listenFailures = 0;

  constructor(opts: DeliveryWorkerOptions) {
    this.o = {
      pollMs: 3_000,
      batchSize: 100,
      leaseMs: 30_000,
      maxAttempts: 12,
      baseBackoffMs: 500,
      maxBackoffMs: 60_000,
      verify: true,
      ...opts,
    };
  }

  async start(): Promise<this> {
    this.offWake = onWake(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.timer.unref?.();
    if (this.o.listenUrl) await this.listen(this.o.listenUrl);
    this.wake();
    return this;
  }

  /**
   * LISTEN for commits made by other processes. A lost connection (database
   * restart, backend terminated, network) is re-established with capped
   * exponential backoff — until then delivery rests on wake-ups and the poll —
   * and a reconnect runs one cycle at once for what was committed while deaf.
   */
  private async listen(url: string): Promise<void> {
    if (this.stopped) return;
    const c = new pg.Client({ connectionString: url, application_name: LISTENER_APPLICATION_NAME });
    let lost = false;
    const onLost = (why: string) => {
      if (lost) return;
      lost = true;
      if (this.listener === c) this.listener = undefined;
      void c.end().catch(() => undefined);
      if (!this.stopped) this.relisten(url, why);
    };
    c.on("notification", () => this.wake());
    c.on("error", (e) => onLost(e.message));
    c.on("end", () => onLost("connection closed"));
    try {
      await c.connect();
      await c.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (lost) return;
      this.listener = c;
      if (this.listenFailures > 0) this.o.log?.("outbox listener reconnected");
      this.listenFailures = 0;
      this.wake();
    } catch (e) {
      onLost((e as Error).message);
    }
  }

  private relisten(url: string, why: string): void {
    const delay = Math.min(LISTEN_MAX_BACKOFF_MS, LISTEN_BASE_BACKOFF_MS * 2 ** Math.min(10, this.listenFailures++));
    const jittered = delay / 2 + Math.random() * (delay / 2);
    this.o.log?.("outbox listener lost, reconnecting", { why, inMs: Math.round(jittered) });
    clearTimeout(this.listenTimer);
    this.listenTimer = setTimeout(() => void this.listen(url), jittered);
    this.listenTimer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.offWake?.();
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.listenTimer);
    await this.listener?.end().catch(() => undefined);
    await this.current;
    await Promise.all(this.verifications);
  }

  /** Deliver now; coalesces: a wake during a cycle runs one more cycle after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = (async () => {
      try {
        do {
          this.again = false;
          const n = await this.cycle().catch((e: unknown) => {
            this.o.log?.("delivery cycle failed", (e as Error).message);
            return 0;
          });
          if (n >= this.o.batchSize) this.again = true;
        } while (this.again && !this.stopped);
      } finally {
        this.running = false;
      }
    })();
  }

  /** For tests and benchmarks: resolves when the current cycle and verifications are done. */
  async idle(): Promise<void> {
    await this.current;
    await Promise.all(this.verifications);
  }

  /** One claim-and-deliver round. Returns the number of rows claimed. */
  async cycle(): Promise<number> {
    if (this.o.verify) this.track(this.verifyDue());
    const claimed = await this.o.client.$queryRawUnsafe<Claimed[]>(
      `WITH due AS (
         SELECT id FROM "OutboxItem"
         WHERE status = 'pending' AND "nextAttemptAt" <= now()
         ORDER BY "nextAttemptAt", id LIMIT $1
         FOR UPDATE SKIP LOCKED)
       UPDATE "OutboxItem" o
       SET "nextAttemptAt" = now() + make_interval(secs => $2::double precision / 1000), attempts = o.attempts + 1
       FROM due WHERE o.id = due.id
       RETURNING o.id, o."proxyId", o."webhookId", o."decisionId", o."accessChangeId", o.payload, o.attempts`,
      this.o.batchSize,
      this.o.leaseMs,
    );
    if (claimed.length === 0) return 0;
    const forProxies = claimed.filter((c) => c.proxyId !== null);
    const forWebhooks = claimed.filter((c) => c.webhookId !== null);
    const proxies = await this.o.client.proxy.findMany({
      where: { id: { in: [...new Set(forProxies.map((c) => c.proxyId!))] } },
      select: { id: true, adminUrl: true, adminToken: true },
    });
    const byProxy = new Map<string, Claimed[]>();
    for (const c of forProxies.sort((a, b) => (a.id < b.id ? -1 : 1))) {
      byProxy.set(c.proxyId!, [...(byProxy.get(c.proxyId!) ?? []), c]);
    }
    // Proxies (and webhooks) in parallel; one proxy's rows in order, so its revisions follow decision order.
    await Promise.all([
      deliverWebhooks(this.o.client, forWebhooks, this.o),
      ...proxies.map(async (proxy) => {
        const items = byProxy.get(proxy.id) ?? [];
        for (const [i, item] of items.entries()) {
          const unreachable = await this.deliver(proxy, item);
          // A proxy that is down fails the rest of its rows the same way: record that
          // in one statement instead of knocking on a closed door once per row.
          if (unreachable) {
            await this.postpone(items.slice(i + 1), proxy.id, unreachable);
            break;
          }
        }
      }),
    ]);
    return claimed.length;
  }

  /** Returns the error when the proxy could not be reached at all (the rest of its rows are postponed). */
  private async deliver(proxy: ProxyTarget & { id: string }, item: Claimed): Promise<string | null> {
    let error: string;
    let permanent = false;
    let unreachable = false;
    try {
      const res = await adminRequest(proxy, "POST", "/admin/v1/batch", item.payload);
      if (res.status === 200) {
        const ack = mutationResult.safeParse(res.body);
        if (ack.success) {
          this.o.onAck?.({ decisionId: item.decisionId, proxyId: proxy.id, revision: ack.data.revision, applied: ack.data.applied });
          await this.applied(item, proxy.id, ack.data.revision);
          return null;
        }
        error = `unexpected acknowledgement: ${JSON.stringify(res.body).slice(0, 200)}`;
      } else {
        error = describeFailure(res);
        permanent = PERMANENT.has(res.status);
        unreachable = res.status === 503 || res.status === 401;
      }
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`;
      unreachable = true;
    }
    await this.failed(item, proxy.id, error, permanent);
    return unreachable ? error : null;
  }

  private async postpone(items: Claimed[], proxyId: string, error: string): Promise<void> {
    if (items.length === 0) return;
    const ids = items.map((i) => i.id);
    const attempts = Math.max(...items.map((i) => i.attempts));
    const backoff = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
    await this.o.client.$executeRaw`
      UPDATE "OutboxItem" SET "lastError" = ${error}, "nextAttemptAt" = now() + make_interval(secs => ${backoff}::double precision / 1000)
      WHERE id = ANY(${ids}::bigint[]) AND status = 'pending'`;
    const failedDecisions = items.filter((i) => i.attempts >= this.o.maxAttempts && i.decisionId).map((i) => i.decisionId!);
    if (failedDecisions.length)
      await this.o.client.$executeRaw`
        UPDATE "Decision" SET enforcement = 'failed' WHERE id = ANY(${failedDecisions}::uuid[]) AND enforcement = 'pending'`;
    const failedChanges = items.filter((i) => i.attempts >= this.o.maxAttempts && i.accessChangeId).map((i) => i.accessChangeId!);
    if (failedChanges.length)
      await this.o.client.$executeRaw`
        UPDATE "AccessChange" SET enforcement = 'failed' WHERE id = ANY(${failedChanges}::uuid[]) AND enforcement = 'pending'`;
  }

  private async applied(item: Claimed, proxyId: string, revision: number): Promise<void> {
    const flipped = await this.o.client.$transaction(async (tx) => {
      // The decision row lock serialises the "all targets applied?" check across proxies.
      if (item.decisionId) await tx.$queryRaw`SELECT id FROM "Decision" WHERE id = ${item.decisionId}::uuid FOR UPDATE`;
      if (item.accessChangeId) await tx.$queryRaw`SELECT id FROM "AccessChange" WHERE id = ${item.accessChangeId}::uuid FOR UPDATE`;
      await tx.$executeRaw`
        UPDATE "OutboxItem" SET status = 'applied', "appliedRevision" = ${revision}, "appliedAt" = now(), "lastError" = NULL
        WHERE id = ${item.id}`;
      await tx.$executeRaw`
        UPDATE "Proxy" SET "lastRevision" = GREATEST(COALESCE("lastRevision", 0), ${revision}), "lastSyncAt" = now(), "lastError" = NULL
        WHERE id = ${proxyId}::uuid`;
      if (item.accessChangeId)
        await tx.$executeRaw`
          UPDATE "AccessChange" c SET enforcement = 'applied', "enforcedAt" = now()
          WHERE c.id = ${item.accessChangeId}::uuid AND c.enforcement <> 'applied'
            AND NOT EXISTS (SELECT 1 FROM "OutboxItem" o WHERE o."accessChangeId" = c.id AND o.status <> 'applied')`;
      if (!item.decisionId) return null;
      const done = await tx.$queryRaw<{ id: string; kind: string; findingId: string | null }[]>`
        UPDATE "Decision" d SET enforcement = 'applied', "enforcedAt" = now()
        WHERE d.id = ${item.decisionId}::uuid AND d.enforcement <> 'applied'
          AND NOT EXISTS (SELECT 1 FROM "OutboxItem" o WHERE o."decisionId" = d.id AND o.status <> 'applied')
        RETURNING d.id, d.kind::text AS kind, d."findingId"`;
      // The decision.enforced webhook event commits with the flip (at most once per decision).
      if (done[0]) {
        await enqueueWebhookEvent(tx, "decision.enforced", done[0].id, `Decision ${done[0].kind} ${done[0].id} enforced at every proxy`, {
          decisionId: done[0].id,
          kind: done[0].kind,
          findingId: done[0].findingId,
        });
      }
      return done;
    });
    const decision = flipped?.[0];
    // The fast path: check at once. If this process dies first, the check is still due
    // in the database and the next cycle of any worker claims it (verifyDue).
    if (decision && this.o.verify && (decision.kind === "revoke" || decision.kind === "reduce")) this.track(this.verifyOne(decision.id));
  }

  private track(p: Promise<unknown>): void {
    const done = p.then(
      () => undefined,
      (e: unknown) => this.o.log?.("removal check failed", (e as Error).message),
    );
    this.verifications.add(done);
    void done.finally(() => this.verifications.delete(done));
  }

  /**
   * The removal check as a retried step of its own (migration 0011): every applied
   * revoke/reduce without its proof is claimed with a lease (verifyNextAt), checked, and
   * on failure postponed with backoff. Claims skip rows another worker holds.
   */
  private async verifyDue(): Promise<void> {
    const due = await this.o.client.$queryRaw<{ id: string; verifyAttempts: number }[]>`
      WITH due AS (
        SELECT id FROM "Decision"
        WHERE enforcement = 'applied' AND "verifiedRemovedAt" IS NULL AND kind IN ('revoke', 'reduce')
          AND ("verifyNextAt" IS NULL OR "verifyNextAt" <= now())
        ORDER BY "verifyNextAt" NULLS FIRST LIMIT ${this.o.batchSize}
        FOR UPDATE SKIP LOCKED)
      UPDATE "Decision" d
      SET "verifyNextAt" = now() + make_interval(secs => ${this.o.leaseMs}::double precision / 1000), "verifyAttempts" = d."verifyAttempts" + 1
      FROM due WHERE d.id = due.id
      RETURNING d.id, d."verifyAttempts"`;
    await Promise.all(due.map((d) => this.checkClaimed(d.id, d.verifyAttempts)));
  }

  /** Claims one decision's check (unless another worker holds it, or it is done) and runs it. */
  private async verifyOne(decisionId: string): Promise<void> {
    const claimed = await this.o.client.$queryRaw<{ verifyAttempts: number }[]>`
      UPDATE "Decision"
      SET "verifyNextAt" = now() + make_interval(secs => ${this.o.leaseMs}::double precision / 1000), "verifyAttempts" = "verifyAttempts" + 1
      WHERE id = ${decisionId}::uuid AND "verifiedRemovedAt" IS NULL AND ("verifyNextAt" IS NULL OR "verifyNextAt" <= now())
      RETURNING "verifyAttempts"`;
    if (claimed.length) await this.checkClaimed(decisionId, claimed[0].verifyAttempts);
  }

  private async checkClaimed(decisionId: string, attempts: number): Promise<void> {
    let verified = false;
    try {
      verified = await verifyRemoved(this.o.client, decisionId);
    } catch (e) {
      this.o.log?.("removal check failed", { decisionId, error: (e as Error).message });
    }
    if (verified) return;
    const backoff = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
    await this.o.client.$executeRaw`
      UPDATE "Decision" SET "verifyNextAt" = now() + make_interval(secs => ${backoff}::double precision / 1000)
      WHERE id = ${decisionId}::uuid AND "verifiedRemovedAt" IS NULL`;
  }

  /**
   * Transient failures (proxy down, 5xx, 503 not ready, bad token) are retried
   * for as long as it takes, with capped exponential backoff, so nothing is
   * lost in an outage; after maxAttempts the decision shows "failed" (with the
   * error and a retry button) but still heals by itself when the proxy returns.
   * A 400/409 will not change by retrying: that row stops and waits for a person.
   */
  private async failed(item: Claimed, proxyId: string, error: string, permanent: boolean): Promise<void> {
    const showFailed = permanent || item.attempts >= this.o.maxAttempts;
    const backoff = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** Math.min(30, Math.max(0, item.attempts - 1)));
    await this.o.client.$transaction(async (tx) => {
      await tx.$executeRaw`
        UPDATE "OutboxItem"
        SET status = ${permanent ? "failed" : "pending"}::"OutboxStatus", "lastError" = ${error},
            "nextAttemptAt" = now() + make_interval(secs => ${backoff}::double precision / 1000)
        WHERE id = ${item.id} AND status = 'pending'`;
      await tx.$executeRaw`UPDATE "Proxy" SET "lastError" = ${error} WHERE id = ${proxyId}::uuid`;
      if (showFailed && item.decisionId)
        await tx.$executeRaw`UPDATE "Decision" SET enforcement = 'failed' WHERE id = ${item.decisionId}::uuid AND enforcement = 'pending'`;
      if (showFailed && item.accessChangeId)
        await tx.$executeRaw`UPDATE "AccessChange" SET enforcement = 'failed' WHERE id = ${item.accessChangeId}::uuid AND enforcement = 'pending'`;
    });
  }
}

/**
 * The removal proof: every target proxy answers 404 for every grant the
 * decision revoked. Records verifiedRemovedAt only then.
 */
export async function verifyRemoved(client: PrismaClient, decisionId: string): Promise<boolean> {
  const decision = await client.decision.findUnique({
    where: { id: decisionId },
    select: { verifiedRemovedAt: true, outbox: { select: { payload: true, proxy: { select: { adminUrl: true, adminToken: true } } } } },
  });
  if (!decision || decision.verifiedRemovedAt) return Boolean(decision?.verifiedRemovedAt);
  for (const row of decision.outbox) {
    if (!row.proxy) continue; // a decision's rows all go to proxies; the type allows webhook rows too
    const ops = (row.payload as { ops?: { op: string; kind: string; id?: string }[] }).ops ?? [];
    for (const op of ops) {
      if (op.op !== "delete" || op.kind !== "grant" || !op.id) continue;
      const res = await adminRequest(row.proxy, "GET", `/admin/v1/grants/${encodeURIComponent(op.id)}`);
      if (res.status !== 404) return false;
    }
  }
  await client.decision.update({ where: { id: decisionId }, data: { verifiedRemovedAt: new Date() } });
  return true;
}

export async function startDeliveryWorker(opts: DeliveryWorkerOptions): Promise<DeliveryWorker> {
  return new DeliveryWorker(opts).start();
}
