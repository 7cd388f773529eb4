import { inventoryRoutes } from "@/lib/inventory/api/http";

// GET (list) and POST (create) /api/v1/principals — the inventory API (lib/inventory/api/operations.ts; docs at /api/v1/openapi.json).
const routes = inventoryRoutes("/principals");
export const GET = routes.GET!;
export const POST = routes.POST!;
