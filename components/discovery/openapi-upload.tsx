"use client";
import { useState } from "react";
import { PlanUpload, type ImportPlan } from "@/components/imports/plan-upload";

type Level = "read" | "write" | "admin";
interface Change {
  field: string;
  from: unknown;
  to: unknown;
}
interface Plan extends ImportPlan {
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
  applied?: boolean;
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
  const [confirmPublic, setConfirmPublic] = useState(false);
  const [newName, setNewName] = useState("");
  const [newEnvironment, setNewEnvironment] = useState(environments?.[0] ?? "");
  const apiName = fixedName ?? newName.trim();
  const environment = fixedEnvironment ?? newEnvironment;
  // Endpoints and scopes that would be deprecated while grants still use them: the admin types the API's name to apply.
  const [typedName, setTypedName] = useState("");
  const deprecatingWithGrants = (plan: Plan) =>
    plan.diff.endpoints.removed.filter((e) => e.action === "deprecate" && e.activeGrants > 0).length + plan.diff.scopes.removed.filter((x) => x.action === "deprecate" && x.activeGrants > 0).length;
  return (
    <PlanUpload<Plan>
      id="openapi-import"
      title={fixedName ? "Import an OpenAPI description" : "Add an API from its OpenAPI description"}
      testId="openapi-upload"
      fileLabel="OpenAPI file"
      endpoint="/api/v1/imports/openapi"
      params={(plan) => ({ api: apiName, env: environment, ...(plan && confirmPublic ? { confirmPublicWrites: "1" } : {}) })}
      checkLabel="Show changes"
      ready={Boolean(apiName && environment)}
      controls={
        fixedName ? null : (
          <>
            <label className="flex items-center gap-1">
              <span className="text-xs text-slate-600">API name</span>
              <input value={newName} onChange={(e) => setNewName(e.target.value)} required maxLength={100} className="rounded border border-slate-300 px-1" />
            </label>
            <label className="flex items-center gap-1">
              <span className="text-xs text-slate-600">Environment</span>
              <select value={newEnvironment} onChange={(e) => setNewEnvironment(e.target.value)} className="rounded border border-slate-300 px-1">
                {(environments ?? []).map((e) => (
                  <option key={e} value={e}>
                    {e}
                  </option>
                ))}
              </select>
            </label>
          </>
        )
      }
      planTestId="import-diff"
      onPlan={() => {
        setConfirmPublic(false);
        setTypedName("");
      }}
      canApply={(plan) => !(plan.security.newPublicWrites.length > 0 && !confirmPublic) && (deprecatingWithGrants(plan) === 0 || typedName.trim() === apiName)}
      renderPlan={(plan) => {
        const d = plan.diff;
        return (
          <>
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
            {deprecatingWithGrants(plan) > 0 ? (
              <label className="flex flex-wrap items-center gap-2 rounded border border-red-200 bg-red-50 px-2 py-1 text-red-800">
                {deprecatingWithGrants(plan)} endpoint{deprecatingWithGrants(plan) === 1 ? "" : "s"} or scope{deprecatingWithGrants(plan) === 1 ? "" : "s"} still held by active grants will be deprecated. Type the API name ({apiName}) to apply:
                <input value={typedName} onChange={(e) => setTypedName(e.target.value)} aria-label="Type the API name to confirm" className="rounded border border-slate-300 bg-white px-1 text-slate-900" />
              </label>
            ) : null}
          </>
        );
      }}
      appliedMessage={(r) => `Applied: ${r.diff.endpoints.added.length} endpoints added, ${r.diff.endpoints.changed.length} changed, ${r.diff.endpoints.removed.length} removed${r.findingsOpened ? `; ${r.findingsOpened} findings opened` : ""}.`}
    />
  );
}
