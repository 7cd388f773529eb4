"use client";
import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type Header,
  type SortingState,
  type VisibilityState,
} from "@tanstack/react-table";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { ColumnVisibilityMenu } from "./column-visibility-menu";
import { Pagination, type PaginationProps } from "./pagination";
import { useSearchParamsPatch } from "./use-search-params-patch";

/** Per-column presentation, set as `meta` on a column definition. */
export interface ColumnLook {
  /** Numbers: right-aligned header and cells. */
  numeric?: boolean;
  /** Extra classes for this column's cells (e.g. "font-mono text-xs", "max-w-md"). */
  className?: string;
}

export interface DataTableProps<T> {
  // Each accessor column has its own value type; TanStack's documented way to hold a mixed list is `any`.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  columns: ColumnDef<T, any>[];
  data: T[];
  getRowId: (row: T) => string;
  /** Server-side sort, kept in the URL (`sort`, `dir`; lib/url-state.ts): the current sort and the columns the server can sort by. */
  sort?: { id: string; desc: boolean };
  sortable?: readonly string[];
  /** Server-side pages, kept in the URL (`page`, `perPage`). */
  pagination?: PaginationProps;
  /** Offers a "Columns" menu and remembers hidden columns per table in localStorage. */
  storageKey?: string;
  defaultHidden?: string[];
  toolbar?: React.ReactNode;
  /** Shown instead of rows when there are none. */
  empty?: React.ReactNode;
  /** Rows are on their way (a first load in the browser): a placeholder instead of "empty". */
  loading?: boolean;
  /** The table's data-testid (specs and the e2e suite find tables by it). */
  testId?: string;
  /**
   * Rows that can be made active (a detail panel shows the active one): each row is
   * then in the Tab order, and a click, Enter or Space on it calls `onActivate`. Clicks on
   * controls inside a row (checkboxes, buttons, links) do not activate it.
   */
  activeIndex?: number;
  onActivate?: (index: number) => void;
  /** Extra attributes on each row (data-* hooks for specs, a highlight). */
  rowProps?: (row: T, index: number) => { className?: string } & Record<`data-${string}`, string | number | undefined>;
  /** A label for screen readers when the table has no visible caption. */
  label?: string;
}

const INTERACTIVE = "input, button, a, select, textarea, label, summary, [role=button]";

/**
 * The dashboard's one table: TanStack Table in manual mode. The rows are what the
 * server rendered for the URL; sorting and paging change the URL (the server sorts
 * and pages in SQL). Dense rows, sortable headers as buttons (aria-sort), optional
 * keyboard-reachable rows, empty and loading states. Column visibility is a view
 * preference and stays in the browser.
 */
export function DataTable<T>(props: DataTableProps<T>) {
  const { columns, data, getRowId, sort, sortable = [], pagination, storageKey, defaultHidden = [], toolbar, empty, loading, testId = "data-table" } = props;
  const { patch, pending } = useSearchParamsPatch();
  const visibility = useColumnVisibility(storageKey, defaultHidden);
  const sorting: SortingState = sort ? [sort] : [];
  const table = useReactTable({
    data,
    columns,
    getRowId,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    manualFiltering: true,
    enableSortingRemoval: false,
    state: { sorting, columnVisibility: visibility.state },
    onColumnVisibilityChange: visibility.onChange,
  });

  const toggleSort = (id: string) => {
    // First click sorts descending (newest/most recent first), next click flips.
    const desc = sort?.id === id ? !sort.desc : true;
    patch({ sort: id, dir: desc ? "desc" : "asc" });
  };
  const headerCell = (header: Header<T, unknown>) => {
    const id = header.column.id;
    const look = header.column.columnDef.meta as ColumnLook | undefined;
    const canSort = sortable.includes(id);
    const active = sort?.id === id;
    const label = flexRender(header.column.columnDef.header, header.getContext());
    return (
      <th
        key={header.id}
        scope="col"
        className={`whitespace-nowrap px-2 py-2 ${look?.numeric ? "text-right" : ""}`}
        aria-sort={canSort ? (active ? (sort?.desc ? "descending" : "ascending") : "none") : undefined}
      >
        {canSort ? (
          <button type="button" onClick={() => toggleSort(id)} className="inline-flex items-center gap-1 uppercase hover:text-slate-900">
            {label}
            <span aria-hidden className={active ? "text-slate-900" : "text-slate-300"}>
              {active ? (sort?.desc ? "▼" : "▲") : "↕"}
            </span>
          </button>
        ) : (
          label
        )}
      </th>
    );
  };

  const showMenu = Boolean(storageKey);
  const { ref: scroller, scrolls } = useScrollsSideways<HTMLDivElement>();
  return (
    <div className="space-y-2">
      {toolbar || showMenu ? (
        <div className="flex flex-wrap items-end justify-between gap-2">
          <div className="flex flex-wrap items-end gap-2">{toolbar}</div>
          {showMenu ? <ColumnVisibilityMenu table={table} /> : null}
        </div>
      ) : null}
      <div
        ref={scroller}
        // A table wider than its box scrolls sideways; keyboard users reach that scroll only if the box takes focus.
        {...(scrolls ? { tabIndex: 0, role: "region", "aria-label": props.label ?? "Table (scrolls sideways)" } : {})}
        className={`overflow-x-auto rounded border border-slate-200 bg-white transition-opacity ${pending ? "opacity-60" : ""}`}
        aria-busy={pending || loading}
      >
        <table className="w-full text-left text-sm" data-testid={testId} aria-label={props.label}>
          <thead className="border-b border-slate-200 bg-slate-50 text-xs font-medium uppercase tracking-wide text-slate-500">
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>{hg.headers.map(headerCell)}</tr>
            ))}
          </thead>
          <Rows table={table} {...props} />
        </table>
        {data.length === 0 ? (
          <div className="p-4 text-slate-500" role="status">
            {loading ? "Loading…" : (empty ?? "No rows.")}
          </div>
        ) : null}
      </div>
      {pagination ? <Pagination {...pagination} /> : null}
    </div>
  );
}

function Rows<T>({ table, activeIndex, onActivate, rowProps }: DataTableProps<T> & { table: ReturnType<typeof useReactTable<T>> }) {
  const body = useRef<HTMLTableSectionElement>(null);
  useEffect(() => {
    if (activeIndex === undefined) return;
    const row = body.current?.querySelector<HTMLElement>(`[data-row-index="${activeIndex}"]`);
    row?.scrollIntoView({ block: "nearest" });
    // Focus follows the active row when it is already on a row (j/k move it), never stolen from elsewhere.
    if (row && document.activeElement?.tagName === "TR" && body.current?.contains(document.activeElement)) row.focus();
  }, [activeIndex]);
  const activatable = Boolean(onActivate);
  return (
    <tbody ref={body}>
      {table.getRowModel().rows.map((row, i) => {
        const { className: extra = "", ...attributes } = rowProps?.(row.original, i) ?? {};
        const active = activatable && i === activeIndex;
        return (
          <tr
            key={row.id}
            data-row-index={i}
            {...attributes}
            // Every row is in the Tab order (issue 19: reachable with Tab, not only j/k); Enter or Space opens it.
            tabIndex={activatable ? 0 : undefined}
            aria-selected={activatable ? active : undefined}
            onClick={activatable ? (e) => !(e.target as HTMLElement).closest(INTERACTIVE) && onActivate?.(i) : undefined}
            onKeyDown={
              activatable
                ? (e) => {
                    if (e.target !== e.currentTarget || (e.key !== "Enter" && e.key !== " ")) return;
                    e.preventDefault();
                    onActivate?.(i);
                  }
                : undefined
            }
            className={`border-b border-slate-100 last:border-0 ${activatable ? "cursor-pointer focus-visible:outline focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-700" : ""} ${
              active ? "bg-sky-50 outline outline-1 outline-sky-300" : "hover:bg-slate-50"
            } ${extra}`}
          >
            {row.getVisibleCells().map((cell) => {
              const look = cell.column.columnDef.meta as ColumnLook | undefined;
              return (
                <td key={cell.id} className={`whitespace-nowrap px-2 py-1.5 ${look?.numeric ? "text-right tabular-nums" : ""} ${look?.className ?? ""}`}>
                  {flexRender(cell.column.columnDef.cell, cell.getContext())}
                </td>
              );
            })}
          </tr>
        );
      })}
    </tbody>
  );
}

/** Hidden columns, remembered per table in localStorage (when the table has a storageKey). */
function useColumnVisibility(storageKey: string | undefined, defaultHidden: string[]) {
  const key = `table:${storageKey}`;
  // Read during render from the browser's store (null on the server), so the first paint after hydration uses it.
  const saved = useSyncExternalStore(
    subscribeToStorage,
    () => (storageKey ? window.localStorage.getItem(key) : null),
    () => null,
  );
  const [chosen, setChosen] = useState<VisibilityState | null>(null);
  const state = chosen ?? readVisibility(saved) ?? Object.fromEntries(defaultHidden.map((id) => [id, false]));
  const onChange = (updater: VisibilityState | ((old: VisibilityState) => VisibilityState)) => {
    const next = typeof updater === "function" ? updater(state) : updater;
    if (storageKey) window.localStorage.setItem(key, JSON.stringify(next));
    setChosen(next);
  };
  return { state, onChange };
}

function subscribeToStorage(onChange: () => void) {
  window.addEventListener("storage", onChange);
  return () => window.removeEventListener("storage", onChange);
}

function readVisibility(saved: string | null): VisibilityState | null {
  if (!saved) return null;
  try {
    return JSON.parse(saved) as VisibilityState;
  } catch {
    return null; // a corrupt preference is ignored
  }
}

/** Whether an element is wider inside than its box (kept up to date as it resizes). */
function useScrollsSideways<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [scrolls, setScrolls] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const check = () => setScrolls(el.scrollWidth > el.clientWidth);
    check();
    const observer = new ResizeObserver(check);
    observer.observe(el);
    if (el.firstElementChild) observer.observe(el.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return { ref, scrolls };
}
