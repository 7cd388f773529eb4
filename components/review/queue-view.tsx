"use client";
import { flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { retryAction, revokeAction } from "@/app/(dashboard)/queues/actions";
import type { ActionError } from "@/lib/action";
import type { QueueRow } from "@/lib/review";
import { HelpOverlay } from "@/components/keyboard/help-overlay";
import { describeActionFailure } from "./action-failure";
import { BulkBar } from "./bulk-bar";
import { FindingPanel, type PanelMode } from "./finding-panel";
import { queueColumns } from "./queue-columns";
import { useDecisionStates, type DecisionStateView } from "./use-decision-states";
import { QUEUE_SHORTCUTS, useQueueKeys } from "./use-queue-keys";

/**
 * The reviewer queue: one server-rendered page of findings in a TanStack table
 * (manual mode: sort/filter/paging live in the URL), a detail panel for the
 * active row, single and bulk decisions, keyboard shortcuts. After a decision
 * the row stays and shows what the proxies confirmed, polled until settled.
 */
export function QueueView({ rows, toolbar }: { rows: QueueRow[]; toolbar?: React.ReactNode }) {
  const { states, record } = useDecisionStates(rows);
  const [active, setActive] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [mode, setMode] = useState<PanelMode>("view");
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  // Bumped when a shortcut decides the active row, so its panel reloads.
  const [version, setVersion] = useState(0);
  const tableRef = useRef<HTMLTableElement>(null);
  const router = useRouter();
  // A refused decision: a conflict reloads the panel and the queue page (someone else acted first).
  const reloadAll = useCallback(() => {
    setVersion((v) => v + 1);
    router.refresh();
  }, [router]);
  const failure = useCallback(
    (error: ActionError) => {
      const f = describeActionFailure(error);
      if (f.reload) reloadAll();
      return f.message;
    },
    [reloadAll],
  );

  // A new page of rows starts with nothing selected and the first row active;
  // the same finding stays active when it is still there (a reload after a conflict).
  const [shownRows, setShownRows] = useState(rows);
  if (shownRows !== rows) {
    const activeId = shownRows[Math.min(active, shownRows.length - 1)]?.id;
    setShownRows(rows);
    setSelected(new Set());
    setActive(Math.max(0, rows.findIndex((r) => r.id === activeId)));
  }
  const activeRow = rows[Math.min(active, rows.length - 1)];

  const toggle = useCallback((id: string) => {
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);

  const retry = useCallback(
    (findingId: string, s: DecisionStateView) => void retryAction({ decisionId: s.decisionId }).then(() => record([{ ...s, findingId, enforcement: "pending" }])),
    [record],
  );

  const revokeActive = useCallback(async () => {
    if (!activeRow) return;
    const r = await revokeAction({ findingId: activeRow.id });
    if (r.ok) {
      record([r.data]);
      setVersion((v) => v + 1);
    }
    setMessage(r.ok ? null : failure(r.error));
  }, [activeRow, record, failure]);

  useQueueKeys({
    rowCount: rows.length,
    canDecide: Boolean(activeRow && !states.has(activeRow.id)),
    onHelp: () => setHelp((h) => !h),
    onEscape: () => (setHelp(false), setMode("view")),
    onMove: (by) => (setActive((i) => Math.max(0, Math.min(rows.length - 1, i + by))), setMode("view")),
    onToggle: () => activeRow && toggle(activeRow.id),
    onMode: setMode,
    onRevoke: () => void revokeActive(),
  });

  useEffect(() => {
    tableRef.current?.querySelector(`[data-row-index="${active}"]`)?.scrollIntoView({ block: "nearest" });
  }, [active]);

  const columns = useMemo(() => queueColumns({ rows, selected, states, toggle, setSelected, retry }), [rows, selected, states, toggle, retry]);
  const table = useReactTable({ data: rows, columns, getRowId: (r) => r.id, getCoreRowModel: getCoreRowModel(), manualPagination: true, manualSorting: true, manualFiltering: true });

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <div className="flex flex-wrap items-end gap-2">{toolbar}</div>
        <button type="button" onClick={() => setHelp(true)} className="text-xs text-slate-500 underline">
          Keyboard shortcuts (?)
        </button>
      </div>
      {selected.size > 0 ? (
        <BulkBar
          selected={selected}
          onFailure={failure}
          onDone={(result, text) => {
            if (result) {
              record(result.decided);
              setSelected(new Set());
            }
            setMessage(text);
          }}
        />
      ) : null}
      {message ? (
        <p role="status" className="text-sm text-slate-700">
          {message}
        </p>
      ) : null}
      <div className="grid gap-3 lg:grid-cols-[minmax(0,1fr)_26rem]">
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table ref={tableRef} className="w-full text-left text-sm" data-testid="queue-table">
            <thead className="border-b border-slate-200 bg-slate-50 text-xs font-medium uppercase tracking-wide text-slate-500">
              {table.getHeaderGroups().map((hg) => (
                <tr key={hg.id}>
                  {hg.headers.map((h) => (
                    <th key={h.id} scope="col" className="whitespace-nowrap px-2 py-2">
                      {flexRender(h.column.columnDef.header, h.getContext())}
                    </th>
                  ))}
                </tr>
              ))}
            </thead>
            <tbody>
              {table.getRowModel().rows.map((row, i) => (
                <tr
                  key={row.id}
                  data-row-index={i}
                  data-finding-id={row.id}
                  aria-selected={i === active}
                  onClick={() => (setActive(i), setMode("view"))}
                  className={`cursor-pointer border-b border-slate-100 last:border-0 ${i === active ? "bg-sky-50 outline outline-1 outline-sky-300" : "hover:bg-slate-50"}`}
                >
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id} className="whitespace-nowrap px-2 py-1.5" onClick={cell.column.id === "select" ? (e) => e.stopPropagation() : undefined}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 ? <p className="p-4 text-slate-500">Nothing to review here.</p> : null}
        </div>
        {activeRow ? <FindingPanel key={activeRow.id} findingId={activeRow.id} mode={mode} setMode={setMode} onDecided={(d) => record([d])} onConflict={reloadAll} version={version} /> : null}
      </div>
      {help ? <HelpOverlay shortcuts={QUEUE_SHORTCUTS} onClose={() => setHelp(false)} /> : null}
    </div>
  );
}
