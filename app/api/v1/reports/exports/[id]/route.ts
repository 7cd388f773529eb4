import { routeHandler } from "@/lib/auth/http";
import { requestActor } from "@/lib/auth/session";
import { getExport } from "@/lib/reports";

export const dynamic = "force-dynamic";

// GET /api/v1/reports/exports/<id> — one export record: status, row count and the SHA-256 of the bytes sent.
export const GET = routeHandler<{ params: Promise<{ id: string }> }>(async (req, { params }) =>
  getExport(await requestActor(req), (await params).id),
);
