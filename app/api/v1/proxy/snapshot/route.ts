import { randomUUID } from "node:crypto";
import { NextResponse } from "next/server";
import { authenticateServiceToken } from "@/lib/auth/service-tokens";
import { buildProxySnapshot, snapshotDigest, snapshotNdjson } from "@/lib/enforcement/snapshot";
import { AppError } from "@/lib/errors";

// GET /api/v1/proxy/snapshot?environment=<name> — the full state a proxy pulls (service token with proxy:sync).
// JSON by default; streamed NDJSON when the caller accepts application/x-ndjson (the proxy does).
export async function GET(request: Request): Promise<Response> {
  try {
    const actor = await authenticateServiceToken(request.headers.get("authorization"));
    const environment = new URL(request.url).searchParams.get("environment");
    const snapshot = await buildProxySnapshot(actor, { environment });
    if ((request.headers.get("accept") ?? "").includes("application/x-ndjson")) {
      // The content digest first, yielding as it goes: a million grants must not hold every other request.
      const chunks = snapshotNdjson(snapshot, undefined, undefined, await snapshotDigest(snapshot));
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        },
      });
      return new Response(body, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
    }
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
