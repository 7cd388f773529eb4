import { CellsTable, MONO } from "@/components/data-table/cells-table";
import type { Metadata } from "next";
import { ActionForm } from "@/components/action-form";
import { Badge } from "@/components/badge";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listProxies, type ProxyView } from "@/lib/enforcement/proxies";
import { queueFilterOptions } from "@/lib/review";
import { DeregisterProxy } from "@/components/settings/deregister-proxy";
import { ProxyControls } from "@/components/settings/proxy-controls";
import { addProxyAction, removeProxyAction } from "./actions";
import { stamp } from "@/components/format";

export const metadata: Metadata = { title: "Enforcement proxies" };
export const dynamic = "force-dynamic";

export default async function ProxiesPage() {
  const actor = await requirePageActor();
  const now = new Date();
  // Like the other admin pages: a polite refusal, not the 500 listProxies' forbidden error became.
  if (!can(actor, "proxies:manage")) return <p role="alert">Enforcement proxies are managed by admins only.</p>;
  const [proxies, options] = await Promise.all([listProxies(actor, undefined, now), queueFilterOptions(actor)]);
  return (
    <div className="max-w-5xl space-y-4">
      <h1 className="text-xl font-semibold">Enforcement proxies</h1>
      <p className="text-sm text-slate-600">Every decision is delivered to each proxy serving the grant&apos;s environment; it counts as enforced once all of them acknowledged it.</p>
      <CellsTable
        testId="proxies-table"
        label="Enforcement proxies"
        empty="No proxy configured: decisions are recorded but not enforced anywhere."
        columns={{ name: "Name", adminUrl: ["Admin URL", MONO], environment: "Environment", revision: "Revision", report: "Last usage report", state: "State", lag: "Lag", connection: "Connection", actions: "" }}
        rows={proxies.map((p) => ({
          id: p.id,
          cells: {
            name: p.name,
            adminUrl: p.adminUrl,
            environment: p.environment,
            revision: p.lastRevision,
            report: stamp(p.lastReportAt, "never"),
            state: <ProxyState proxy={p} />,
            lag: p.pendingDeliveries ? `${p.pendingDeliveries} pending · oldest ${formatLag(p.lagSeconds ?? 0)}` : "up to date",
            connection: <ProxyControls proxy={{ id: p.id, name: p.name, adminUrl: p.adminUrl, environmentId: p.environmentId }} environments={options.environments} />,
            actions: <DeregisterProxy action={removeProxyAction} proxy={{ id: p.id, name: p.name, pendingDeliveries: p.pendingDeliveries }} />,
          },
        }))}
      />
      <ActionForm action={addProxyAction} messageClassName="col-span-2" className="grid max-w-xl grid-cols-[10rem_1fr] items-center gap-2 rounded border border-slate-200 bg-white p-4 text-sm">
        <h2 className="col-span-2 font-medium">Add a proxy</h2>
        <label htmlFor="name">Name</label>
        <input id="name" name="name" required className="rounded border border-slate-300 px-1" />
        <label htmlFor="adminUrl">Admin URL</label>
        <input id="adminUrl" name="adminUrl" required placeholder="http://127.0.0.1:8081" className="rounded border border-slate-300 px-1" />
        <label htmlFor="adminToken">Admin token</label>
        <input id="adminToken" name="adminToken" type="password" required minLength={16} autoComplete="off" className="rounded border border-slate-300 px-1" />
        <label htmlFor="environmentId">Environment</label>
        <select id="environmentId" name="environmentId" required className="rounded border border-slate-300 px-1">
          {options.environments.map((e) => (
            <option key={e.id} value={e.id}>{e.name}</option>
          ))}
        </select>
        <div />
        <button type="submit" className="justify-self-start rounded bg-slate-800 px-3 py-1 text-white">Add proxy</button>
      </ActionForm>
    </div>
  );
}

function formatLag(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** Green only for a proxy that has answered: one never reached is grey, not "ok". */
function ProxyState({ proxy: p }: { proxy: ProxyView }) {
  const since = p.unreachableSince ? `unreachable since ${p.unreachableSince.toISOString().replace("T", " ").slice(0, 16)} UTC` : "";
  return (
    <span data-testid="proxy-health" data-health={p.health}>
      {p.health === "degraded" ? (
        <Badge tone="bad" title={p.lastError ?? undefined}>degraded · {since}</Badge>
      ) : p.health === "error" ? (
        <Badge tone="warn" title={p.lastError ?? undefined}>error</Badge>
      ) : p.health === "never_contacted" ? (
        <Badge tone="neutral" title="The dashboard has never had an answer from this proxy">never contacted</Badge>
      ) : (
        <Badge tone="good" title={p.lastSyncAt ? `last sync ${p.lastSyncAt.toISOString()}` : undefined}>ok</Badge>
      )}
    </span>
  );
}
