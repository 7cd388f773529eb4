import type { Metadata } from "next";
import { AccessUpload } from "@/components/access-import/access-upload";
import { can } from "@/lib/auth/actor";
import { requirePageActor } from "@/lib/auth/session";
import { listImportTargets } from "@/lib/access-import/sources";

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
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left" aria-label="Import sources">
            <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase text-slate-500">
              <tr>
                <th className="px-3 py-2">Source</th>
                <th className="px-3 py-2">Format</th>
                <th className="px-3 py-2">Environment</th>
                <th className="px-3 py-2">Last applied</th>
                <th className="px-3 py-2">Gone from source</th>
              </tr>
            </thead>
            <tbody>
              {sources.map((s) => (
                <tr key={s.name} className="border-b border-slate-100">
                  <td className="px-3 py-2">{s.name}</td>
                  <td className="px-3 py-2">{s.format}</td>
                  <td className="px-3 py-2">{s.environment}</td>
                  <td className="px-3 py-2">{s.lastAppliedAt ? s.lastAppliedAt.replace("T", " ").slice(0, 16) : "never"}</td>
                  <td className="px-3 py-2">{s.goneObjects}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
