"use client";
import { useEffect, useRef } from "react";

/**
 * Single-key shortcuts on the window (e.g. { j: next, "?": help }), ignored while
 * typing in a field or with a modifier held. A handler that returns false leaves
 * the key alone (its default action happens). The listener is installed once and
 * reads the latest handlers through a ref, so callers may pass a new map each render.
 */
export function useShortcuts(handlers: Record<string, () => boolean | void>) {
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, [contenteditable=true]") || e.metaKey || e.ctrlKey || e.altKey) return;
      const handler = Object.hasOwn(latest.current, e.key) ? latest.current[e.key] : undefined;
      if (handler && handler() !== false) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
