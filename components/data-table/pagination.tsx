"use client";
import { useSearchParamsPatch } from "./use-search-params-patch";

export interface PaginationProps {
  page: number;
  /** Null when the total is unknown (counting took too long): then only prev/next. */
  pageCount: number | null;
  total: number | null;
  /** The count stopped at a cap: the total shows as "N+". */
  totalCapped?: boolean;
  hasNext: boolean;
  rowsOnPage: number;
  perPage: number;
  /** Offers a page-size select (`perPage` in the URL) when there is a choice. */
  perPageOptions?: readonly number[];
}

/** Page navigation and page size for a server-paginated table (`page`, `perPage` in the URL). */
export function Pagination({ page, pageCount, total, totalCapped = false, hasNext, rowsOnPage, perPage, perPageOptions = [] }: PaginationProps) {
  const { patch } = useSearchParamsPatch();
  const first = rowsOnPage === 0 ? 0 : (page - 1) * perPage + 1;
  const last = (page - 1) * perPage + rowsOnPage;
  const totalLabel = total === null ? "many" : totalCapped ? `${(total - 1).toLocaleString("en-US")}+` : total.toLocaleString("en-US");
  const btn = "rounded border border-slate-300 bg-white px-2 py-1 text-slate-700 enabled:hover:bg-slate-50 disabled:opacity-40";
  return (
    <nav aria-label="Pagination" className="flex flex-wrap items-center justify-between gap-2 text-slate-600">
      <div data-testid="pagination-summary">
        {first.toLocaleString("en-US")}–{last.toLocaleString("en-US")} of {totalLabel}
        {totalCapped ? <span className="ml-1 text-xs text-slate-600">(narrow the filters to page further)</span> : null}
      </div>
      <div className="flex items-center gap-1">
        {perPageOptions.length > 1 ? (
          <label className="mr-2 flex items-center gap-1 text-xs">
            Rows per page
            <select aria-label="Rows per page" value={perPage} onChange={(e) => patch({ perPage: e.target.value })} className="rounded border border-slate-300 bg-white px-1 py-0.5 text-sm">
              {perPageOptions.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button type="button" className={btn} disabled={page <= 1} onClick={() => patch({ page: 1 })} aria-label="First page">«</button>
        <button type="button" className={btn} disabled={page <= 1} onClick={() => patch({ page: page - 1 })} aria-label="Previous page">‹ Prev</button>
        <span className="px-2 tabular-nums" data-testid="page-indicator">
          Page {page}
          {pageCount !== null ? ` of ${pageCount.toLocaleString("en-US")}` : ""}
        </span>
        <button type="button" className={btn} disabled={!hasNext} onClick={() => patch({ page: page + 1 })} aria-label="Next page">Next ›</button>
        <button type="button" className={btn} disabled={pageCount === null || page >= pageCount} onClick={() => pageCount !== null && patch({ page: pageCount })} aria-label="Last page">»</button>
      </div>
    </nav>
  );
}
