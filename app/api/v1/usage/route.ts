import { randomUUID } from "node:crypto";
import { NextResponse } from "next/server";
import { authenticateServiceToken } from "@/lib/auth/service-tokens";
import { AppError } from "@/lib/errors";
import { ingestUsageReport } from "@/lib/usage/ingest";
import { readJsonBody } from "@/lib/validation/json-body";

// POST /api/v1/usage — the enforcement proxy's usage reports (service token with usage:ingest).
export async function POST(request: Request): Promise<Response> {
  try {
    const actor = await authenticateServiceToken(request.headers.get("authorization"));
    const result = await ingestUsageReport(actor, await readJsonBody(request));
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
