"use client";
import { useEffect, useState } from "react";
import type { UndoEntry } from "./use-undo-decisions";

/** Seconds left in an undo window, counted down while any toast shows. */
export function useSecondsLeft(entries: UndoEntry[]) {
  const [now, setNow] = useState(() => Date.now());
  const any = entries.length > 0;
  useEffect(() => {
    if (!any) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [any]);
  return (e: UndoEntry) => Math.max(0, Math.ceil((e.due - now) / 1000));
}

/** The undo toasts, bottom right: what will be sent, in how long, and Undo. */
export function UndoToasts({ entries, onUndo }: { entries: UndoEntry[]; onUndo: (findingId: string) => void }) {
  const secondsLeft = useSecondsLeft(entries);
  return (
    <div aria-live="polite" className="fixed bottom-4 right-4 z-40 flex w-96 max-w-[calc(100vw-2rem)] flex-col gap-2">
      {entries.map((e) => (
        <div key={e.findingId} role="status" data-testid="undo-toast" data-finding-id={e.findingId} className="flex items-center justify-between gap-3 rounded bg-slate-900 px-3 py-2 text-sm text-white shadow-lg">
          <span>{e.sending ? `${e.label}: sending…` : `${e.label} in ${secondsLeft(e)} s`}</span>
          {e.sending ? null : (
            <button type="button" onClick={() => onUndo(e.findingId)} className="rounded px-2 py-0.5 font-medium text-sky-200 underline hover:bg-slate-700 focus-visible:outline focus-visible:outline-2 focus-visible:outline-sky-300">
              Undo
            </button>
          )}
        </div>
      ))}
    </div>
  );
}
