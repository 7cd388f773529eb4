"use client";
import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type SortingState,
  type VisibilityState,
} from "@tanstack/react-table";
import { useEffect, useState } from "react";
import { ColumnVisibilityMenu } from "./column-visibility-menu";
import { useSearchParamsPatch } from "./use-search-params-patch";

export interface DataTableProps<T> {
  columns: ColumnDef<T, unknown>[];
  data: T[];
  /** Current sort as read from the URL by the server. */
  sort: { id: string; desc: boolean };
  /** Column ids the server can sort by. */
  sortable: readonly string[];
  getRowId: (row: T) => string;
  /** Remembers hidden columns per table in localStorage. */
  storageKey: string;
  defaultHidden?: string[];
  toolbar?: React.ReactNode;
  empty?: React.ReactNode;
}

/**
 * A TanStack table in manual mode: the rows are one server-rendered page, and
 * sorting changes the URL (`sort`, `dir`) so the server sorts in SQL. Column
 * visibility is purely a view preference and stays in the browser.
 */
export function DataTable<T>({ columns, data, sort, sortable, getRowId, storageKey, defaultHidden = [], toolbar, empty }: DataTableProps<T>) {
  const { patch, pending } = useSearchParamsPatch();
  const [visibility, setVisibility] = useState<VisibilityState>(() => Object.fromEntries(defaultHidden.map((id) => [id, false])));
  useEffect(() => {
    const saved = window.localStorage.getItem(`table:${storageKey}`);
    if (saved) {
      try {
        setVisibility(JSON.parse(saved) as VisibilityState);
      } catch {
        /* a corrupt preference is ignored */
      }
    }
  }, [storageKey]);

  const sorting: SortingState = [sort];
  const table = useReactTable({
    data,
    columns,
    getRowId,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    manualFiltering: true,
    enableSortingRemoval: false,
    state: { sorting, columnVisibility: visibility },
    onColumnVisibilityChange: (updater) => {
      setVisibility((old) => {
        const next = typeof updater === "function" ? updater(old) : updater;
        window.localStorage.setItem(`table:${storageKey}`, JSON.stringify(next));
        return next;
      });
    },
  });

  const toggleSort = (id: string) => {
    // First click sorts descending (newest/most recent first), next click flips.
    const desc = sort.id === id ? !sort.desc : true;
    patch({ sort: id, dir: desc ? "desc" : "asc" });
  };

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <div className="flex flex-wrap items-end gap-2">{toolbar}</div>
        <ColumnVisibilityMenu table={table} />
      </div>
      <div className={`overflow-x-auto rounded border border-slate-200 bg-white transition-opacity ${pending ? "opacity-60" : ""}`} aria-busy={pending}>
        <table className="w-full text-left" data-testid="data-table">
          <thead className="border-b border-slate-200 bg-slate-50 text-xs font-medium uppercase tracking-wide text-slate-500">
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>
                {hg.headers.map((header) => {
                  const id = header.column.id;
                  const canSort = sortable.includes(id);
                  const active = sort.id === id;
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      className="whitespace-nowrap px-3 py-2"
                      aria-sort={canSort ? (active ? (sort.desc ? "descending" : "ascending") : "none") : undefined}
                    >
                      {canSort ? (
                        <button type="button" onClick={() => toggleSort(id)} className="inline-flex items-center gap-1 uppercase hover:text-slate-900">
                          {flexRender(header.column.columnDef.header, header.getContext())}
                          <span aria-hidden className={active ? "text-slate-900" : "text-slate-300"}>
                            {active ? (sort.desc ? "▼" : "▲") : "↕"}
                          </span>
                        </button>
                      ) : (
                        flexRender(header.column.columnDef.header, header.getContext())
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {table.getRowModel().rows.map((row) => (
              <tr key={row.id} className="border-b border-slate-100 last:border-0 hover:bg-slate-50">
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className="whitespace-nowrap px-3 py-1.5">
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {data.length === 0 ? <div className="p-4">{empty ?? <p className="text-slate-500">No rows.</p>}</div> : null}
      </div>
    </div>
  );
}
