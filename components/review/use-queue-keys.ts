"use client";
import { useShortcuts } from "@/components/keyboard/use-shortcuts";
import type { PanelMode } from "./finding-panel";

export const QUEUE_SHORTCUTS = [
  ["j / k", "Next / previous finding"],
  ["x", "Select or unselect the finding"],
  ["a", "Approve (asks for a justification)"],
  ["r", "Revoke the grant"],
  ["e", "Reduce to the scopes used"],
  ["?", "Show or hide this help"],
  ["Esc", "Close"],
] as const;

interface QueueKeys {
  rowCount: number;
  /** The active row has no decision yet. */
  canDecide: boolean;
  onHelp: () => void;
  onEscape: () => void;
  onMove: (by: 1 | -1) => void;
  onToggle: () => void;
  onMode: (mode: PanelMode) => void;
  onRevoke: () => void;
}

/** The queue's keyboard shortcuts (QUEUE_SHORTCUTS, shown in the help overlay). */
export function useQueueKeys(k: QueueKeys) {
  useShortcuts({
    "?": k.onHelp,
    Escape: k.onEscape,
    j: () => k.onMove(1),
    k: () => k.onMove(-1),
    x: () => k.rowCount > 0 && (k.onToggle(), true),
    a: () => k.canDecide && (k.onMode("approve"), true),
    e: () => k.canDecide && (k.onMode("reduce"), true),
    r: () => k.canDecide && (k.onRevoke(), true),
  });
}
