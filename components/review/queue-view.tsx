"use client";
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Badge, levelTone } from "@/components/badge";
import type { QueueRow } from "@/lib/review/queue";
import { describeActionFailure } from "./action-failure";
import { EnforcementBadge } from "./enforcement-badge";
import { FindingPanel, type PanelMode } from "./finding-panel";
import { HelpOverlay } from "./help-overlay";
import type { DecisionStateView, QueueActions } from "./types";

const SEVERITY_TONE = { critical: "bad", high: "bad", medium: "warn", low: "neutral" } as const;
const col = createColumnHelper<QueueRow>();
const day = (d: Date | string | null) => (d ? new Date(d).toISOString().slice(0, 10) : "never");

/**
 * The reviewer queue: one server-rendered page of findings in a TanStack table
 * (manual mode: sort/filter/paging live in the URL), a detail panel for the
 * active row, single and bulk decisions, keyboard shortcuts. After a decision
 * the row stays and shows what the proxies confirmed, polled until settled.
 */
export function QueueView({ rows, actions, toolbar }: { rows: QueueRow[]; actions: QueueActions; toolbar?: React.ReactNode }) {
  const [active, setActive] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [states, setStates] = useState<Map<string, DecisionStateView>>(() => new Map(rows.filter((r) => r.decision).map((r) => [r.id, r.decision as DecisionStateView])));
  const [mode, setMode] = useState<PanelMode>("view");
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [bulkJustification, setBulkJustification] = useState("");
  const tableRef = useRef<HTMLTableElement>(null);
  const router = useRouter();
  // A refused decision: a conflict reloads the panel and the queue page (someone else acted first).
  const failure = useCallback(
    (r: { error: string; code: string }) => {
      const f = describeActionFailure(r);
      if (f.reload) {
        setVersion((v) => v + 1);
        router.refresh();
      }
      return f.message;
    },
    [router],
  );

  useEffect(() => {
    setStates(new Map(rows.filter((r) => r.decision).map((r) => [r.id, r.decision as DecisionStateView])));
    setSelected(new Set());
    setActive(0);
  }, [rows]);

  const activeRow = rows[Math.min(active, rows.length - 1)];

  // Poll the decisions still on their way to the proxies.
  const pendingIds = useMemo(
    () => [...states.values()].filter((s) => !s.awaitingConfirmation && s.enforcement === "pending").map((s) => s.decisionId),
    [states],
  );
  useEffect(() => {
    if (pendingIds.length === 0) return;
    const t = setTimeout(async () => {
      const r = await actions.states(pendingIds);
      if (!r.ok) return;
      setStates((old) => {
        const next = new Map(old);
        for (const s of r.data) if (s.findingId) next.set(s.findingId, s);
        return next;
      });
    }, 250);
    return () => clearTimeout(t);
  }, [pendingIds, actions]);

  const record = useCallback((results: { decisionId: string; findingId: string; kind: string; awaitingConfirmation: boolean; enforcement: string }[]) => {
    setStates((old) => {
      const next = new Map(old);
      for (const d of results)
        next.set(d.findingId, { ...d, revision: null, enforcedAt: null, verifiedRemovedAt: null, lastError: null });
      return next;
    });
  }, []);

  const decide = useCallback(
    async (kind: "approve" | "revoke" | "reduce", input: Record<string, unknown>, findingId = activeRow?.id): Promise<string | null> => {
      if (!findingId) return null;
      const fn = kind === "approve" ? actions.approve : kind === "revoke" ? actions.revoke : actions.reduce;
      const r = await fn({ ...input, findingId });
      if (!r.ok) return failure(r);
      record([r.data]);
      setVersion((v) => v + 1);
      return null;
    },
    [actions, activeRow, record, failure],
  );

  const bulk = async (kind: "approve" | "revoke" | "reduce") => {
    const findingIds = [...selected];
    const fn = kind === "approve" ? actions.bulkApprove : kind === "revoke" ? actions.bulkRevoke : actions.bulkReduce;
    const r = await fn(kind === "approve" ? { findingIds, justification: bulkJustification } : { findingIds });
    if (!r.ok) return setMessage(failure(r));
    record(r.data.decided);
    setSelected(new Set());
    setMessage(
      `${r.data.decided.length} decided` + (r.data.failed.length ? `; ${r.data.failed.length} not decided: ${r.data.failed.map((f) => f.message).join("; ")}` : ""),
    );
  };

  const toggle = useCallback((id: string) => {
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, [contenteditable=true]") || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === "?") setHelp((h) => !h);
      else if (e.key === "Escape") (setHelp(false), setMode("view"));
      else if (e.key === "j") (setActive((i) => Math.min(rows.length - 1, i + 1)), setMode("view"));
      else if (e.key === "k") (setActive((i) => Math.max(0, i - 1)), setMode("view"));
      else if (e.key === "x" && activeRow) toggle(activeRow.id);
      else if (e.key === "a" && activeRow && !states.has(activeRow.id)) setMode("approve");
      else if (e.key === "e" && activeRow && !states.has(activeRow.id)) setMode("reduce");
      else if (e.key === "r" && activeRow && !states.has(activeRow.id)) void decide("revoke", {}).then((m) => setMessage(m));
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [rows.length, activeRow, states, decide, toggle]);

  useEffect(() => {
    tableRef.current?.querySelector(`[data-row-index="${active}"]`)?.scrollIntoView({ block: "nearest" });
  }, [active]);

  const columns = useMemo(
    () => [
      col.display({
        id: "select",
        header: () => (
          <input
            type="checkbox"
            aria-label="Select all on this page"
            checked={rows.length > 0 && rows.every((r) => selected.has(r.id) || states.has(r.id))}
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
      col.accessor("rule", { header: "Rule", cell: (c) => c.getValue().replace("_", " ") }),
      col.accessor("principal", { header: "Principal" }),
      col.accessor("scope", { header: "Scope", cell: (c) => <Badge tone={levelTone(c.row.original.level)}>{c.getValue()}</Badge> }),
      col.accessor("environment", { header: "Env" }),
      col.accessor("lastUsedAt", { header: "Last used", cell: (c) => day(c.getValue()) }),
      col.accessor("assigneeName", { header: "Assignee", cell: (c) => c.getValue() ?? <span className="text-slate-400">—</span> }),
      col.display({
        id: "state",
        header: "Decision",
        cell: ({ row }) => {
          const s = states.get(row.original.id);
          return s ? <EnforcementBadge state={s} onRetry={() => void actions.retry({ decisionId: s.decisionId }).then(() => record([{ ...s, findingId: row.original.id, enforcement: "pending" }]))} /> : null;
        },
      }),
    ],
    [rows, selected, states, toggle, actions, record],
  );

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
        <div className="flex flex-wrap items-center gap-2 rounded border border-sky-200 bg-sky-50 p-2 text-sm" data-testid="bulk-bar">
          <span>{selected.size} selected</span>
          <button type="button" className="rounded bg-red-700 px-2 py-1 text-white" onClick={() => void bulk("revoke")}>
            Revoke selected
          </button>
          <button type="button" className="rounded bg-amber-600 px-2 py-1 text-white" onClick={() => void bulk("reduce")}>
            Reduce selected to used scopes
          </button>
          <input
            aria-label="Justification for bulk approve"
            placeholder="Justification to approve selected"
            value={bulkJustification}
            onChange={(e) => setBulkJustification(e.target.value)}
            className="w-64 rounded border border-slate-300 px-1 py-0.5"
          />
          <button type="button" className="rounded bg-emerald-700 px-2 py-1 text-white" onClick={() => void bulk("approve")}>
            Approve selected
          </button>
        </div>
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
        {activeRow ? (
          <FindingPanel key={activeRow.id} findingId={activeRow.id} actions={actions} mode={mode} setMode={setMode} decide={decide} version={version} />
        ) : null}
      </div>
      {help ? <HelpOverlay onClose={() => setHelp(false)} /> : null}
    </div>
  );
}
