"use client";
import { useState, useTransition } from "react";
import { stopRoutingZombieAction } from "@/app/(dashboard)/discovery/actions";

export interface ZombieItem {
  id: string;
  environment: string;
  apiName: string;
  method: string;
  pathTemplate: string;
  deprecated: string;
  requestsInWindow: number;
  lastSeen: string;
  activeGrants: number;
  routingStopped: string | null;
  hasFinding: boolean;
}

/** Deprecated endpoints still receiving traffic or still held; admins stop routing one (through the outbox). */
export function ZombieTable({ items, windowDays, canStop }: { items: ZombieItem[]; windowDays: number; canStop: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  return (
    <div>
      {error ? <p role="alert" className="mb-2 text-red-700">{error}</p> : null}
      <div className="overflow-x-auto rounded border border-slate-200 bg-white">
        <table className="w-full text-left" data-testid="zombie-table">
          <thead className="border-b border-slate-200 bg-slate-50 text-xs font-medium uppercase tracking-wide text-slate-500">
            <tr>
              <th scope="col" className="px-3 py-2">API</th>
              <th scope="col" className="px-3 py-2">Method</th>
              <th scope="col" className="px-3 py-2">Path</th>
              <th scope="col" className="px-3 py-2">Deprecated</th>
              <th scope="col" className="px-3 py-2 text-right">Requests ({windowDays} d)</th>
              <th scope="col" className="px-3 py-2">Last seen</th>
              <th scope="col" className="px-3 py-2 text-right">Active grants</th>
              <th scope="col" className="px-3 py-2">Routing</th>
            </tr>
          </thead>
          <tbody>
            {items.map((z) => (
              <tr key={z.id} className="border-b border-slate-100 last:border-0">
                <td className="px-3 py-1.5">{z.apiName} <span className="text-xs text-slate-500">({z.environment})</span></td>
                <td className="px-3 py-1.5 font-mono text-xs font-semibold">{z.method}</td>
                <td className="px-3 py-1.5 font-mono text-xs">
                  {z.pathTemplate}
                  {z.hasFinding ? <span className="ml-1 rounded bg-red-100 px-1 text-xs text-red-800">finding</span> : null}
                </td>
                <td className="px-3 py-1.5 text-xs">{z.deprecated}</td>
                <td className="px-3 py-1.5 text-right">{z.requestsInWindow.toLocaleString("en-US")}</td>
                <td className="px-3 py-1.5 text-xs">{z.lastSeen}</td>
                <td className="px-3 py-1.5 text-right">{z.activeGrants}</td>
                <td className="px-3 py-1.5 whitespace-nowrap text-xs">
                  {z.routingStopped ? (
                    <span className="text-slate-600">stopped {z.routingStopped}</span>
                  ) : canStop ? (
                    <button
                      type="button"
                      disabled={pending}
                      onClick={() => {
                        const reason = window.prompt(`Stop routing ${z.method} ${z.pathTemplate}? The proxies will answer it like an unknown route. Why?`);
                        if (reason)
                          start(async () => {
                            const r = await stopRoutingZombieAction({ endpointId: z.id, reason });
                            setError(r.ok ? null : r.error.message);
                          });
                      }}
                      className="rounded bg-red-700 px-2 py-0.5 text-xs text-white disabled:opacity-50"
                    >
                      Stop routing
                    </button>
                  ) : (
                    <span className="text-slate-600">routed</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
