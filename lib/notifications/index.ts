import { z } from "zod";
import { authorize, type Actor } from "@/lib/auth/actor";
import { db, type PrismaClient, type Tx } from "@/lib/db";
import { forbidden, fromZod } from "@/lib/errors";

/**
 * The in-app notification centre. Every notification belongs to one user and
 * only that user reads or marks it; scheduled ones carry a dedupe key so a job
 * that runs twice notifies once. Email delivery: ./email.ts.
 */
export interface NewNotification {
  userId: string;
  kind: string;
  message: string;
  link?: string | null;
  dedupeKey?: string | null;
  createdAt?: Date;
}

/** Inside the caller's transaction; a repeated dedupe key is ignored. Returns how many were new. */
export async function createNotifications(tx: Tx, rows: NewNotification[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await tx.notification.createMany({
    data: rows.map((n) => ({ userId: n.userId, kind: n.kind, message: n.message, link: n.link ?? null, dedupeKey: n.dedupeKey ?? null, createdAt: n.createdAt })),
    skipDuplicates: true,
  });
  return r.count;
}

function requireUser(actor: Actor) {
  authorize(actor, "notifications:read");
  if (actor.kind !== "user") throw forbidden("Notifications belong to a signed-in person");
  return actor;
}

export interface NotificationView {
  id: string;
  kind: string;
  message: string;
  link: string | null;
  createdAt: Date;
  readAt: Date | null;
}

export async function listNotifications(actor: Actor, client: PrismaClient = db()): Promise<{ unread: number; items: NotificationView[] }> {
  const user = requireUser(actor);
  const [unread, items] = await Promise.all([
    client.notification.count({ where: { userId: user.userId, readAt: null } }),
    client.notification.findMany({
      where: { userId: user.userId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 20,
      select: { id: true, kind: true, message: true, link: true, createdAt: true, readAt: true },
    }),
  ]);
  return { unread, items };
}

export const markReadInput = z.union([z.object({ ids: z.array(z.uuid("must be notification ids")).min(1).max(200) }), z.object({ all: z.literal(true) })]);

/** Marks the caller's own notifications read (someone else's ids are silently not theirs to mark). */
export async function markNotificationsRead(actor: Actor, input: unknown, client: PrismaClient = db(), now: Date = new Date()): Promise<{ marked: number }> {
  const user = requireUser(actor);
  const parsed = markReadInput.safeParse(input);
  if (!parsed.success) throw fromZod(parsed.error);
  const where = "ids" in parsed.data ? { id: { in: parsed.data.ids } } : {};
  const r = await client.notification.updateMany({ where: { ...where, userId: user.userId, readAt: null }, data: { readAt: now } });
  return { marked: r.count };
}
