"use client";
import { useEffect, useRef } from "react";

/** A modal question (native <dialog>: focus stays inside, Escape cancels). Rendered only while asked. */
export function ConfirmDialog({ title, children, confirmLabel, tone, onConfirm, onCancel }: { title: string; children: React.ReactNode; confirmLabel: string; tone: string; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-dialog-title" onCancel={onCancel} className="w-[28rem] max-w-[calc(100vw-2rem)] rounded border border-slate-300 p-4 text-sm shadow-xl backdrop:bg-slate-900/40" data-testid="confirm-dialog">
      <h2 id="confirm-dialog-title" className="mb-2 text-base font-semibold">
        {title}
      </h2>
      <div className="space-y-2 text-slate-800">{children}</div>
      <div className="mt-4 flex justify-end gap-2">
        <button type="button" onClick={onCancel} className="rounded border border-slate-300 px-2 py-1">
          Cancel
        </button>
        <button type="button" autoFocus onClick={onConfirm} className={`rounded px-2 py-1 text-white ${tone}`}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
