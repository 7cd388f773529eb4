"use client";
import type { Table } from "@tanstack/react-table";

/** A "Columns" dropdown (native <details>, so it works with keyboard and without extra code). */
export function ColumnVisibilityMenu<T>({ table }: { table: Table<T> }) {
  const columns = table.getAllLeafColumns().filter((c) => c.getCanHide());
  return (
    <details className="relative">
      <summary className="cursor-pointer list-none rounded border border-slate-300 bg-white px-2 py-1 text-slate-700 hover:bg-slate-50">Columns</summary>
      <div className="absolute right-0 z-10 mt-1 w-48 rounded border border-slate-200 bg-white p-2 shadow-lg" role="group" aria-label="Visible columns">
        {columns.map((c) => (
          <label key={c.id} className="flex items-center gap-2 px-1 py-0.5">
            <input type="checkbox" checked={c.getIsVisible()} onChange={c.getToggleVisibilityHandler()} />
            {typeof c.columnDef.header === "string" ? c.columnDef.header : c.id}
          </label>
        ))}
      </div>
    </details>
  );
}
