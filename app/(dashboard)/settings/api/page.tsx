import type { Metadata } from "next";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { inventoryOpenApi } from "@/lib/inventory/api/openapi";
import { InventoryApiReference } from "@/components/api-reference/inventory-api-reference";

export const metadata: Metadata = { title: "Inventory API" };
export const dynamic = "force-dynamic";

/** The inventory API's reference for admins: the same generated document as /api/v1/openapi.json. */
export default async function InventoryApiPage() {
  const actor = await requirePageActor();
  if (!can(actor, "tokens:manage")) return <p role="alert">The API reference is for admins.</p>;
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-xl font-semibold">Inventory API</h1>
      <p className="max-w-2xl text-slate-600">
        Automation reads and changes the inventory under <code>/api/v1</code> with a service token (scopes <code>inventory:read</code>,{" "}
        <code>inventory:write</code>; create one under Service tokens). The machine-readable description is at{" "}
        <a className="text-blue-700 underline" href="/api/v1/openapi.json">/api/v1/openapi.json</a>.
      </p>
      <InventoryApiReference document={inventoryOpenApi()} />
    </div>
  );
}
