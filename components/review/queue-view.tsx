"use client";
import { useRouter } from "next/navigation";
import { useCallback, useMemo, useRef, useState } from "react";
import { retryAction } from "@/app/(dashboard)/queues/actions";
import { DataTable, type DataTableProps } from "@/components/data-table/data-table";
import type { PaginationProps } from "@/components/data-table/pagination";
import type { ActionError } from "@/lib/action";
import type { QueueRow } from "@/lib/review";
import { HelpOverlay } from "@/components/keyboard/help-overlay";
import { describeActionFailure } from "./action-failure";
import { BulkBar } from "./bulk-bar";
import { FindingPanel, type FindingPanelHandle, type PanelMode } from "./finding-panel";
import { queueColumns } from "./queue-columns";
import { useDecisionStates, type DecisionStateView } from "./use-decision-states";
import { QUEUE_SHORTCUTS, useQueueKeys } from "./use-queue-keys";

/**
 * The reviewer queue: one server-rendered page of findings in the dashboard's
 * DataTable (sort/filter/paging live in the URL), a detail panel for the active
 * row, single and bulk decisions, keyboard shortcuts. Single decisions are the
 * panel's own (the "r" shortcut asks the panel); after one the row stays and
 * shows what the proxies confirmed, polled until settled.
 */
export function QueueView({ rows, toolbar, pagination, sort }: { rows: QueueRow[]; toolbar?: React.ReactNode; pagination?: PaginationProps; sort?: Pick<DataTableProps<QueueRow>, "sort" | "sortable"> }) {
  const { states, record } = useDecisionStates(rows);
  const [active, setActive] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [mode, setMode] = useState<PanelMode>("view");
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  // Bumped when the queue's rows reload after a conflict, so the panel reloads too.
  const [version, setVersion] = useState(0);
  const panel = useRef<FindingPanelHandle>(null);
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

  useQueueKeys({
    rowCount: rows.length,
    canDecide: Boolean(activeRow && !states.has(activeRow.id)),
    onHelp: () => setHelp((h) => !h),
    onEscape: () => (setHelp(false), setMode("view")),
    onMove: (by) => (setActive((i) => Math.max(0, Math.min(rows.length - 1, i + by))), setMode("view")),
    onToggle: () => activeRow && toggle(activeRow.id),
    onMode: setMode,
    onRevoke: () => panel.current?.revoke(),
  });

  const columns = useMemo(() => queueColumns({ rows, selected, states, toggle, setSelected, retry }), [rows, selected, states, toggle, retry]);

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
        <DataTable
          columns={columns}
          data={rows}
          getRowId={(r) => r.id}
          {...sort}
          pagination={pagination}
          testId="queue-table"
          label="Findings"
          empty="Nothing to review here."
          activeIndex={Math.min(active, rows.length - 1)}
          onActivate={(i) => (setActive(i), setMode("view"))}
          rowProps={(r) => ({ "data-finding-id": r.id })}
        />
        {activeRow ? <FindingPanel ref={panel} key={activeRow.id} findingId={activeRow.id} mode={mode} setMode={setMode} onDecided={(d) => record([d])} onConflict={reloadAll} version={version} /> : null}
      </div>
      {help ? <HelpOverlay shortcuts={QUEUE_SHORTCUTS} onClose={() => setHelp(false)} /> : null}
    </div>
  );
}
