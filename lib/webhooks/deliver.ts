import { request } from "undici";
import type { WebhookPayload } from "./events";
import { SIGNATURE_HEADER, signatureHeader } from "./signature";

export interface WebhookTarget {
  url: string;
  secret: string;
  format: string;
}

/** The body sent: the event itself, or for Slack-compatible incoming webhooks `{ text }`. */
export function webhookBody(target: Pick<WebhookTarget, "format">, p: WebhookPayload): string {
  if (target.format === "slack") return JSON.stringify({ text: `[Tollgate] ${p.summary}` });
  return JSON.stringify(p);
}

export interface WebhookAttempt {
  ok: boolean;
  /** A failure that retrying will not fix (the receiver refused the request as such). */
  permanent: boolean;
  error: string | null;
}

/** 4xx other than timeouts and rate limits will not change by retrying. */
const retryable4xx = new Set([408, 409, 425, 429]);

/** One signed POST, 10 s at most. Never throws. */
export async function sendWebhook(target: WebhookTarget, payload: WebhookPayload, now = Date.now()): Promise<WebhookAttempt> {
  const body = webhookBody(target, payload);
  try {
    const res = await request(target.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Tollgate-Webhooks/1",
        "tollgate-event": payload.type,
        "tollgate-delivery": payload.id,
        [SIGNATURE_HEADER]: signatureHeader(target.secret, body, Math.floor(now / 1000)),
      },
      body,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
      // undici 7's request() does not follow redirects: a 3xx is a failed delivery, never a hop elsewhere.
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, permanent: false, error: null };
    const permanent = res.statusCode >= 400 && res.statusCode < 500 && !retryable4xx.has(res.statusCode);
    return { ok: false, permanent, error: `receiver answered ${res.statusCode}` };
  } catch (e) {
    return { ok: false, permanent: false, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}
