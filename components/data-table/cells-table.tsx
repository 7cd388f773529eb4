"use client";
import { createColumnHelper } from "@tanstack/react-table";
import { useMemo } from "react";
import { DataTable, type ColumnLook, type DataTableProps } from "./data-table";

/** The columns in order, by id: a header, or a header and how its cells look. */
export type CellsColumns = Record<string, string | [header: string, look: ColumnLook]>;

/** For right-aligned number columns: `{ rows: ["Rows", NUMERIC] }`. */
export const NUMERIC: ColumnLook = { numeric: true };
/** For ids, prefixes, paths: `{ prefix: ["Prefix", MONO] }`. */
export const MONO: ColumnLook = { className: "font-mono text-xs" };

/** One row: its cells by column id, as React nodes rendered on the server (links, badges, forms). */
export interface CellsRow {
  id: string;
  cells: Record<string, React.ReactNode>;
  /** data-* attributes on the row, for specs. */
  data?: Record<`data-${string}`, string>;
}

const col = createColumnHelper<CellsRow>();

// One cell renderer for every column and render. flexRender renders a function
// as a component, so a renderer made anew when the page re-renders (after every
// server action) would be a new component type: React would remount every cell
// and lose client state inside it (a key shown once, a form's "saved" message).
const cellOf = ({ row, column }: { row: { original: CellsRow }; column: { id: string } }) => row.original.cells[column.id] ?? "—";

/**
 * DataTable for server pages: a page cannot hand cell *functions* to a client
 * component, but it can hand it rendered cells. Same markup, states and
 * pagination as every other table.
 */
export function CellsTable({ columns, rows, ...rest }: { columns: CellsColumns; rows: CellsRow[] } & Omit<DataTableProps<CellsRow>, "columns" | "data" | "getRowId" | "rowProps">) {
  const defs = useMemo(
    () =>
      Object.entries(columns).map(([id, spec]) => {
        const [header, look] = typeof spec === "string" ? [spec, undefined] : spec;
        return col.display({ id, header, meta: look, cell: cellOf });
      }),
    [columns],
  );
  return <DataTable columns={defs} data={rows} getRowId={(r) => r.id} rowProps={(r) => ({ ...r.data })} {...rest} />;
}
