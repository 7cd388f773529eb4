import { requestActor } from "@/lib/auth/session";
import { routeHandler } from "@/lib/auth/http";
import { importFromRequest } from "@/lib/discovery/openapi/http";

// POST /api/v1/imports/openapi — service token with imports:write, or an admin's session (the upload UI).
export const POST = routeHandler(async (req) => importFromRequest(await requestActor(req), req));
