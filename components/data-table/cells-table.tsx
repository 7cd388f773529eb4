"use client";
import { createColumnHelper } from "@tanstack/react-table";
import { useMemo } from "react";
import { DataTable, type ColumnLook, type DataTableProps } from "./data-table";

/** A column of a table whose cells a server page rendered already. */
export interface CellsColumn extends ColumnLook {
  id: string;
  header: string;
}

/** One row: its cells by column id, as React nodes rendered on the server (links, badges, forms). */
export interface CellsRow {
  id: string;
  cells: Record<string, React.ReactNode>;
  /** data-* attributes on the row, for specs. */
  data?: Record<`data-${string}`, string>;
}

const col = createColumnHelper<CellsRow>();

/**
 * DataTable for server pages: a page cannot hand cell *functions* to a client
 * component, but it can hand it rendered cells. Same markup, states and
 * pagination as every other table.
 */
export function CellsTable({ columns, rows, ...rest }: { columns: CellsColumn[]; rows: CellsRow[] } & Omit<DataTableProps<CellsRow>, "columns" | "data" | "getRowId" | "rowProps">) {
  const defs = useMemo(
    () => columns.map(({ id, header, ...look }) => col.display({ id, header, meta: look, cell: ({ row }) => row.original.cells[id] ?? "—" })),
    [columns],
  );
  return <DataTable columns={defs} data={rows} getRowId={(r) => r.id} rowProps={(r) => ({ ...r.data })} {...rest} />;
}
