"use client";
import { createColumnHelper } from "@tanstack/react-table";
import { DataTable } from "@/components/data-table/data-table";
import type { PaginationProps } from "@/components/data-table/pagination";
import type { AuditRow } from "@/lib/audit/query";
import { AuditDetails } from "./audit-details";

const col = createColumnHelper<AuditRow>();
const MONO = { className: "font-mono text-xs" };
const columns = [
  col.accessor("seq", { header: "#", meta: MONO }),
  col.accessor("at", { header: "When (UTC)", cell: ({ getValue }) => <time dateTime={getValue()}>{getValue().replace("T", " ").slice(0, 19)}</time> }),
  col.accessor("actor", { header: "Actor" }),
  col.accessor("action", { header: "Action", meta: MONO }),
  col.accessor("target", { header: "Target", meta: MONO, cell: ({ getValue }) => getValue() ?? "—" }),
  col.accessor("data", { header: "Details", meta: { className: "max-w-md align-top" }, cell: ({ getValue }) => <AuditDetails data={getValue()} /> }),
];

/** The audit log, newest first; the event where the hash chain breaks is outlined. */
export function AuditTable({ rows, brokenId, pagination }: { rows: AuditRow[]; brokenId?: string; pagination: PaginationProps }) {
  return (
    <DataTable
      columns={columns}
      data={rows}
      getRowId={(r) => r.id}
      pagination={pagination}
      testId="audit-table"
      label="Audit events"
      empty="No events match these filters."
      rowProps={(r) => ({ "data-event-id": r.id, className: r.id === brokenId ? "bg-red-50 outline outline-2 outline-red-400" : "" })}
    />
  );
}
