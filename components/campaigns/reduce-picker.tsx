"use client";
import { useState } from "react";
import type { ScopeChoice } from "@/lib/campaigns/my-items";

const day = (d: Date | null) => (d ? new Date(d).toISOString().slice(0, 10) : "never");

/**
 * Which of the principal's scopes on this API a reduce keeps (the rest are
 * revoked), as in the review queue's finding panel: preselected are the ones
 * used within the dormancy window. Escape cancels; the submit button says why
 * it is disabled instead of failing on the server.
 */
export function ReducePicker({ scopes, itemScopeName, windowDays, busy, onReduce, onCancel }: { scopes: ScopeChoice[]; itemScopeName: string; windowDays: number; busy: boolean; onReduce: (keepScopeIds: string[]) => void; onCancel: () => void }) {
  const [keep, setKeep] = useState<string[]>(() => scopes.filter((s) => s.usedInWindow).map((s) => s.scopeId));
  const problem = keep.length === 0 ? "Keep at least one scope (to remove them all, revoke)." : keep.length === scopes.length ? "Uncheck at least one scope to remove (to keep everything, keep)." : null;
  return (
    <form
      className="flex flex-col gap-2 rounded border border-amber-300 bg-amber-50 p-3 text-sm"
      data-testid="reduce-picker"
      onSubmit={(e) => {
        e.preventDefault();
        if (!problem) onReduce(keep);
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") onCancel();
      }}
    >
      <fieldset className="flex flex-col gap-1">
        <legend className="mb-1 font-medium">Keep these scopes (the rest are revoked; used = within the last {windowDays} days)</legend>
        {scopes.map((s, i) => (
          <label key={s.scopeId} className="flex items-center gap-2">
            <input
              type="checkbox"
              name="keep"
              value={s.scopeId}
              autoFocus={i === 0}
              checked={keep.includes(s.scopeId)}
              onChange={(e) => setKeep((k) => (e.target.checked ? [...k, s.scopeId] : k.filter((x) => x !== s.scopeId)))}
            />
            <span className="font-mono text-xs">{s.name}</span>
            <span className="text-xs text-slate-500">{s.level}</span>
            {s.usedInWindow ? <span className="text-xs text-emerald-700">(used)</span> : <span className="text-xs text-slate-500">(unused, last used {day(s.lastUsedAt)})</span>}
            {s.name === itemScopeName ? <span className="text-xs text-slate-500">· this item</span> : null}
          </label>
        ))}
      </fieldset>
      {problem ? (
        <p className="text-xs text-amber-800" id="reduce-problem">
          {problem}
        </p>
      ) : null}
      <div className="flex gap-2">
        <button type="submit" disabled={busy || Boolean(problem)} aria-describedby={problem ? "reduce-problem" : undefined} className="rounded bg-amber-600 px-2 py-1 text-xs text-white disabled:opacity-40">
          Reduce to the checked scopes
        </button>
        <button type="button" onClick={onCancel} className="rounded border border-slate-300 bg-white px-2 py-1 text-xs">
          Cancel
        </button>
      </div>
    </form>
  );
}
