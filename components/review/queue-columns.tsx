"use client";
import { createColumnHelper, type CellContext } from "@tanstack/react-table";
import { createContext, useContext } from "react";
import { Badge, levelTone } from "@/components/badge";
import { words } from "@/components/format";
import type { QueueRow } from "@/lib/review";
import { EnforcementBadge } from "./enforcement-badge";
import type { DecisionStateView } from "./use-decision-states";
import type { UndoEntry } from "./use-undo-decisions";

const SEVERITY_TONE = { critical: "bad", high: "bad", medium: "warn", low: "neutral" } as const;
const col = createColumnHelper<QueueRow>();
const day = (d: Date | string | null) => (d ? new Date(d).toISOString().slice(0, 10) : "never");
const ruleLabel = words;

/** What the cells need that changes while the page is open (selection, decision states, undo windows). */
export interface QueueCellsState {
  rows: QueueRow[];
  selected: Set<string>;
  states: Map<string, DecisionStateView>;
  undo: Map<string, UndoEntry>;
  toggle: (findingId: string) => void;
  setSelected: (ids: Set<string>) => void;
  retry: (findingId: string, state: DecisionStateView) => void;
  onUndo: (findingId: string) => void;
}

/**
 * The cells read that state from context, so the column definitions below are
 * made once per module: flexRender renders a cell function as a component, and
 * a function made anew on every selection change would remount every cell
 * (a checkbox reached with Tab lost its focus when it was ticked).
 */
export const QueueCells = createContext<QueueCellsState | null>(null);
const useCells = () => useContext(QueueCells)!;

const selectable = (s: QueueCellsState, id: string) => !s.states.has(id) && !s.undo.has(id);

function SelectAll() {
  const s = useCells();
  const ids = s.rows.filter((r) => selectable(s, r.id)).map((r) => r.id);
  return (
    <input
      type="checkbox"
      aria-label="Select all on this page"
      disabled={ids.length === 0}
      checked={ids.length > 0 && ids.every((id) => s.selected.has(id))}
      onChange={(e) => s.setSelected(e.target.checked ? new Set(ids) : new Set())}
    />
  );
}

function SelectCell({ row }: CellContext<QueueRow, unknown>) {
  const s = useCells();
  const id = row.original.id;
  return <input type="checkbox" aria-label={`Select finding for ${row.original.principal}`} disabled={!selectable(s, id)} checked={s.selected.has(id)} onChange={() => s.toggle(id)} />;
}

/** The decision state, in the first columns where the eye is (the panel covers the right of a wide table). */
function StateCell({ row }: CellContext<QueueRow, unknown>) {
  const s = useCells();
  const id = row.original.id;
  const waiting = s.undo.get(id);
  if (waiting)
    return (
      <span data-testid="enforcement-state" data-enforcement="undo_window" className="inline-flex items-center gap-1">
        <Badge tone="info">{waiting.sending ? `${waiting.label}: sending…` : `${waiting.label}: in undo window`}</Badge>
        {waiting.sending ? null : (
          <button type="button" onClick={() => s.onUndo(id)} className="text-xs text-sky-800 underline">
            Undo
          </button>
        )}
      </span>
    );
  const state = s.states.get(id);
  return state ? <EnforcementBadge state={state} onRetry={() => s.retry(id, state)} /> : <span className="text-slate-600">—</span>;
}

function ByCell({ row }: CellContext<QueueRow, unknown>) {
  const state = useCells().states.get(row.original.id);
  if (!state?.decider) return null;
  const proposal = state.enforcement === "proposed" || state.confirmer;
  return (
    <span className="text-xs text-slate-700">
      {proposal ? `proposed by ${state.decider}` : state.decider}
      {state.confirmer ? `, confirmed by ${state.confirmer}` : ""}
    </span>
  );
}

const FINDING_COLUMNS = [
  col.display({ id: "state", header: "Decision", cell: StateCell }),
  col.accessor("severity", { header: "Severity", cell: (c) => <Badge tone={SEVERITY_TONE[c.getValue() as keyof typeof SEVERITY_TONE]}>{c.getValue()} · {c.row.original.riskScore}</Badge> }),
  col.accessor("rule", { header: "Rule", cell: (c) => ruleLabel(c.getValue()) }),
  col.accessor("principal", { header: "Principal" }),
  col.accessor("scope", { header: "Scope", cell: (c) => <Badge tone={levelTone(c.row.original.level)}>{c.getValue()}</Badge> }),
  col.accessor("environment", { header: "Env" }),
  col.accessor("lastUsedAt", { header: "Last used", cell: (c) => day(c.getValue()) }),
  col.accessor("assigneeName", { header: "Assignee", cell: (c) => c.getValue() ?? <span className="text-slate-600">—</span> }),
  col.display({ id: "by", header: "Decided by", cell: ByCell }),
];

/** For reviewers on the open view: a selection box first, then the decision state. */
export const DECIDER_COLUMNS = [col.display({ id: "select", header: SelectAll, cell: SelectCell }), ...FINDING_COLUMNS];
/** For everyone else, and for views where nothing can be selected (proposals, decided). */
export const READ_ONLY_COLUMNS = FINDING_COLUMNS;
