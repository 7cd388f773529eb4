import type { Metadata } from "next";
import Link from "next/link";
import { Badge } from "@/components/badge";
import { EmptyState } from "@/components/empty-state";
import { number } from "@/components/format";
import { requirePageActor } from "@/lib/auth/session";
import { listApis } from "@/lib/inventory";
import { can } from "@/lib/auth/actor";
import { queueFilterOptions } from "@/lib/review";
import { OpenApiUpload } from "@/components/discovery/openapi-upload";

export const metadata: Metadata = { title: "APIs" };
export const dynamic = "force-dynamic";

export default async function ApisPage() {
  const actor = await requirePageActor();
  const apis = await listApis(actor);
  const canImport = can(actor, "imports:write");
  const environments = canImport ? (await queueFilterOptions(actor)).environments.map((e) => e.name) : [];
  return (
    <div className="space-y-3">
      <h1 className="text-xl font-semibold">APIs</h1>
      {canImport ? (
        <details id="add-api" className="group">
          <summary className="inline-block cursor-pointer rounded bg-slate-800 px-3 py-1 text-sm text-white hover:bg-slate-700">Add API</summary>
          <div className="mt-2">
            <OpenApiUpload environments={environments} />
          </div>
        </details>
      ) : null}
      {apis.length === 0 ? (
        <EmptyState title="No APIs in the inventory yet">Import an OpenAPI document, or load the demo with <code>npm run seed</code>.</EmptyState>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left" data-testid="apis-table">
            <thead className="border-b border-slate-200 bg-slate-50 text-xs font-medium uppercase tracking-wide text-slate-500">
              <tr>
                <th scope="col" className="px-3 py-2">API</th>
                <th scope="col" className="px-3 py-2">Environment</th>
                <th scope="col" className="px-3 py-2">Owner</th>
                <th scope="col" className="px-3 py-2">Base URL</th>
                <th scope="col" className="px-3 py-2 text-right">Endpoints</th>
                <th scope="col" className="px-3 py-2 text-right">Scopes</th>
                <th scope="col" className="px-3 py-2 text-right">Active grants</th>
              </tr>
            </thead>
            <tbody>
              {apis.map((a) => (
                <tr key={a.id} className="border-b border-slate-100 last:border-0 hover:bg-slate-50">
                  <td className="px-3 py-1.5">
                    <Link href={`/apis/${a.id}`} className="font-medium text-sky-800 hover:underline">{a.name}</Link>
                    {a.description ? <span className="ml-2 text-slate-500">{a.description}</span> : null}
                  </td>
                  <td className="px-3 py-1.5"><Badge tone={a.environment === "production" ? "info" : "neutral"}>{a.environment}</Badge></td>
                  <td className="px-3 py-1.5 text-slate-600">{a.team ?? "—"}</td>
                  <td className="px-3 py-1.5 font-mono text-xs text-slate-600">{a.baseUrl}</td>
                  <td className="px-3 py-1.5 text-right tabular-nums">{number(a.endpoints)}</td>
                  <td className="px-3 py-1.5 text-right tabular-nums">{number(a.scopes)}</td>
                  <td className="px-3 py-1.5 text-right tabular-nums">
                    <Link href={`/grants?api=${a.id}&status=active`} className="text-sky-800 hover:underline">{number(a.activeGrants)}</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
