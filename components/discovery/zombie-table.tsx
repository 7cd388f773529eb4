"use client";
import { createColumnHelper } from "@tanstack/react-table";
import { stopRoutingZombieAction } from "@/app/(dashboard)/discovery/actions";
import { DataTable } from "@/components/data-table/data-table";
import { useRowAction } from "@/components/data-table/use-row-action";
import { METHOD_LOOK, PATH_LOOK, WHEN_LOOK } from "./endpoint-columns";

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

const col = createColumnHelper<ZombieItem>();

/** Deprecated endpoints still receiving traffic or still held; admins stop routing one (through the outbox). */
export function ZombieTable({ items, windowDays, canStop }: { items: ZombieItem[]; windowDays: number; canStop: boolean }) {
  const { run, pending, alert } = useRowAction();
  const stop = (z: ZombieItem) => {
    const reason = window.prompt(`Stop routing ${z.method} ${z.pathTemplate}? The proxies will answer it like an unknown route. Why?`);
    if (reason) run(() => stopRoutingZombieAction({ endpointId: z.id, reason }));
  };
  const columns = [
    col.accessor("apiName", {
      header: "API",
      cell: ({ row: { original: z } }) => (
        <>
          {z.apiName} <span className="text-xs text-slate-500">({z.environment})</span>
        </>
      ),
    }),
    col.accessor("method", { header: "Method", meta: METHOD_LOOK }),
    col.accessor("pathTemplate", {
      header: "Path",
      meta: PATH_LOOK,
      cell: ({ row: { original: z } }) => (
        <>
          {z.pathTemplate}
          {z.hasFinding ? <span className="ml-1 rounded bg-red-100 px-1 text-xs text-red-800">finding</span> : null}
        </>
      ),
    }),
    col.accessor("deprecated", { header: "Deprecated", meta: WHEN_LOOK }),
    col.accessor("requestsInWindow", { header: `Requests (${windowDays} d)`, meta: { numeric: true }, cell: ({ getValue }) => getValue().toLocaleString("en-US") }),
    col.accessor("lastSeen", { header: "Last seen", meta: WHEN_LOOK }),
    col.accessor("activeGrants", { header: "Active grants", meta: { numeric: true } }),
    col.display({
      id: "routing",
      header: "Routing",
      meta: WHEN_LOOK,
      cell: ({ row: { original: z } }) =>
        z.routingStopped ? (
          <span className="text-slate-600">stopped {z.routingStopped}</span>
        ) : canStop ? (
          <button type="button" disabled={pending} onClick={() => stop(z)} className="rounded bg-red-700 px-2 py-0.5 text-xs text-white disabled:opacity-50">
            Stop routing
          </button>
        ) : (
          <span className="text-slate-600">routed</span>
        ),
    }),
  ];
  return (
    <div>
      {alert}
      <DataTable columns={columns} data={items} getRowId={(z) => z.id} testId="zombie-table" label="Zombie endpoints" />
    </div>
  );
}
