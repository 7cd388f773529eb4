import { routeHandler } from "@/lib/auth/http";
import { requestActor } from "@/lib/auth/session";
import { exportResponse } from "@/lib/reports/http";

export const dynamic = "force-dynamic";

// GET /api/v1/reports/<report>?format=csv|json|pdf&<filters> — a session with reports:export (admin, auditor)
// or a service token with the reports:export scope. Streams the file; see lib/reports.
export const GET = routeHandler<{ params: Promise<{ report: string }> }>(async (req, { params }) =>
  exportResponse(await requestActor(req), req, (await params).report),
);
