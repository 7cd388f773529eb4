import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Webhook signatures (documented for receivers in docs/ARCHITECTURE.md):
 *   Tollgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 * The timestamp is inside the signed text, so a captured delivery cannot be
 * replayed later with a fresh timestamp; receivers reject old ones (5 minutes).
 */
export const SIGNATURE_HEADER = "tollgate-signature";
export const SIGNATURE_TOLERANCE_S = 300;

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/** A receiver's check: the header's MAC matches and its timestamp is within the tolerance of `nowSeconds`. */
export function verifySignature(secret: string, body: string, header: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowSeconds - t) > SIGNATURE_TOLERANCE_S) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex"));
  const given = Buffer.from(parts.v1);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
