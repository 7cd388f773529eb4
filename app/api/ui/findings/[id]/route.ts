import { routeHandler } from "@/lib/auth/http";
import { currentActor } from "@/lib/auth/session";
import { getFindingDetail } from "@/lib/review";

export const dynamic = "force-dynamic";

// GET /api/ui/findings/<id> — the queue's detail panel (session only: a dashboard read, not the public API).
export const GET = routeHandler<{ params: Promise<{ id: string }> }>(async (_req, { params }) => getFindingDetail(await currentActor(), (await params).id));
