"use client";
import { useCallback, useEffect, useMemo, useState } from "react";
import { readJson, type Json } from "@/components/read-json";
import type { DecisionState, QueueRow } from "@/lib/review";

/** A decision's state as the queue shows it: from the server page (dates) or a poll (ISO strings). */
export type DecisionStateView = DecisionState | Json<DecisionState>;

const fromRows = (rows: QueueRow[]) => new Map<string, DecisionStateView>(rows.flatMap((r) => (r.decision ? [[r.id, r.decision]] : [])));

/**
 * The decision state of each finding on the page, keyed by finding id. A
 * fresh decision is shown at once; until the proxies settle it, its state is
 * polled from GET /api/ui/decisions.
 */
export function useDecisionStates(rows: QueueRow[]) {
  const [states, setStates] = useState(() => fromRows(rows));
  // A new page of rows (navigation or refresh) replaces what we knew.
  const [shownRows, setShownRows] = useState(rows);
  if (shownRows !== rows) {
    setShownRows(rows);
    setStates(fromRows(rows));
  }

  const pendingIds = useMemo(
    () => [...states.values()].filter((s) => s.enforcement === "pending").map((s) => s.decisionId),
    [states],
  );
  useEffect(() => {
    if (pendingIds.length === 0) return;
    const t = setTimeout(async () => {
      const r = await readJson<DecisionState[]>(`/api/ui/decisions?ids=${pendingIds.join(",")}`);
      if (!r.ok) return;
      setStates((old) => {
        const next = new Map(old);
        for (const s of r.data) if (s.findingId) next.set(s.findingId, s);
        return next;
      });
    }, 250);
    return () => clearTimeout(t);
  }, [pendingIds]);

  /** Shows decisions just made (or a retry just asked for) until the next poll says more. */
  const record = useCallback((results: (Pick<DecisionState, "decisionId" | "kind" | "awaitingConfirmation" | "enforcement"> & { findingId: string })[]) => {
    setStates((old) => {
      const next = new Map(old);
      for (const d of results) next.set(d.findingId, { ...d, revision: null, enforcedAt: null, verifiedRemovedAt: null, lastError: null, waitingOn: null });
      return next;
    });
  }, []);

  return { states, record };
}
