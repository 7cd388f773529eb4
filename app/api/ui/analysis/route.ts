import { routeHandler } from "@/lib/auth/http";
import { currentActor } from "@/lib/auth/session";
import { latestAnalysisRun } from "@/lib/analysis";

export const dynamic = "force-dynamic";

// GET /api/ui/analysis — the latest analysis run with its progress (polled while one runs).
export const GET = routeHandler(async () => latestAnalysisRun(await currentActor()));
