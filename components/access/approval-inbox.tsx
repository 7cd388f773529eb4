"use client";
import { useEffect, useRef, useState } from "react";
import { approveRequestAction, denyRequestAction } from "@/app/(dashboard)/access/actions";
import { ActionForm } from "@/components/action-form";
import { HelpOverlay } from "@/components/keyboard/help-overlay";
import { useShortcuts } from "@/components/keyboard/use-shortcuts";
import type { RequestRow } from "@/lib/access/queries";
import { RequestTable } from "./request-table";

const INBOX_SHORTCUTS = [
  ["j / k", "Next / previous request"],
  ["a", "Go to Approve (Enter approves)"],
  ["d", "Go to the denial reason (Enter denies)"],
  ["?", "Show or hide this help"],
  ["Esc", "Close"],
] as const;

/**
 * The approvals inbox: the server-driven request table (status and page in the URL)
 * with a keyboard cursor like the review queue's. A shortcut only moves the focus to
 * the active row's Approve button or denial reason: granting access takes a deliberate Enter.
 */
export function ApprovalInbox({ rows, total, page, pageSize, status }: { rows: RequestRow[]; total: number; page: number; pageSize: number; status: string }) {
  const [active, setActive] = useState(0);
  const [help, setHelp] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  // A new page of rows starts at its first row.
  const [shownRows, setShownRows] = useState(rows);
  if (shownRows !== rows) {
    setShownRows(rows);
    setActive(0);
  }
  const activeRow = () => box.current?.querySelector(`tr[data-row-index="${Math.min(active, rows.length - 1)}"]`);
  const focusIn = (selector: string) => {
    const el = activeRow()?.querySelector<HTMLElement>(selector);
    el?.focus();
    return Boolean(el);
  };
  useShortcuts({
    "?": () => setHelp((h) => !h),
    Escape: () => setHelp(false),
    j: () => setActive((i) => Math.max(0, Math.min(rows.length - 1, i + 1))),
    k: () => setActive((i) => Math.max(0, i - 1)),
    a: () => focusIn('button[data-decision="approve"]'),
    d: () => focusIn('input[name="reason"]'),
  });
  useEffect(() => {
    box.current?.querySelector(`tr[data-row-index="${active}"]`)?.scrollIntoView({ block: "nearest" });
  }, [active]);

  return (
    <div ref={box} className="flex flex-col gap-2">
      <button type="button" onClick={() => setHelp(true)} className="self-end text-xs text-slate-500 underline">
        Keyboard shortcuts (?)
      </button>
      <RequestTable
        rows={rows}
        total={total}
        page={page}
        pageSize={pageSize}
        status={status}
        basePath="/access/approvals"
        active={{ index: active, onSelect: setActive }}
        actions={(r) =>
          r.status === "pending" && !r.approvedByMe ? (
            <div className="flex flex-col gap-2">
              <ActionForm action={approveRequestAction}>
                <input type="hidden" name="requestId" value={r.id} />
                <button type="submit" data-decision="approve" className="rounded bg-emerald-700 px-2 py-1 text-xs text-white">
                  Approve
                </button>
              </ActionForm>
              <ActionForm action={denyRequestAction} className="flex flex-col gap-1">
                <input type="hidden" name="requestId" value={r.id} />
                <input name="reason" required maxLength={2000} aria-label="Reason for denial" placeholder="Reason for denial" className="rounded border border-slate-300 px-1 py-0.5 text-xs" />
                <button type="submit" className="rounded border border-red-300 px-2 py-1 text-xs text-red-700">
                  Deny
                </button>
              </ActionForm>
            </div>
          ) : null
        }
      />
      {help ? <HelpOverlay shortcuts={INBOX_SHORTCUTS} onClose={() => setHelp(false)} /> : null}
    </div>
  );
}
