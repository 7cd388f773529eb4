import { inventoryRoutes } from "@/lib/inventory/api/http";

// GET, PATCH and DELETE /api/v1/endpoints/{id} — the inventory API (lib/inventory/api/operations.ts).
const routes = inventoryRoutes("/endpoints/{id}");
export const GET = routes.GET!;
export const PATCH = routes.PATCH!;
export const DELETE = routes.DELETE!;
