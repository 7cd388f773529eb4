import type { Metadata } from "next";
import Link from "next/link";
import { Badge } from "@/components/badge";
import { CellsTable, NUMERIC } from "@/components/data-table/cells-table";
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
        <CellsTable
          testId="apis-table"
          label="APIs"
          columns={{ api: "API", environment: "Environment", owner: ["Owner", { className: "text-slate-600" }], baseUrl: ["Base URL", { className: "font-mono text-xs text-slate-600" }], endpoints: ["Endpoints", NUMERIC], scopes: ["Scopes", NUMERIC], grants: ["Active grants", NUMERIC] }}
          rows={apis.map((a) => ({
            id: a.id,
            cells: {
              api: (
                <>
                  <Link href={`/apis/${a.id}`} className="font-medium text-sky-800 hover:underline">{a.name}</Link>
                  {a.description ? <span className="ml-2 text-slate-500">{a.description}</span> : null}
                </>
              ),
              environment: <Badge tone={a.environment === "production" ? "info" : "neutral"}>{a.environment}</Badge>,
              owner: a.team,
              baseUrl: a.baseUrl,
              endpoints: number(a.endpoints),
              scopes: number(a.scopes),
              grants: <Link href={`/grants?api=${a.id}&status=active`} className="text-sky-800 hover:underline">{number(a.activeGrants)}</Link>,
            },
          }))}
        />
      )}
    </div>
  );
}
