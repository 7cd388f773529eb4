"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";

const KINDS = ["principal", "credential", "api", "scope", "endpoint", "grant"] as const;
const KIND_LABEL: Record<(typeof KINDS)[number], string> = { principal: "Consumers", credential: "Keys", api: "APIs", scope: "Scopes", endpoint: "Endpoints", grant: "Grants" };
interface Row {
  label: string;
  fields?: string[];
}
interface Note {
  where: string;
  message: string;
}
interface Plan {
  source: { name: string; environment: string };
  counts: Record<string, { create: number; update: number; gone: number; unchanged: number }>;
  samples: Record<string, { create: Row[]; update: Row[]; gone: Row[] }>;
  risk: {
    publicEndpoints: { api: string; method: string; path: string }[];
    blockedEndpoints: number;
    adminKeys: { principal: string; credential: string; scopes: string[] }[];
    consumersWithoutOwner: number;
    keysWithoutExpiry: number;
  };
  conflicts: Note[];
  notImported: Note[];
  warnings: Note[];
  empty: boolean;
  planHash: string;
  applied?: boolean;
  findingsOpened?: number;
}

const FORMATS = {
  kong: { label: "Kong declarative configuration", input: "Kong file", accept: ".json,.yaml,.yml,application/json,application/yaml" },
  ndjson: { label: "Tollgate NDJSON", input: "NDJSON file", accept: ".ndjson,.jsonl,.json,application/x-ndjson" },
  csv: { label: "Tollgate CSV (one file per kind)", input: "CSV files", accept: ".csv,text/csv" },
} as const;
type Format = keyof typeof FORMATS;

/**
 * Upload a Kong file, an NDJSON file or CSV files (docs/IMPORT.md): the server
 * computes the plan (nothing written), the admin reads it with its risk
 * summary, and Apply sends the same files with the plan's hash, so a plan gone
 * stale in the meantime is refused (409).
 */
export function AccessUpload({ environments }: { environments: string[] }) {
  const router = useRouter();
  const [format, setFormat] = useState<Format>("kong");
  const [files, setFiles] = useState<File[]>([]);
  const [env, setEnv] = useState(environments[0] ?? "");
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  async function send(dryRun: boolean) {
    if (files.length === 0) return;
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      for (const f of files) form.append("file", f);
      const q = new URLSearchParams({ format, env, ...(dryRun ? { dryRun: "1" } : { planHash: plan!.planHash }) });
      const res = await fetch(`/api/v1/imports/access?${q}`, { method: "POST", body: form });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        setError(body?.error?.message ?? `Import failed (${res.status})`);
        if (res.status === 409) setPlan(null);
        return;
      }
      if (dryRun) setPlan(body as Plan);
      else {
        const r = body as Plan;
        setPlan(null);
        setFiles([]);
        setDone(
          r.applied
            ? `Applied: ${KINDS.map((k) => `${r.counts[k].create} ${KIND_LABEL[k].toLowerCase()} created`).join(", ")}${r.findingsOpened ? `; ${r.findingsOpened} findings opened` : ""}.`
            : "Nothing to apply: the inventory already matches this file.",
        );
        router.refresh();
      }
    } catch {
      setError("Network error: the import was not sent");
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="access-import" className="rounded border border-slate-200 bg-white p-3" data-testid="access-upload">
      <h2 id="access-import" className="mb-2 font-medium">{FORMATS[format].label}</h2>
      <div className="flex flex-wrap items-center gap-2">
        <label className="flex items-center gap-1">
          Format
          <select
            value={format}
            onChange={(e) => {
              setFormat(e.target.value as Format);
              setFiles([]);
              setPlan(null);
            }}
            className="rounded border border-slate-300 px-1 py-0.5"
            aria-label="Format"
          >
            {(Object.keys(FORMATS) as Format[]).map((f) => (
              <option key={f} value={f}>
                {FORMATS[f].label}
              </option>
            ))}
          </select>
        </label>
        <input
          key={format}
          type="file"
          multiple={format === "csv"}
          accept={FORMATS[format].accept}
          aria-label={FORMATS[format].input}
          onChange={(e) => {
            setFiles([...(e.target.files ?? [])]);
            setPlan(null);
            setDone(null);
            setError(null);
          }}
        />
        <label className="flex items-center gap-1">
          Environment
          <select value={env} onChange={(e) => setEnv(e.target.value)} className="rounded border border-slate-300 px-1 py-0.5" aria-label="Environment">
            {environments.map((e) => (
              <option key={e}>{e}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={files.length === 0 || !env || busy} onClick={() => send(true)} className="rounded bg-slate-800 px-3 py-1 text-white disabled:opacity-50">
          {busy && !plan ? "Checking…" : "Show plan"}
        </button>
      </div>
      {error ? <p role="alert" className="mt-2 whitespace-pre-wrap text-red-700">{error}</p> : null}
      {done ? <p role="status" className="mt-2 text-emerald-800">{done}</p> : null}
      {plan ? (
        <div className="mt-3 space-y-3" data-testid="access-plan">
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
              <li>Keys that reach admin-level scopes: {plan.risk.adminKeys.length}
                {plan.risk.adminKeys.length ? <span className="font-mono text-xs"> ({plan.risk.adminKeys.map((k) => `${k.credential} of ${k.principal}`).join(", ")})</span> : null}
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
          <div className="flex gap-2">
            <button type="button" disabled={busy || plan.empty} onClick={() => send(false)} className="rounded bg-emerald-700 px-3 py-1 text-white disabled:opacity-50">
              {busy ? "Applying…" : "Apply"}
            </button>
            <button type="button" disabled={busy} onClick={() => setPlan(null)} className="rounded border border-slate-300 px-3 py-1">
              Cancel
            </button>
          </div>
        </div>
      ) : null}
    </section>
  );
}
