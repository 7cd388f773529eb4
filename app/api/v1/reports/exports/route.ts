import { routeHandler } from "@/lib/auth/http";
import { requestActor } from "@/lib/auth/session";
import { fromZod } from "@/lib/errors";
import { exportListQuery, listExports } from "@/lib/reports";

export const dynamic = "force-dynamic";

// GET /api/v1/reports/exports?page=&perPage= — past exports with their SHA-256, newest first.
export const GET = routeHandler(async (req) => {
  const actor = await requestActor(req);
  const q = exportListQuery.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!q.success) throw fromZod(q.error);
  return listExports(actor, q.data);
});
