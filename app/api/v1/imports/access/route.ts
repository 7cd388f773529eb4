import { requestActor } from "@/lib/auth/session";
import { routeHandler } from "@/lib/auth/http";
import { accessImportFromRequest } from "@/lib/access-import/http";

// POST /api/v1/imports/access — service token with imports:write, or an admin's session (the upload page).
export const POST = routeHandler(async (req) => accessImportFromRequest(await requestActor(req), req));
