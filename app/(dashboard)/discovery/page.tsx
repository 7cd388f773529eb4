import type { Metadata } from "next";
import { EmptyState } from "@/components/empty-state";
import { ShadowTable } from "@/components/discovery/shadow-table";
import { ZombieTable } from "@/components/discovery/zombie-table";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listEndpointFindings, listShadowEndpoints, listZombieEndpoints, ZOMBIE_WINDOW_DAYS } from "@/lib/discovery";
import { stamp } from "@/components/format";

export const metadata: Metadata = { title: "Discovery" };
export const dynamic = "force-dynamic";

const when = (d: Date) => stamp(d);
const RULE = { public_write: "Public write in production", zombie_traffic: "Zombie endpoint with traffic" } as const;

export default async function DiscoveryPage() {
  const actor = await requirePageActor();
  const [rows, zombies, findings] = await Promise.all([listShadowEndpoints(actor, {}), listZombieEndpoints(actor, {}), listEndpointFindings(actor, {})]);
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-xl font-semibold">Discovery</h1>
        <p className="text-slate-600">What the proxies see that the API descriptions do not say: endpoint findings, zombie endpoints and shadow endpoints.</p>
      </div>
      <section className="space-y-2" aria-labelledby="endpoint-findings">
        <h2 id="endpoint-findings" className="text-lg font-semibold">Endpoint findings</h2>
        <p className="text-slate-600">Write operations anyone can call in production, and zombie endpoints still receiving traffic.</p>
        {findings.length === 0 ? (
          <EmptyState title="No open endpoint findings" />
        ) : (
          <ul className="divide-y divide-slate-100 rounded border border-slate-200 bg-white" data-testid="endpoint-findings">
            {findings.map((f) => (
              <li key={f.id} className="flex flex-wrap items-center gap-2 px-3 py-1.5">
                <span className="rounded bg-red-100 px-1 text-xs text-red-800">{f.severity}</span>
                <span className="text-sm">{RULE[f.rule]}</span>
                <code className="font-mono text-xs">{f.method} {f.pathTemplate}</code>
                <span className="text-xs text-slate-500">{f.apiName} ({f.environment}) · opened {when(f.openedAt)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="space-y-2" aria-labelledby="zombies">
        <h2 id="zombies" className="text-lg font-semibold">Zombie endpoints</h2>
        <p className="text-slate-600">
          Endpoints no longer in their API&apos;s description, kept because their scopes are held, that still receive traffic or still have holders.
          Stopping routing removes the route from the proxies: they then answer it like an unknown path.
        </p>
        {zombies.length === 0 ? (
          <EmptyState title="No zombie endpoints" />
        ) : (
          <ZombieTable
            windowDays={ZOMBIE_WINDOW_DAYS}
            items={zombies.map((z) => ({
              id: z.id,
              environment: z.environment,
              apiName: z.apiName,
              method: z.method,
              pathTemplate: z.pathTemplate,
              deprecated: when(z.deprecatedAt),
              requestsInWindow: z.requestsInWindow,
              lastSeen: z.lastSeenAt ? when(z.lastSeenAt) : "—",
              activeGrants: z.activeGrants,
              routingStopped: z.routingStoppedAt ? `${when(z.routingStoppedAt)} by ${z.routingStoppedBy ?? "?"}` : null,
              hasFinding: z.openFindingId !== null,
            }))}
            canStop={can(actor, "inventory:write")}
          />
        )}
      </section>

      <section className="space-y-2" aria-labelledby="shadow">
        <h2 id="shadow" className="text-lg font-semibold">Shadow endpoints</h2>
        <p className="text-slate-600">Requests the proxies saw that match no documented route (ids and numbers folded into {"{param}"}).</p>
        {rows.length === 0 ? (
          <EmptyState title="No undocumented traffic reported" />
        ) : (
          <ShadowTable
            items={rows.map((r) => ({ ...r, firstSeen: when(r.firstSeenAt), lastSeen: when(r.lastSeenAt) }))}
            canAdd={can(actor, "inventory:write")}
            canDismiss={can(actor, "discovery:triage")}
          />
        )}
      </section>
    </div>
  );
}
