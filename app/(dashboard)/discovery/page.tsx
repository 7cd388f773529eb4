import type { Metadata } from "next";
import { EmptyState } from "@/components/empty-state";
import { ShadowTable } from "@/components/discovery/shadow-table";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listShadowEndpoints } from "@/lib/discovery";

export const metadata: Metadata = { title: "Discovery" };
export const dynamic = "force-dynamic";

const when = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16);

export default async function DiscoveryPage() {
  const actor = await requirePageActor();
  const rows = await listShadowEndpoints(actor, {});
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-xl font-semibold">Shadow endpoints</h1>
        <p className="text-slate-600">Requests the proxies saw that match no documented route (ids and numbers folded into {"{param}"}).</p>
      </div>
      {rows.length === 0 ? (
        <EmptyState title="No undocumented traffic reported" />
      ) : (
        <ShadowTable
          items={rows.map((r) => ({ ...r, firstSeen: when(r.firstSeenAt), lastSeen: when(r.lastSeenAt) }))}
          canAdd={can(actor, "inventory:write")}
          canDismiss={can(actor, "discovery:triage")}
        />
      )}
    </div>
  );
}
