"use client";
import { useEffect, useRef } from "react";
import type { PanelMode } from "./finding-panel";

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

/** The queue's keyboard shortcuts (listed in HelpOverlay); ignored while typing in a field. */
export function useQueueKeys(keys: QueueKeys) {
  // The listener is installed once and reads the latest handlers through a ref.
  const latest = useRef(keys);
  useEffect(() => {
    latest.current = keys;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = latest.current;
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, [contenteditable=true]") || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === "?") k.onHelp();
      else if (e.key === "Escape") k.onEscape();
      else if (e.key === "j") k.onMove(1);
      else if (e.key === "k") k.onMove(-1);
      else if (e.key === "x" && k.rowCount > 0) k.onToggle();
      else if (e.key === "a" && k.canDecide) k.onMode("approve");
      else if (e.key === "e" && k.canDecide) k.onMode("reduce");
      else if (e.key === "r" && k.canDecide) k.onRevoke();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
