import { inventoryRoutes } from "@/lib/inventory/api/http";

// GET, PATCH and DELETE /api/v1/grants/{id} — the inventory API (lib/inventory/api/operations.ts).
const routes = inventoryRoutes("/grants/{id}");
export const GET = routes.GET!;
export const PATCH = routes.PATCH!;
export const DELETE = routes.DELETE!;
