import { authorize } from "@/lib/auth/actor";
import { routeHandler } from "@/lib/auth/http";
import { requestActor } from "@/lib/auth/session";
import { inventoryOpenApi } from "@/lib/inventory/api/openapi";

// GET /api/v1/openapi.json — the inventory API's OpenAPI 3.1 description, generated from the
// zod schemas its routes validate with. For any signed-in role or an inventory:read service token.
export const GET = routeHandler(async (req) => {
  authorize(await requestActor(req), "inventory:read");
  return Response.json(inventoryOpenApi(), { headers: { "cache-control": "no-store" } });
});
