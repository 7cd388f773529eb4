"use client";
import { useState } from "react";
import { ActionForm } from "@/components/action-form";
import { requestAccessAction } from "@/app/(dashboard)/access/actions";
import { words } from "@/components/format";

interface Option {
  apis: { id: string; name: string; environment: { name: string; maxAccessHours: number | null }; scopes: { id: string; name: string; level: string }[] }[];
  principals: { id: string; displayName: string; kind: string }[];
  self: string | null;
}

const PRESETS = [
  ["1h", "1 hour"],
  ["8h", "8 hours"],
  ["1d", "1 day"],
  ["7d", "7 days"],
  ["30d", "30 days"],
  ["90d", "90 days"],
] as const;

export function RequestAccessForm({ options }: { options: Option }) {
  const [apiId, setApiId] = useState(options.apis[0]?.id ?? "");
  const [mode, setMode] = useState<"preset" | "date">("preset");
  const api = options.apis.find((a) => a.id === apiId);
  return (
    <ActionForm action={requestAccessAction} className="flex max-w-3xl flex-col gap-3 rounded border border-slate-200 bg-white p-3">
      <div className="flex flex-wrap gap-3">
        <label className="flex flex-col text-xs text-slate-600">
          For
          <select name="principalId" className="rounded border border-slate-300 px-2 py-1">
            {options.principals.map((p) => (
              <option key={p.id} value={p.id}>
                {p.id === options.self ? `myself (${p.displayName})` : `${p.displayName} (${words(p.kind)})`}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col text-xs text-slate-600">
          API
          <select name="apiId" value={apiId} onChange={(e) => setApiId(e.target.value)} className="rounded border border-slate-300 px-2 py-1">
            {options.apis.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} — {a.environment.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset className="flex flex-col gap-1">
        <legend className="text-xs font-medium text-slate-600">Scopes</legend>
        <div className="flex flex-wrap gap-3">
          {api?.scopes.map((s) => (
            <label key={s.id} className="flex items-center gap-1 font-mono text-xs">
              <input type="checkbox" name="scopeIds" value={s.id} /> {s.name}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset className="flex flex-wrap items-end gap-3">
        <legend className="text-xs font-medium text-slate-600">
          Duration {api?.environment.maxAccessHours ? `(at most ${api.environment.maxAccessHours} h in ${api.environment.name})` : ""}
        </legend>
        <label className="flex items-center gap-1 text-xs">
          <input type="radio" checked={mode === "preset"} onChange={() => setMode("preset")} /> preset
        </label>
        {mode === "preset" && (
          <select name="duration" aria-label="Duration" defaultValue="1h" className="rounded border border-slate-300 px-2 py-1">
            {PRESETS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        )}
        <label className="flex items-center gap-1 text-xs">
          <input type="radio" checked={mode === "date"} onChange={() => setMode("date")} /> until a date (UTC)
        </label>
        {mode === "date" && <input type="datetime-local" name="until" aria-label="Until (UTC)" className="rounded border border-slate-300 px-2 py-1" />}
      </fieldset>
      <label className="flex flex-col text-xs text-slate-600">
        Reason (required)
        <textarea name="reason" required maxLength={2000} rows={2} className="rounded border border-slate-300 px-2 py-1 text-sm" />
      </label>
      <button type="submit" className="self-start rounded bg-slate-900 px-3 py-1.5 text-white">
        Request access
      </button>
    </ActionForm>
  );
}
