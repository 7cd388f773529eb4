"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { runAnalysisAction } from "@/app/(dashboard)/queues/actions";
import { readJson, type Json } from "@/components/read-json";
import type { latestAnalysisRun } from "@/lib/analysis";

/** The latest run, as the page rendered it (dates) or as polled (ISO strings). */
type Run = NonNullable<Awaited<ReturnType<typeof latestAnalysisRun>>>;
type RunView = Run | Json<Run>;
interface Stats {
  rules?: Record<string, { opened: number; closed: number; ms: number }>;
  heldBack?: { environment: string; reason: string }[];
}

/**
 * "Run analysis now" with visible progress, per-rule timings and why anything
 * was held back. Those who may not run one (managers, auditors) see the last
 * run without the button.
 */
export function AnalysisButton({ initial, canRun }: { initial: RunView | null; canRun: boolean }) {
  const router = useRouter();
  const [run, setRun] = useState<RunView | null>(initial);
  const [error, setError] = useState<string | null>(null);
  const running = run?.status === "running";

  useEffect(() => {
    if (!running) return;
    const t = setTimeout(async () => {
      const r = await readJson<Run | null>("/api/ui/analysis");
      if (r.ok) {
        setRun(r.data);
        if (r.data?.status !== "running") router.refresh();
      }
    }, 500);
    return () => clearTimeout(t);
  }, [running, run, router]);

  const stats = (run?.stats ?? {}) as Stats;
  return (
    <div className="space-y-1 text-sm" data-testid="analysis-status">
      <div className="flex items-center gap-2">
        {canRun ? (
          <button
            type="button"
            disabled={running}
            onClick={async () => {
              setError(null);
              const r = await runAnalysisAction();
              if (!r.ok) return setError(r.error.message);
              const p = await readJson<Run | null>("/api/ui/analysis");
              if (p.ok) setRun(p.data);
              router.refresh();
            }}
            className="rounded bg-slate-800 px-2 py-1 text-white disabled:opacity-50"
          >
            {running ? "Analysing…" : "Run analysis now"}
          </button>
        ) : null}
        {run ? (
          <span className="text-slate-600">
            {running ? (
              <progress max={100} value={run.progress} aria-label="Analysis progress" className="align-middle" />
            ) : (
              <>
                Last run {new Date(run.finishedAt ?? run.startedAt).toISOString().replace("T", " ").slice(0, 16)} UTC: {run.status}
                {run.error ? ` (${run.error})` : ""}
              </>
            )}
          </span>
        ) : (
          <span className="text-slate-600">No analysis has run yet.</span>
        )}
      </div>
      {error ? <p className="text-red-700">{error}</p> : null}
      {stats.heldBack?.length ? (
        <ul className="text-amber-800" data-testid="held-back">
          {stats.heldBack.map((h) => (
            <li key={h.environment}>
              Dormancy findings for {h.environment}: {h.reason}.
            </li>
          ))}
        </ul>
      ) : null}
      {stats.rules && !running ? (
        <details className="text-xs text-slate-600">
          <summary>Per-rule results</summary>
          <ul>
            {Object.entries(stats.rules).map(([rule, s]) => (
              <li key={rule}>
                {rule}: {s.opened} opened, {s.closed} closed, {s.ms} ms
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
