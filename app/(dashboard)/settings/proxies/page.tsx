import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Badge } from "@/components/badge";
import { can } from "@/lib/auth/actor";
import { currentActor, requirePageActor } from "@/lib/auth/session";
import { AppError } from "@/lib/errors";
import { createProxy, deleteProxy, listProxies } from "@/lib/enforcement/proxies";
import { queueFilterOptions } from "@/lib/review";

export const metadata: Metadata = { title: "Enforcement proxies" };
export const dynamic = "force-dynamic";

async function withResult(fn: () => Promise<unknown>, ok: string) {
  let target = `/settings/proxies?saved=${encodeURIComponent(ok)}`;
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    target = `/settings/proxies?error=${encodeURIComponent(e.message)}`;
  }
  redirect(target);
}

async function addProxy(form: FormData) {
  "use server";
  const actor = await currentActor();
  const input = Object.fromEntries(["name", "adminUrl", "adminToken", "environmentId"].map((k) => [k, String(form.get(k) ?? "")]));
  await withResult(() => createProxy(actor, input), `Proxy ${input.name} added`);
}

async function removeProxy(form: FormData) {
  "use server";
  const actor = await currentActor();
  await withResult(() => deleteProxy(actor, { id: String(form.get("id") ?? "") }), "Proxy removed");
}

export default async function ProxiesPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const actor = await requirePageActor();
  // Like the other admin pages: a polite refusal, not the 500 listProxies' forbidden error became.
  if (!can(actor, "proxies:manage")) return <p role="alert">Enforcement proxies are managed by admins only.</p>;
  const sp = await searchParams;
  const [proxies, options] = await Promise.all([listProxies(actor), queueFilterOptions(actor)]);
  return (
    <div className="max-w-4xl space-y-4">
      <h1 className="text-xl font-semibold">Enforcement proxies</h1>
      <p className="text-sm text-slate-600">Every decision is delivered to each proxy serving the grant&apos;s environment; it counts as enforced once all of them acknowledged it.</p>
      {sp.saved ? <p role="status" className="rounded bg-emerald-50 p-2 text-sm text-emerald-800">{sp.saved}</p> : null}
      {sp.error ? <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">{sp.error}</p> : null}
      <table className="w-full rounded border border-slate-200 bg-white text-left text-sm" data-testid="proxies-table">
        <thead className="bg-slate-50 text-xs uppercase text-slate-500">
          <tr>
            <th className="px-2 py-1">Name</th>
            <th className="px-2 py-1">Admin URL</th>
            <th className="px-2 py-1">Environment</th>
            <th className="px-2 py-1">Revision</th>
            <th className="px-2 py-1">Last usage report</th>
            <th className="px-2 py-1">State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {proxies.map((p) => (
            <tr key={p.id} className="border-t border-slate-100">
              <td className="px-2 py-1">{p.name}</td>
              <td className="px-2 py-1 font-mono text-xs">{p.adminUrl}</td>
              <td className="px-2 py-1">{p.environment}</td>
              <td className="px-2 py-1">{p.lastRevision ?? "—"}</td>
              <td className="px-2 py-1">{p.lastReportAt ? p.lastReportAt.toISOString().replace("T", " ").slice(0, 16) : "never"}</td>
              <td className="px-2 py-1">
                {p.lastError ? <Badge tone="bad" title={p.lastError}>error</Badge> : <Badge tone="good">ok</Badge>}
                {p.pendingDeliveries ? <span className="ml-1 text-xs text-slate-500">{p.pendingDeliveries} pending</span> : null}
              </td>
              <td className="px-2 py-1">
                <form action={removeProxy}>
                  <input type="hidden" name="id" value={p.id} />
                  <button type="submit" className="text-xs text-red-700 underline">Remove</button>
                </form>
              </td>
            </tr>
          ))}
          {proxies.length === 0 ? (
            <tr>
              <td colSpan={7} className="px-2 py-3 text-slate-500">No proxy configured: decisions are recorded but not enforced anywhere.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <form action={addProxy} className="grid max-w-xl grid-cols-[10rem_1fr] items-center gap-2 rounded border border-slate-200 bg-white p-4 text-sm">
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
      </form>
    </div>
  );
}
