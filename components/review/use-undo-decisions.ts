"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { ActionResult } from "@/lib/action";
import type { DecisionResult } from "@/lib/review";

/** How long a single decision waits before it is sent: long enough to notice a wrong key, short enough not to forget it. */
export const UNDO_MS = 5_000;

export interface UndoEntry {
  findingId: string;
  /** What will happen, for the toast and the row ("Revoke Rita · payments:write"). */
  label: string;
  /** When it will be sent (epoch ms). */
  due: number;
  /** The window has closed and the decision is on its way (no longer undoable). */
  sending: boolean;
}

type Send = () => Promise<ActionResult<DecisionResult>>;

/**
 * Single decisions wait UNDO_MS in the browser before their server action is
 * called: during the window nothing is recorded and nothing reaches a proxy,
 * so Undo simply cancels. Leaving the queue inside the page (client
 * navigation unmounts it) sends what is waiting at once rather than dropping
 * it; closing or reloading the tab asks first (beforeunload).
 */
export function useUndoDecisions(onSettled: (findingId: string, result: ActionResult<DecisionResult>) => void) {
  const [entries, setEntries] = useState<UndoEntry[]>([]);
  const waiting = useRef(new Map<string, { timer: ReturnType<typeof setTimeout>; send: Send }>());
  const settled = useRef(onSettled);
  useEffect(() => {
    settled.current = onSettled;
  });

  const sendNow = useCallback(async (findingId: string) => {
    const w = waiting.current.get(findingId);
    if (!w) return;
    clearTimeout(w.timer);
    waiting.current.delete(findingId);
    setEntries((es) => es.map((e) => (e.findingId === findingId ? { ...e, sending: true } : e)));
    const result = await w.send();
    setEntries((es) => es.filter((e) => e.findingId !== findingId));
    settled.current(findingId, result);
  }, []);

  /** Starts the window; a second decision on a finding already waiting is ignored. */
  const schedule = useCallback(
    (findingId: string, label: string, send: Send) => {
      if (waiting.current.has(findingId)) return;
      const timer = setTimeout(() => void sendNow(findingId), UNDO_MS);
      waiting.current.set(findingId, { timer, send });
      setEntries((es) => [...es.filter((e) => e.findingId !== findingId), { findingId, label, due: Date.now() + UNDO_MS, sending: false }]);
    },
    [sendNow],
  );

  /** Cancels a waiting decision: nothing was sent, nothing is recorded. */
  const undo = useCallback((findingId: string) => {
    const w = waiting.current.get(findingId);
    if (!w) return false;
    clearTimeout(w.timer);
    waiting.current.delete(findingId);
    setEntries((es) => es.filter((e) => e.findingId !== findingId));
    return true;
  }, []);

  useEffect(() => {
    const map = waiting.current;
    const ask = (e: BeforeUnloadEvent) => {
      if (map.size > 0) e.preventDefault();
    };
    window.addEventListener("beforeunload", ask);
    return () => {
      window.removeEventListener("beforeunload", ask);
      for (const id of [...map.keys()]) void sendNow(id);
    };
  }, [sendNow]);

  return { entries, schedule, undo };
}
