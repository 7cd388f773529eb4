"use client";
import { useState, useTransition } from "react";
import { addShadowAction, dismissShadowAction } from "@/app/(dashboard)/discovery/actions";
import type { ActionResult } from "@/lib/action";

export interface ShadowItem {
  id: string;
  environment: string;
  apiName: string | null;
  method: string;
  path: string;
  requestCount: number;
  distinctKeys: number;
  firstSeen: string;
  lastSeen: string;
}

/** Undocumented traffic per API; admins add a row to the inventory or dismiss it with a reason. */
export function ShadowTable({
  items,
  canAdd,
  canDismiss,
}: {
  items: ShadowItem[];
  canAdd: boolean;
  canDismiss: boolean;
}) {
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const run = (fn: () => Promise<ActionResult<unknown>>) =>
    start(async () => {
      const r = await fn();
      setError(r.ok ? null : r.error.message);
    });
  return (
    <div>
      {error ? <p role="alert" className="mb-2 text-red-700">{error}</p> : null}
      <div className="overflow-x-auto rounded border border-slate-200 bg-white">
        <table className="w-full text-left" data-testid="shadow-table">
          <thead className="border-b border-slate-200 bg-slate-50 text-xs font-medium uppercase tracking-wide text-slate-500">
            <tr>
              <th scope="col" className="px-3 py-2">API</th>
              <th scope="col" className="px-3 py-2">Method</th>
              <th scope="col" className="px-3 py-2">Path</th>
              <th scope="col" className="px-3 py-2 text-right">Requests</th>
              <th scope="col" className="px-3 py-2 text-right">Distinct keys</th>
              <th scope="col" className="px-3 py-2">First seen</th>
              <th scope="col" className="px-3 py-2">Last seen</th>
              <th scope="col" className="px-3 py-2">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} className="border-b border-slate-100 last:border-0">
                <td className="px-3 py-1.5">{s.apiName ?? <span className="text-slate-500">unknown ({s.environment})</span>}</td>
                <td className="px-3 py-1.5 font-mono text-xs font-semibold">{s.method}</td>
                <td className="px-3 py-1.5 font-mono text-xs">{s.path}</td>
                <td className="px-3 py-1.5 text-right">{s.requestCount.toLocaleString("en-US")}</td>
                <td className="px-3 py-1.5 text-right">{s.distinctKeys}</td>
                <td className="px-3 py-1.5 text-xs">{s.firstSeen}</td>
                <td className="px-3 py-1.5 text-xs">{s.lastSeen}</td>
                <td className="space-x-2 px-3 py-1.5 whitespace-nowrap">
                  {canAdd && s.apiName ? (
                    <button type="button" disabled={pending} onClick={() => run(() => addShadowAction({ id: s.id }))} className="rounded bg-slate-800 px-2 py-0.5 text-xs text-white disabled:opacity-50">
                      Add to inventory
                    </button>
                  ) : null}
                  {canDismiss ? (
                    <button
                      type="button"
                      disabled={pending}
                      onClick={() => {
                        const reason = window.prompt("Why dismiss this endpoint?");
                        if (reason) run(() => dismissShadowAction({ id: s.id, reason }));
                      }}
                      className="rounded border border-slate-300 px-2 py-0.5 text-xs disabled:opacity-50"
                    >
                      Dismiss
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
