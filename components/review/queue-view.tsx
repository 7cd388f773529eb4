"use client";
import { useRouter } from "next/navigation";
import { useCallback, useMemo, useRef, useState } from "react";
import { retryAction } from "@/app/(dashboard)/queues/actions";
import { DataTable, type DataTableProps } from "@/components/data-table/data-table";
import type { PaginationProps } from "@/components/data-table/pagination";
import type { ActionError, ActionResult } from "@/lib/action";
import type { DecisionResult, QueueRow, QueueStance } from "@/lib/review";
import { HelpOverlay } from "@/components/keyboard/help-overlay";
import { describeActionFailure } from "./action-failure";
import { BulkBar } from "./bulk-bar";
import { FindingPanel, type FindingPanelHandle, type PanelMode } from "./finding-panel";
import { DECIDER_COLUMNS, QueueCells, READ_ONLY_COLUMNS, type QueueCellsState } from "./queue-columns";
import { UndoToasts } from "./undo-toasts";
import { useDecisionStates, type DecisionStateView } from "./use-decision-states";
import { QUEUE_SHORTCUTS, READ_ONLY_SHORTCUTS, useQueueKeys } from "./use-queue-keys";
import { useUndoDecisions } from "./use-undo-decisions";

/**
 * The reviewer queue: one server-rendered page of findings in the dashboard's
 * DataTable (sort/filter/paging live in the URL), a detail panel for the active
 * row, single decisions (through an undo window) and bulk ones (through a
 * confirmation), keyboard shortcuts. After a decision the row stays and shows
 * what the proxies (or a second reviewer) did, read until settled. People who
 * may not decide get the same evidence read-only, with the reason.
 */
export function QueueView({
  rows,
  toolbar,
  pagination,
  sort,
  stance,
  selectable,
}: {
  rows: QueueRow[];
  toolbar?: React.ReactNode;
  pagination?: PaginationProps;
  sort?: Pick<DataTableProps<QueueRow>, "sort" | "sortable">;
  stance: QueueStance;
  /** Rows may be selected for bulk decisions (the open view, for people who decide). */
  selectable: boolean;
}) {
  const { states, record } = useDecisionStates(rows);
  const [active, setActive] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [mode, setMode] = useState<PanelMode>("view");
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [refusals, setRefusals] = useState<Map<string, string>>(new Map());
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
  const environmentOf = useMemo(() => new Map(rows.map((r) => [r.id, r.environment])), [rows]);
  const recordDecided = useCallback((ds: DecisionResult[]) => record(ds.map((d) => ({ ...d, environment: environmentOf.get(d.findingId) ?? "" }))), [record, environmentOf]);

  // A single decision's answer, once its undo window has closed and it was sent.
  const settled = useCallback(
    (findingId: string, r: ActionResult<DecisionResult>) => {
      setRefusals((old) => {
        const next = new Map(old);
        if (r.ok) next.delete(findingId);
        else next.set(findingId, failure(r.error));
        return next;
      });
      if (r.ok) recordDecided([r.data]);
    },
    [failure, recordDecided],
  );
  const { entries, schedule, undo } = useUndoDecisions(settled);
  const undoMap = useMemo(() => new Map(entries.map((e) => [e.findingId, e])), [entries]);

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

  const canSelect = selectable && stance.canDecide;
  useQueueKeys({
    rowCount: rows.length,
    canDecide: Boolean(stance.canDecide && activeRow && !states.has(activeRow.id) && !undoMap.has(activeRow.id)),
    canSelect,
    onHelp: () => setHelp((h) => !h),
    onEscape: () => (setHelp(false), setMode("view")),
    onMove: (by) => (setActive((i) => Math.max(0, Math.min(rows.length - 1, i + by))), setMode("view")),
    onToggle: () => activeRow && !states.has(activeRow.id) && !undoMap.has(activeRow.id) && toggle(activeRow.id),
    onMode: setMode,
    onRevoke: () => panel.current?.revoke(),
    onUndo: () => entries.length > 0 && undo(entries[entries.length - 1].findingId),
  });

  const cells: QueueCellsState = useMemo(
    () => ({ rows, selected, states, undo: undoMap, toggle, setSelected, retry, onUndo: undo }),
    [rows, selected, states, undoMap, toggle, retry, undo],
  );
  const selectedRows = useMemo(() => rows.filter((r) => selected.has(r.id)), [rows, selected]);

  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <div className="flex flex-wrap items-end gap-2">{toolbar}</div>
        <button type="button" onClick={() => setHelp(true)} className="text-xs text-slate-600 underline">
          Keyboard shortcuts (?)
        </button>
      </div>
      {stance.readOnlyReason ? (
        <p className="rounded border border-slate-200 bg-slate-50 p-2 text-sm text-slate-800" data-testid="queue-read-only">
          {stance.readOnlyReason}
        </p>
      ) : null}
      {canSelect && selectedRows.length > 0 ? (
        <BulkBar
          selected={selectedRows}
          onFailure={failure}
          onDone={(result, text) => {
            if (result) {
              recordDecided(result.decided);
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
        <QueueCells value={cells}>
          <DataTable
            columns={canSelect ? DECIDER_COLUMNS : READ_ONLY_COLUMNS}
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
        </QueueCells>
        {activeRow ? (
          <FindingPanel
            ref={panel}
            key={activeRow.id}
            findingId={activeRow.id}
            mode={mode}
            setMode={setMode}
            state={states.get(activeRow.id)}
            waiting={undoMap.get(activeRow.id)}
            refusal={refusals.get(activeRow.id) ?? null}
            schedule={schedule}
            onUndo={undo}
            onDecided={(d) => recordDecided([d])}
            onConflict={reloadAll}
            version={version}
          />
        ) : null}
      </div>
      <UndoToasts entries={entries} onUndo={undo} />
      {help ? <HelpOverlay shortcuts={stance.canDecide ? QUEUE_SHORTCUTS : READ_ONLY_SHORTCUTS} onClose={() => setHelp(false)} /> : null}
    </div>
  );
}
