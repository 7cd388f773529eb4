import nodemailer from "nodemailer";
import { env } from "@/lib/config/env";
import type { PrismaClient } from "@/lib/db";

export interface SmtpConfig {
  url: string;
  from: string;
}

/** SMTP_URL + SMTP_FROM from the environment, or null (in-app notifications only). */
export function smtpConfig(): SmtpConfig | null {
  const e = env();
  return e.SMTP_URL && e.SMTP_FROM ? { url: e.SMTP_URL, from: e.SMTP_FROM } : null;
}

const BATCH = 50;

/**
 * Sends each not-yet-emailed notification of the last day once, through
 * SMTP. Rows are claimed with FOR UPDATE SKIP LOCKED inside the transaction
 * that records the result, so two workers never send the same one; a refused
 * message records its error and is not retried (the in-app copy remains).
 */
export async function deliverPendingEmails(client: PrismaClient, now: Date, config: SmtpConfig | null = smtpConfig(), baseUrl = process.env.NEXTAUTH_URL ?? ""): Promise<{ sent: number; failed: number }> {
  if (!config) return { sent: 0, failed: 0 };
  const transport = nodemailer.createTransport(config.url);
  let sent = 0;
  let failed = 0;
  try {
    for (;;) {
      const n = await client.$transaction(
        async (tx) => {
          const rows = await tx.$queryRaw<{ id: string; email: string; message: string; link: string | null }[]>`
            SELECT n.id, u.email, n.message, n.link FROM "Notification" n JOIN "User" u ON u.id = n."userId"
            WHERE n."emailedAt" IS NULL AND n."emailError" IS NULL AND n."createdAt" > ${new Date(now.getTime() - 86_400_000)}
            ORDER BY n."createdAt" LIMIT ${BATCH}
            FOR UPDATE OF n SKIP LOCKED`;
          for (const r of rows) {
            try {
              await transport.sendMail({
                from: config.from,
                to: r.email,
                subject: `Tollgate: ${r.message.slice(0, 120)}`,
                text: `${r.message}\n${r.link ? `\n${baseUrl}${r.link}\n` : ""}`,
              });
              await tx.notification.update({ where: { id: r.id }, data: { emailedAt: new Date() } });
              sent++;
            } catch (e) {
              await tx.notification.update({ where: { id: r.id }, data: { emailError: String((e as Error).message).slice(0, 500) } });
              failed++;
            }
          }
          return rows.length;
        },
        { timeout: 120_000 },
      );
      if (n < BATCH) break;
    }
  } finally {
    transport.close();
  }
  return { sent, failed };
}
