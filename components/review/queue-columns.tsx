"use client";
import { createColumnHelper } from "@tanstack/react-table";
import { Badge, levelTone } from "@/components/badge";
import { words } from "@/components/format";
import type { QueueRow } from "@/lib/review";
import { EnforcementBadge } from "./enforcement-badge";
import type { DecisionStateView } from "./use-decision-states";

const SEVERITY_TONE = { critical: "bad", high: "bad", medium: "warn", low: "neutral" } as const;
const col = createColumnHelper<QueueRow>();
const day = (d: Date | string | null) => (d ? new Date(d).toISOString().slice(0, 10) : "never");

interface QueueColumnsArgs {
  rows: QueueRow[];
  selected: Set<string>;
  states: Map<string, DecisionStateView>;
  toggle: (findingId: string) => void;
  setSelected: (ids: Set<string>) => void;
  retry: (findingId: string, state: DecisionStateView) => void;
}

/** The queue's columns: selection, the finding, and what became of its decision. */
export function queueColumns({ rows, selected, states, toggle, setSelected, retry }: QueueColumnsArgs) {
  return [
    col.display({
      id: "select",
      header: () => (
        <input
          type="checkbox"
          aria-label="Select all on this page"
          // Only rows still open count: on a page of decided findings (the "Recently decided" view) nothing is
          // selectable, so the box is neither ticked nor usable.
          disabled={rows.every((r) => states.has(r.id))}
          checked={rows.some((r) => !states.has(r.id)) && rows.every((r) => selected.has(r.id) || states.has(r.id))}
          onChange={(e) => setSelected(e.target.checked ? new Set(rows.filter((r) => !states.has(r.id)).map((r) => r.id)) : new Set())}
        />
      ),
      cell: ({ row }) => (
        <input
          type="checkbox"
          aria-label={`Select finding for ${row.original.principal}`}
          disabled={states.has(row.original.id)}
          checked={selected.has(row.original.id)}
          onChange={() => toggle(row.original.id)}
        />
      ),
    }),
    col.accessor("severity", { header: "Severity", cell: (c) => <Badge tone={SEVERITY_TONE[c.getValue() as keyof typeof SEVERITY_TONE]}>{c.getValue()} · {c.row.original.riskScore}</Badge> }),
    col.accessor("rule", { header: "Rule", cell: (c) => words(c.getValue()) }),
    col.accessor("principal", { header: "Principal" }),
    col.accessor("scope", { header: "Scope", cell: (c) => <Badge tone={levelTone(c.row.original.level)}>{c.getValue()}</Badge> }),
    col.accessor("environment", { header: "Env" }),
    col.accessor("lastUsedAt", { header: "Last used", cell: (c) => day(c.getValue()) }),
    col.accessor("assigneeName", { header: "Assignee", cell: (c) => c.getValue() ?? <span className="text-slate-600">—</span> }),
    col.display({
      id: "state",
      header: "Decision",
      cell: ({ row }) => {
        const s = states.get(row.original.id);
        return s ? <EnforcementBadge state={s} onRetry={() => retry(row.original.id, s)} /> : null;
      },
    }),
  ];
}
