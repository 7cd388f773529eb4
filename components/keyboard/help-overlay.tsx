"use client";

/** A list of shortcuts: [key, what it does]. */
export type ShortcutList = readonly (readonly [string, string])[];

/** The "?" dialog listing a page's keyboard shortcuts (the review queue, the approvals inbox). */
export function HelpOverlay({ shortcuts, onClose }: { shortcuts: ShortcutList; onClose: () => void }) {
  return (
    <div role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/40" onClick={onClose}>
      <div className="w-80 rounded bg-white p-4 shadow-lg" onClick={(e) => e.stopPropagation()}>
        <h2 className="mb-2 font-semibold">Keyboard shortcuts</h2>
        <dl className="grid grid-cols-[5rem_1fr] gap-y-1 text-sm">
          {shortcuts.map(([key, what]) => (
            <div key={key} className="contents">
              <dt>
                <kbd className="rounded border border-slate-300 bg-slate-50 px-1 font-mono text-xs">{key}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <button type="button" onClick={onClose} className="mt-3 rounded border border-slate-300 px-2 py-1 text-sm">
          Close
        </button>
      </div>
    </div>
  );
}
