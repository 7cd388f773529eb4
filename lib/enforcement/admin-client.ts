import { Readable } from "node:stream";
import { Pool } from "undici";
import { z } from "zod";

/**
 * A small client for the proxy admin API (docs/ARCHITECTURE.md). One
 * keep-alive undici Pool per admin origin, shared by the delivery worker and
 * the reconciler. Never throws for HTTP statuses: callers decide what is
 * retryable; network errors do throw.
 */
const pools = new Map<string, Pool>();

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 8, keepAliveTimeout: 10_000, connectTimeout: 2_000 });
    pools.set(origin, pool);
  }
  return pool;
}

export async function closeAdminPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close().catch(() => undefined)));
}

export interface ProxyTarget {
  adminUrl: string;
  adminToken: string;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

export async function adminRequest(
  target: ProxyTarget,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  timeoutMs = 5_000,
  /** For a streamed body (a Readable, e.g. an NDJSON snapshot), which goes as is; other bodies are JSON. */
  contentType = "application/json",
): Promise<AdminResponse> {
  const url = new URL(target.adminUrl);
  const base = url.pathname.replace(/\/+$/, "");
  const res = await poolFor(url.origin).request({
    method,
    path: `${base}${path}`,
    headers: {
      authorization: `Bearer ${target.adminToken}`,
      ...(body === undefined ? {} : { "content-type": contentType }),
    },
    body: body === undefined ? undefined : body instanceof Readable || typeof body === "string" ? body : JSON.stringify(body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // keep the raw text for the error message
  }
  return { status: res.statusCode, body: parsed };
}

export const mutationResult = z.object({ revision: z.number().int().nonnegative(), applied: z.boolean() });
export const proxyState = z.object({
  revision: z.number().int().nonnegative(),
  ready: z.boolean(),
  environment: z.string().nullish(),
  counts: z.object({ apis: z.number(), routes: z.number(), credentials: z.number(), grants: z.number() }),
  lastSyncAt: z.string().nullish(),
});

/** "401 unauthorized: bad token" from an admin API error body. */
export function describeFailure(res: AdminResponse): string {
  const err = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
  return err ? `${res.status} ${err.code ?? ""}: ${err.message ?? ""}`.trim() : `HTTP ${res.status}`;
}
