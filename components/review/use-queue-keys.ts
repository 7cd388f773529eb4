"use client";
import { useShortcuts } from "@/components/keyboard/use-shortcuts";
import type { PanelMode } from "./finding-panel";

export const READ_ONLY_SHORTCUTS = [
  ["Tab", "Reach the findings; Enter or Space opens one"],
  ["j / k", "Next / previous finding"],
  ["?", "Show or hide this help"],
  ["Esc", "Close"],
] as const;

export const QUEUE_SHORTCUTS = [
  ...READ_ONLY_SHORTCUTS.slice(0, 2),
  ["x", "Select or unselect the finding"],
  ["a", "Approve (asks for a justification)"],
  ["r", "Revoke the grant (sent after a few seconds; Undo cancels)"],
  ["e", "Reduce to the scopes used"],
  ["u", "Undo the last decision still in its undo window"],
  ...READ_ONLY_SHORTCUTS.slice(2),
] as const;

interface QueueKeys {
  rowCount: number;
  /** The active row can be decided by this person now. */
  canDecide: boolean;
  /** Rows can be selected for bulk decisions. */
  canSelect: boolean;
  onHelp: () => void;
  onEscape: () => void;
  onMove: (by: 1 | -1) => void;
  onToggle: () => void;
  onMode: (mode: PanelMode) => void;
  onRevoke: () => void;
  onUndo: () => boolean;
}

/** The queue's keyboard shortcuts (QUEUE_SHORTCUTS, shown in the help overlay). */
export function useQueueKeys(k: QueueKeys) {
  useShortcuts({
    "?": k.onHelp,
    Escape: k.onEscape,
    j: () => k.onMove(1),
    k: () => k.onMove(-1),
    x: () => k.canSelect && k.rowCount > 0 && (k.onToggle(), true),
    a: () => k.canDecide && (k.onMode("approve"), true),
    e: () => k.canDecide && (k.onMode("reduce"), true),
    r: () => k.canDecide && (k.onRevoke(), true),
    u: () => k.onUndo(),
  });
}
