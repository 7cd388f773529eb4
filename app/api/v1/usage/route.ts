import { randomUUID } from "node:crypto";
import { NextResponse } from "next/server";
import { authenticateServiceToken } from "@/lib/auth/service-tokens";
import { AppError } from "@/lib/errors";
import { ingestUsageReport } from "@/lib/usage/ingest";

// POST /api/v1/usage — the enforcement proxy's usage reports (service token with usage:ingest).
export async function POST(request: Request): Promise<Response> {
  try {
    const actor = await authenticateServiceToken(request.headers.get("authorization"));
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      throw new AppError("bad_request", "body is not valid JSON");
    }
    const result = await ingestUsageReport(actor, body);
    return NextResponse.json(result);
  } catch (e) {
    return errorResponse(e);
  }
}

function errorResponse(e: unknown): Response {
  if (e instanceof AppError) {
    return NextResponse.json({ error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } }, { status: e.status });
  }
  const logId = randomUUID();
  console.error(`[usage] ${logId}`, e);
  return NextResponse.json({ error: { code: "internal", message: `Internal error (log id ${logId})` } }, { status: 500 });
}
