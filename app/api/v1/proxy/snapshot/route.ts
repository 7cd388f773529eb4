import { randomUUID } from "node:crypto";
import { NextResponse } from "next/server";
import { authenticateServiceToken } from "@/lib/auth/service-tokens";
import { buildProxySnapshot } from "@/lib/enforcement/snapshot";
import { AppError } from "@/lib/errors";

// GET /api/v1/proxy/snapshot?environment=<name> — the full state a proxy pulls (service token with proxy:sync).
export async function GET(request: Request): Promise<Response> {
  try {
    const actor = await authenticateServiceToken(request.headers.get("authorization"));
    const environment = new URL(request.url).searchParams.get("environment");
    const snapshot = await buildProxySnapshot(actor, { environment });
    return NextResponse.json(snapshot, { headers: { "cache-control": "no-store" } });
  } catch (e) {
    if (e instanceof AppError) {
      return NextResponse.json({ error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } }, { status: e.status });
    }
    const logId = randomUUID();
    console.error(`[proxy-snapshot] ${logId}`, e);
    return NextResponse.json({ error: { code: "internal", message: `Internal error (log id ${logId})` } }, { status: 500 });
  }
}
