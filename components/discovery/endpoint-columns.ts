import type { ColumnLook } from "@/components/data-table/data-table";

/** How the discovery tables show an endpoint's method, path and timestamps. */
export const METHOD_LOOK: ColumnLook = { className: "font-mono text-xs font-semibold" };
export const PATH_LOOK: ColumnLook = { className: "font-mono text-xs" };
export const WHEN_LOOK: ColumnLook = { className: "text-xs" };
