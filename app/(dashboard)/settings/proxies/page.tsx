import { CellsTable, MONO } from "@/components/data-table/cells-table";
import type { Metadata } from "next";
import { ActionForm, IdButtonForm } from "@/components/action-form";
import { Badge } from "@/components/badge";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listProxies } from "@/lib/enforcement/proxies";
import { queueFilterOptions } from "@/lib/review";
import { ProxyControls } from "@/components/settings/proxy-controls";
import { addProxyAction, removeProxyAction } from "./actions";
import { stamp } from "@/components/format";

export const metadata: Metadata = { title: "Enforcement proxies" };
export const dynamic = "force-dynamic";

export default async function ProxiesPage() {
  const actor = await requirePageActor();
  // Like the other admin pages: a polite refusal, not the 500 listProxies' forbidden error became.
  if (!can(actor, "proxies:manage")) return <p role="alert">Enforcement proxies are managed by admins only.</p>;
  const [proxies, options] = await Promise.all([listProxies(actor), queueFilterOptions(actor)]);
  return (
    <div className="max-w-5xl space-y-4">
      <h1 className="text-xl font-semibold">Enforcement proxies</h1>
      <p className="text-sm text-slate-600">Every decision is delivered to each proxy serving the grant&apos;s environment; it counts as enforced once all of them acknowledged it.</p>
      <CellsTable
        testId="proxies-table"
        label="Enforcement proxies"
        empty="No proxy configured: decisions are recorded but not enforced anywhere."
        columns={{ name: "Name", adminUrl: ["Admin URL", MONO], environment: "Environment", revision: "Revision", report: "Last usage report", state: "State", connection: "Connection", actions: "" }}
        rows={proxies.map((p) => ({
          id: p.id,
          cells: {
            name: p.name,
            adminUrl: p.adminUrl,
            environment: p.environment,
            revision: p.lastRevision,
            report: stamp(p.lastReportAt, "never"),
            state: (
              <>
                {/* Green only for a proxy that has answered: one never reached is grey, not "ok". */}
                {p.lastError ? (
                  <Badge tone="bad" title={p.lastError}>error</Badge>
                ) : p.lastSyncAt === null && p.lastRevision === null ? (
                  <Badge tone="neutral" title="The dashboard has never had an answer from this proxy">never contacted</Badge>
                ) : (
                  <Badge tone="good" title={p.lastSyncAt ? `last sync ${p.lastSyncAt.toISOString()}` : undefined}>ok</Badge>
                )}
                {p.pendingDeliveries ? <span className="ml-1 text-xs text-slate-500">{p.pendingDeliveries} pending</span> : null}
              </>
            ),
            connection: <ProxyControls proxy={{ id: p.id, name: p.name, adminUrl: p.adminUrl, environmentId: p.environmentId }} environments={options.environments} />,
            actions: (
              <IdButtonForm action={removeProxyAction} name="id" value={p.id} buttonClassName="text-xs text-red-700 underline">
                Remove
              </IdButtonForm>
            ),
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
