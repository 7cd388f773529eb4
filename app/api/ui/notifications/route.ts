import { routeHandler } from "@/lib/auth/http";
import { currentActor } from "@/lib/auth/session";
import { listNotifications } from "@/lib/notifications";

export const dynamic = "force-dynamic";

// GET /api/ui/notifications — the bell's list for the signed-in user.
export const GET = routeHandler(async () => listNotifications(await currentActor()));
