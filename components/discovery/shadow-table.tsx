"use client";
import { createColumnHelper } from "@tanstack/react-table";
import { addShadowAction, dismissShadowAction } from "@/app/(dashboard)/discovery/actions";
import { DataTable } from "@/components/data-table/data-table";
import { useRowAction } from "@/components/data-table/use-row-action";
import { METHOD_LOOK, PATH_LOOK, WHEN_LOOK } from "./endpoint-columns";

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

const col = createColumnHelper<ShadowItem>();

/** Undocumented traffic per API; admins add a row to the inventory or dismiss it with a reason. */
export function ShadowTable({ items, canAdd, canDismiss }: { items: ShadowItem[]; canAdd: boolean; canDismiss: boolean }) {
  const { run, pending, alert } = useRowAction();
  const columns = [
    col.accessor("apiName", { header: "API", cell: ({ row: { original: s } }) => s.apiName ?? <span className="text-slate-500">unknown ({s.environment})</span> }),
    col.accessor("method", { header: "Method", meta: METHOD_LOOK }),
    col.accessor("path", { header: "Path", meta: PATH_LOOK }),
    col.accessor("requestCount", { header: "Requests", meta: { numeric: true }, cell: ({ getValue }) => getValue().toLocaleString("en-US") }),
    col.accessor("distinctKeys", { header: "Distinct keys", meta: { numeric: true } }),
    col.accessor("firstSeen", { header: "First seen", meta: WHEN_LOOK }),
    col.accessor("lastSeen", { header: "Last seen", meta: WHEN_LOOK }),
    col.display({
      id: "actions",
      header: "Actions",
      meta: { className: "space-x-2" },
      cell: ({ row: { original: s } }) => (
        <>
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
        </>
      ),
    }),
  ];
  return (
    <div>
      {alert}
      <DataTable columns={columns} data={items} getRowId={(s) => s.id} testId="shadow-table" label="Shadow endpoints" />
    </div>
  );
}
