"use client";
import { useState, useTransition } from "react";
import type { ActionResult } from "@/lib/action";

/**
 * A server action started from a button in a table row: one at a time (the
 * buttons disable while it runs), and a refusal shown above the table.
 */
export function useRowAction() {
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const run = (fn: () => Promise<ActionResult<unknown>>) =>
    start(async () => {
      const r = await fn();
      setError(r.ok ? null : r.error.message);
    });
  const alert = error ? (
    <p role="alert" className="mb-2 text-red-700">
      {error}
    </p>
  ) : null;
  return { run, pending, alert };
}
