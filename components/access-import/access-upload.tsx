"use client";
import { useState } from "react";
import { PlanUpload, type ImportPlan } from "@/components/imports/plan-upload";
import type { AccessPlan } from "@/lib/access-import/plan";

const KINDS = ["principal", "credential", "api", "scope", "endpoint", "grant"] as const;
const KIND_LABEL: Record<(typeof KINDS)[number], string> = { principal: "Consumers", credential: "Keys", api: "APIs", scope: "Scopes", endpoint: "Endpoints", grant: "Grants" };
/** The dry run's plan (lib/access-import/plan.ts); applying answers with the same plan and what was written. */
type Plan = AccessPlan & ImportPlan & { applied?: boolean };
type Note = AccessPlan["warnings"][number];

const FORMATS = {
  kong: { label: "Kong declarative configuration", input: "Kong file", accept: ".json,.yaml,.yml,application/json,application/yaml" },
  ndjson: { label: "Tollgate NDJSON", input: "NDJSON file", accept: ".ndjson,.jsonl,.json,application/x-ndjson" },
  csv: { label: "Tollgate CSV (one file per kind)", input: "CSV files", accept: ".csv,text/csv" },
} as const;
type Format = keyof typeof FORMATS;

/**
 * Upload a Kong file, an NDJSON file or CSV files (docs/IMPORT.md): the server
 * computes the plan (nothing written), the admin reads it with its risk summary,
 * and Apply sends the same files with the plan's hash, so a plan gone stale in
 * the meantime is refused (409). Changing the format starts over (a new picker).
 */
export function AccessUpload({ environments }: { environments: string[] }) {
  const [env, setEnv] = useState(environments[0] ?? "");
  const [format, setFormat] = useState<Format>("kong");
  return (
    <PlanUpload<Plan>
      key={format}
      id="access-import"
      title={FORMATS[format].label}
      testId="access-upload"
      fileLabel={FORMATS[format].input}
      accept={FORMATS[format].accept}
      multiple={format === "csv"}
      endpoint="/api/v1/imports/access"
      params={() => ({ format, env })}
      checkLabel="Show plan"
      ready={!!env}
      controls={
        <>
        <label className="flex items-center gap-1">
          Format
          <select value={format} onChange={(e) => setFormat(e.target.value as Format)} className="rounded border border-slate-300 px-1 py-0.5" aria-label="Format">
            {(Object.keys(FORMATS) as Format[]).map((f) => (
              <option key={f} value={f}>
                {FORMATS[f].label}
              </option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-1">
          Environment
          <select value={env} onChange={(e) => setEnv(e.target.value)} className="rounded border border-slate-300 px-1 py-0.5" aria-label="Environment">
            {environments.map((e) => (
              <option key={e}>{e}</option>
            ))}
          </select>
        </label>
        </>
      }
      planTestId="access-plan"
      renderPlan={(plan) => (
        <>
          {plan.empty ? <p>No changes: the inventory already matches this file.</p> : null}
          <table className="text-left text-sm" aria-label="Plan">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th className="pr-4">Kind</th>
                <th className="pr-4">Create</th>
                <th className="pr-4">Update</th>
                <th className="pr-4">Gone from source</th>
                <th className="pr-4">Unchanged</th>
              </tr>
            </thead>
            <tbody>
              {KINDS.map((k) => (
                <tr key={k}>
                  <td className="pr-4">{KIND_LABEL[k]}</td>
                  <td className="pr-4">{plan.counts[k].create}</td>
                  <td className="pr-4">{plan.counts[k].update}</td>
                  <td className="pr-4">{plan.counts[k].gone}</td>
                  <td className="pr-4">{plan.counts[k].unchanged}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div data-testid="risk-summary" className="rounded border border-amber-300 bg-amber-50 p-2">
            <h3 className="font-medium">Risk summary</h3>
            <ul className="list-disc pl-5">
              <li>Routes that accept requests with no key: {plan.risk.publicEndpoints.length}
                {plan.risk.publicEndpoints.length ? <span className="font-mono text-xs"> ({[...new Set(plan.risk.publicEndpoints.map((e) => e.path))].join(", ")})</span> : null}
              </li>
              <li>Keys that reach admin-level scopes: {plan.risk.adminKeyCount}
                {plan.risk.adminKeys.length ? <span className="font-mono text-xs"> ({plan.risk.adminKeys.slice(0, 20).map((k) => `${k.credential} of ${k.principal}`).join(", ")}{plan.risk.adminKeyCount > 20 ? `, and ${plan.risk.adminKeyCount - 20} more` : ""})</span> : null}
              </li>
              <li>Consumers with no owner: {plan.risk.consumersWithoutOwner}</li>
              <li>Keys with no expiry: {plan.risk.keysWithoutExpiry}</li>
              <li>Blocked endpoints: {plan.risk.blockedEndpoints}</li>
            </ul>
          </div>
          <ul className="max-h-80 overflow-y-auto font-mono text-xs">
            {KINDS.flatMap((k) => [
              ...plan.samples[k].create.map((r) => <li key={`c${k}${r.label}`} className="text-emerald-800">+ {KIND_LABEL[k]}: {r.label}</li>),
              ...plan.samples[k].update.map((r) => <li key={`u${k}${r.label}`} className="text-amber-800">~ {KIND_LABEL[k]}: {r.label} ({r.fields?.join(", ")})</li>),
              ...plan.samples[k].gone.map((r) => <li key={`g${k}${r.label}`} className="text-red-800">− {KIND_LABEL[k]}: {r.label} (gone from source: kept, raised for review)</li>),
            ])}
          </ul>
          {[["Conflicts", plan.conflicts], ["Not imported", plan.notImported], ["Warnings", plan.warnings]].map(([title, notes]) =>
            (notes as Note[]).length ? (
              <details key={title as string}>
                <summary>{title as string} ({(notes as Note[]).length})</summary>
                <ul className="font-mono text-xs">{(notes as Note[]).map((n, i) => <li key={i}>{n.where}: {n.message}</li>)}</ul>
              </details>
            ) : null,
          )}
        </>
      )}
      appliedMessage={(r) =>
        r.applied
          ? `Applied: ${KINDS.map((k) => `${r.counts[k].create} ${KIND_LABEL[k].toLowerCase()} created`).join(", ")}${r.findingsOpened ? `; ${r.findingsOpened} findings opened` : ""}.`
          : "Nothing to apply: the inventory already matches this file."
      }
    />
  );
}
