"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";

type Level = "read" | "write" | "admin";
interface Change {
  field: string;
  from: unknown;
  to: unknown;
}
interface Plan {
  api: { name: string; environment: string; create: boolean };
  document: { version: string; label: string; title: string; operations: number };
  diff: {
    endpoints: {
      added: { method: string; pathTemplate: string; public: boolean; requirements: string[][]; scopeLevels: Record<string, Level> }[];
      changed: { method: string; pathTemplate: string; changes: Change[] }[];
      removed: { method: string; pathTemplate: string; action: "delete" | "deprecate"; activeGrants: number }[];
      unchanged: number;
    };
    scopes: {
      added: { name: string; level: Level; evidence?: string[] }[];
      changed: { name: string; level: Level; changes: Change[] }[];
      removed: { name: string; level: Level; action: "delete" | "deprecate"; activeGrants: number }[];
      unchanged: number;
    };
  };
  security: { publicReads: number; publicWrites: number; newPublicWrites: string[]; noSecurity: number; messages: string[] };
  empty: boolean;
  planHash: string;
  applied?: boolean;
  findingsOpened?: number;
}

const fmt = (v: unknown) => (Array.isArray(v) ? v.join(", ") || "—" : v === null || v === undefined ? "—" : String(v));

/**
 * Upload an OpenAPI description for this API: the server computes the diff
 * (nothing written), the admin reviews it, and Apply sends the same file with
 * the plan's hash, so a plan gone stale in the meantime is refused (409).
 */
export function OpenApiUpload({
  apiName: fixedName,
  environment: fixedEnvironment,
  environments,
}: {
  /** The API this page is about; without it the admin names a new API (the "Add API" form on /apis). */
  apiName?: string;
  environment?: string;
  environments?: string[];
}) {
  const router = useRouter();
  const [newName, setNewName] = useState("");
  const [newEnvironment, setNewEnvironment] = useState(environments?.[0] ?? "");
  const apiName = fixedName ?? newName.trim();
  const environment = fixedEnvironment ?? newEnvironment;
  // Endpoints and scopes that would be deprecated while grants still use them: the admin types the API's name to apply.
  const [typedName, setTypedName] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [confirmPublic, setConfirmPublic] = useState(false);

  async function send(dryRun: boolean) {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      form.set("file", file);
      const q = new URLSearchParams({
        api: apiName,
        env: environment,
        ...(dryRun ? { dryRun: "1" } : { planHash: plan!.planHash, ...(confirmPublic ? { confirmPublicWrites: "1" } : {}) }),
      });
      const res = await fetch(`/api/v1/imports/openapi?${q}`, { method: "POST", body: form });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        setError(body?.error?.message ?? `Import failed (${res.status})`);
        if (res.status === 409) setPlan(null);
        return;
      }
      if (dryRun) {
        setPlan(body as Plan);
        setConfirmPublic(false);
        setTypedName("");
      }
      else {
        setPlan(null);
        setFile(null);
        setDone(`Applied: ${(body as Plan).diff.endpoints.added.length} endpoints added, ${(body as Plan).diff.endpoints.changed.length} changed, ${(body as Plan).diff.endpoints.removed.length} removed${(body as Plan).findingsOpened ? `; ${(body as Plan).findingsOpened} findings opened` : ""}.`);
        router.refresh();
      }
    } catch {
      setError("Network error: the import was not sent");
    } finally {
      setBusy(false);
    }
  }

  const d = plan?.diff;
  const deprecatingWithGrants = d
    ? d.endpoints.removed.filter((e) => e.action === "deprecate" && e.activeGrants > 0).length + d.scopes.removed.filter((x) => x.action === "deprecate" && x.activeGrants > 0).length
    : 0;
  const deprecationConfirmed = deprecatingWithGrants === 0 || typedName.trim() === apiName;
  return (
    <section aria-labelledby="openapi-import" className="rounded border border-slate-200 bg-white p-3" data-testid="openapi-upload">
      <h2 id="openapi-import" className="mb-2 font-medium">{fixedName ? "Import an OpenAPI description" : "Add an API from its OpenAPI description"}</h2>
      <div className="flex flex-wrap items-center gap-2">
        {fixedName ? null : (
          <>
            <label className="flex items-center gap-1">
              <span className="text-xs text-slate-600">API name</span>
              <input value={newName} onChange={(e) => { setNewName(e.target.value); setPlan(null); }} required maxLength={100} className="rounded border border-slate-300 px-1" />
            </label>
            <label className="flex items-center gap-1">
              <span className="text-xs text-slate-600">Environment</span>
              <select value={newEnvironment} onChange={(e) => { setNewEnvironment(e.target.value); setPlan(null); }} className="rounded border border-slate-300 px-1">
                {(environments ?? []).map((e) => (
                  <option key={e} value={e}>
                    {e}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
        <input
          type="file"
          accept=".json,.yaml,.yml,application/json,application/yaml"
          aria-label="OpenAPI file"
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setPlan(null);
            setDone(null);
            setError(null);
          }}
        />
        <button type="button" disabled={!file || busy || !apiName || !environment} onClick={() => send(true)} className="rounded bg-slate-800 px-3 py-1 text-white disabled:opacity-50">
          {busy && !plan ? "Checking…" : "Show changes"}
        </button>
      </div>
      {error ? <p role="alert" className="mt-2 text-red-700">{error}</p> : null}
      {done ? <p role="status" className="mt-2 text-emerald-800">{done}</p> : null}
      {plan && d ? (
        <div className="mt-3 space-y-2" data-testid="import-diff">
          <p className="text-slate-600">
            {plan.document.title || "Untitled"} · {plan.document.label} · {plan.document.operations} operations ·{" "}
            endpoints +{d.endpoints.added.length} ~{d.endpoints.changed.length} −{d.endpoints.removed.length} ={d.endpoints.unchanged} · scopes +
            {d.scopes.added.length} ~{d.scopes.changed.length} −{d.scopes.removed.length}
          </p>
          {plan.empty ? <p>No changes: the inventory already matches this description.</p> : null}
          {plan.security.messages.length ? (
            <ul className="list-disc pl-5 text-amber-900" data-testid="import-security">
              {plan.security.messages.map((m) => <li key={m}>{m}</li>)}
            </ul>
          ) : null}
          {plan.security.newPublicWrites.length ? (
            <label className="flex items-center gap-2 text-red-800">
              <input type="checkbox" checked={confirmPublic} onChange={(e) => setConfirmPublic(e.target.checked)} />
              I confirm that {plan.security.newPublicWrites.length} write operation{plan.security.newPublicWrites.length === 1 ? "" : "s"} ({plan.security.newPublicWrites.slice(0, 3).join(", ")}
              {plan.security.newPublicWrites.length > 3 ? ", …" : ""}) may be called without any credential
            </label>
          ) : null}
          <ul className="max-h-80 overflow-y-auto font-mono text-xs">
            {d.endpoints.added.map((e) => (
              <li key={`a ${e.method} ${e.pathTemplate}`} className="text-emerald-800">
                + {e.method} {e.pathTemplate} {e.public ? "(public)" : e.requirements.map((set) => set.map((s) => `${s}[${e.scopeLevels[s]}]`).join(" AND ")).join(" or ")}
              </li>
            ))}
            {d.endpoints.changed.map((e) => (
              <li key={`c ${e.method} ${e.pathTemplate}`} className="text-amber-800">
                ~ {e.method} {e.pathTemplate}: {e.changes.map((c) => `${c.field} ${fmt(c.from)} → ${fmt(c.to)}`).join("; ")}
              </li>
            ))}
            {d.endpoints.removed.map((e) => (
              <li key={`r ${e.method} ${e.pathTemplate}`} className="text-red-800">
                − {e.method} {e.pathTemplate} ({e.action === "deprecate" ? `kept as deprecated: ${e.activeGrants} active grants` : "deleted"})
              </li>
            ))}
            {d.scopes.added.map((s) => (
              <li key={`sa ${s.name}`} className="text-emerald-800">
                + scope {s.name} [{s.level}]{s.evidence?.length ? <span className="text-slate-500"> — {s.evidence.join("; ")}</span> : null}
              </li>
            ))}
            {d.scopes.changed.map((s) => <li key={`sc ${s.name}`} className="text-amber-800">~ scope {s.name}: {s.changes.map((c) => c.field).join(", ")}</li>)}
            {d.scopes.removed.map((s) => (
              <li key={`sr ${s.name}`} className="text-red-800">
                − scope {s.name} [{s.level}] ({s.action === "deprecate" ? `deprecated; ${s.activeGrants} active grants get a finding` : "deleted"})
              </li>
            ))}
          </ul>
          {plan.api.create ? <p className="text-emerald-800">A new API “{plan.api.name}” will be created in {plan.api.environment}.</p> : null}
          {deprecatingWithGrants > 0 ? (
            <label className="flex flex-wrap items-center gap-2 rounded border border-red-200 bg-red-50 px-2 py-1 text-red-800">
              {deprecatingWithGrants} endpoint{deprecatingWithGrants === 1 ? "" : "s"} or scope{deprecatingWithGrants === 1 ? "" : "s"} still held by active grants will be deprecated. Type the API name ({apiName}) to apply:
              <input value={typedName} onChange={(e) => setTypedName(e.target.value)} aria-label="Type the API name to confirm" className="rounded border border-slate-300 bg-white px-1 text-slate-900" />
            </label>
          ) : null}
          <div className="flex gap-2">
            <button type="button" disabled={busy || plan.empty || !deprecationConfirmed || (plan.security.newPublicWrites.length > 0 && !confirmPublic)} onClick={() => send(false)} className="rounded bg-emerald-700 px-3 py-1 text-white disabled:opacity-50">
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
