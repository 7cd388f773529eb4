"use client";
import { useState, useTransition } from "react";
import { setScopeLevelAction } from "@/app/(dashboard)/discovery/actions";

type Level = "read" | "write" | "admin";

/** Corrects an inferred scope level; the change is audited and kept across re-imports. */
export function ScopeLevelSelect({ scopeId, level }: { scopeId: string; level: Level }) {
  const [value, setValue] = useState<Level>(level);
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  return (
    <span className="inline-flex items-center gap-1">
      <select
        aria-label="Scope level"
        value={value}
        disabled={pending}
        onChange={(e) => {
          const next = e.target.value as Level;
          const prev = value;
          setValue(next);
          start(async () => {
            const r = await setScopeLevelAction({ scopeId, level: next });
            if (!r.ok) {
              setValue(prev);
              setError(r.error.message);
            } else setError(null);
          });
        }}
        className="rounded border border-slate-300 px-1 py-0.5 text-xs"
      >
        <option value="read">read</option>
        <option value="write">write</option>
        <option value="admin">admin</option>
      </select>
      {error ? <span role="alert" className="text-xs text-red-700">{error}</span> : null}
    </span>
  );
}
