import type { Metadata } from "next";
import { AccessUpload } from "@/components/access-import/access-upload";
import { CellsTable, NUMERIC } from "@/components/data-table/cells-table";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listImportTargets } from "@/lib/access-import/sources";
import { ActionForm } from "@/components/action-form";
import { autoRollbackAction } from "./actions";

export const metadata: Metadata = { title: "Import access" };
export const dynamic = "force-dynamic";

export default async function ImportsPage() {
  const actor = await requirePageActor();
  if (!can(actor, "imports:write")) return <p role="alert">Importing access is for admins only.</p>;
  const { environments, sources } = await listImportTargets(actor);
  return (
    <div className="flex flex-col gap-5">
      <div>
        <h1 className="text-xl font-semibold">Import access</h1>
        <p className="max-w-3xl text-slate-600">
          Bring the consumers, keys, ACL groups and routes of the gateway you run today into Tollgate. Upload a Kong declarative
          configuration (kong.yml or JSON), or Tollgate&apos;s own NDJSON file or CSV files (one per kind: principals.csv, apis.csv, scopes.csv,
          endpoints.csv, credentials.csv, grants.csv; see docs/IMPORT.md); Tollgate shows the plan and its risks first and writes nothing until you apply it.
          Keys are hashed on arrival and never shown again. The same import from the command line:{" "}
          <code className="rounded bg-slate-100 px-1">npm run import:access -- kong.yml --env production</code>.
        </p>
      </div>
      <AccessUpload environments={environments} />
      {sources.length > 0 ? (
        <CellsTable
          label="Import sources"
          testId="import-sources"
          columns={{ name: "Source", format: "Format", environment: "Environment", lastApplied: "Last applied", gone: ["Gone from source", NUMERIC], rollback: "Granted outside review" }}
          rows={sources.map((s) => ({
            id: s.name,
            cells: { name: s.name, format: s.format, environment: s.environment, lastApplied: s.lastAppliedAt ? s.lastAppliedAt.replace("T", " ").slice(0, 16) : "never", gone: s.goneObjects, rollback: <AutoRollbackForm source={s.name} on={s.autoRollback} /> },
          }))}
        />
      ) : null}
    </div>
  );
}

/**
 * A later import of a source that shows grants or keys it never brought in before opens
 * granted_outside_review findings; with this on, they are also revoked right after the import.
 */
function AutoRollbackForm({ source, on }: { source: string; on: boolean }) {
  return (
    <ActionForm action={autoRollbackAction} className="flex flex-col gap-1">
      <input type="hidden" name="source" value={source} />
      {on ? null : <input type="hidden" name="enabled" value="on" />}
      <span className="text-xs text-slate-600">{on ? "rolled back automatically" : "findings for a reviewer"}</span>
      <button type="submit" className="self-start rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50">
        {on ? "Turn automatic rollback off" : "Roll back automatically"}
      </button>
    </ActionForm>
  );
}
