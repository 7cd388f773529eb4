"use client";
import { useCallback, useEffect, useMemo, useState } from "react";
import { readJson, type Json } from "@/components/read-json";
import type { DecisionState, QueueRow } from "@/lib/review";

/** A decision's state as the queue shows it: from the server page (dates) or a poll (ISO strings). */
export type DecisionStateView = DecisionState | Json<DecisionState>;

const fromRows = (rows: QueueRow[]) => new Map<string, DecisionStateView>(rows.flatMap((r) => (r.decision ? [[r.id, r.decision]] : [])));

/** Until the proxies answer, a delivery settles in well under a second: look often. */
const PENDING_POLL_MS = 250;
/** A proposal waits for another person: look every couple of seconds, so a confirm shows promptly. */
const PROPOSED_POLL_MS = 2_000;

/**
 * The decision state of each finding on the page, keyed by finding id. A
 * fresh decision is shown at once; while it is pending delivery or waiting
 * for a second reviewer, its state is read from GET /api/ui/decisions (a
 * route handler, not a server action: a read must not queue behind the
 * reviewer's next click).
 */
export function useDecisionStates(rows: QueueRow[]) {
  const [states, setStates] = useState(() => fromRows(rows));
  // A new page of rows (navigation or refresh) replaces what we knew.
  const [shownRows, setShownRows] = useState(rows);
  if (shownRows !== rows) {
    setShownRows(rows);
    setStates(fromRows(rows));
  }

  const watch = useMemo(() => {
    const live = [...states.values()].filter((s) => s.enforcement === "pending" || s.enforcement === "proposed");
    return { ids: live.map((s) => s.decisionId).join(","), delay: live.some((s) => s.enforcement === "pending") ? PENDING_POLL_MS : PROPOSED_POLL_MS };
  }, [states]);
  // Bumped after every answer, so an unchanged proposal is looked at again.
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (!watch.ids) return;
    const t = setTimeout(async () => {
      const r = await readJson<DecisionState[]>(`/api/ui/decisions?ids=${watch.ids}`);
      if (r.ok) {
        setStates((old) => {
          let next: Map<string, DecisionStateView> | null = null;
          for (const s of r.data) {
            const before = s.findingId ? old.get(s.findingId) : undefined;
            if (!s.findingId || (before && JSON.stringify(before) === JSON.stringify(s))) continue;
            next ??= new Map(old);
            next.set(s.findingId, s);
          }
          return next ?? old;
        });
      }
      setRound((n) => n + 1);
    }, watch.delay);
    return () => clearTimeout(t);
  }, [watch, round]);

  /** Shows decisions just made (or a retry just asked for) until the next poll says more. */
  const record = useCallback((results: (Pick<DecisionState, "decisionId" | "kind" | "awaitingConfirmation" | "enforcement" | "environment"> & { findingId: string })[]) => {
    setStates((old) => {
      const next = new Map(old);
      for (const d of results) next.set(d.findingId, { ...d, revision: null, enforcedAt: null, verifiedRemovedAt: null, lastError: null, decider: null, confirmer: null, waitingOn: null });
      return next;
    });
  }, []);

  return { states, record };
}

/** Changes whenever what the proxies or a second reviewer did to a decision changes: the panel reloads on it. */
export const stateKey = (s: DecisionStateView | undefined) => (s ? `${s.decisionId}:${s.enforcement}:${s.revision ?? ""}:${s.verifiedRemovedAt ? 1 : 0}` : "");
