import { routeHandler } from "@/lib/auth/http";
import { currentActor } from "@/lib/auth/session";
import { decisionStates } from "@/lib/review";

export const dynamic = "force-dynamic";

// GET /api/ui/decisions?ids=<id>,<id> — enforcement state of decisions the queue is waiting on (polled).
export const GET = routeHandler(async (req) => {
  const ids = (new URL(req.url).searchParams.get("ids") ?? "").split(",").filter(Boolean);
  return decisionStates(await currentActor(), ids);
});
