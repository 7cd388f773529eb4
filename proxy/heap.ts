import v8 from "node:v8";
import vm from "node:vm";

// Keeping the proxy's memory near what its state needs. The state of a million
// grants is ~90 MB of heap plus ~60 MB of typed arrays; what V8 does with the
// garbage around it decided whether RSS was 270 or 500 MB. Measured with
// `--trace-gc` and /proc/<pid>/status (docs/BENCHMARKS.md, "Enforcement proxy").

/**
 * V8 lets the old generation grow to a multiple of the live size before its
 * next full collection, and picks the multiple from how fast it collects. While
 * a 1M-grant snapshot was ingested, the peak RSS (VmHWM) was 339–510 MB over
 * five runs, depending on where the collections fell. Capped at 1.5x the live
 * size, eight runs peaked at 330–349 MB. Steady traffic allocates almost nothing
 * that survives (see deadlines.ts), so full collections stay rare under load.
 * The flag is read by V8 each time it sets the next limit, so setting it at
 * start-up applies to the whole run without changing how the proxy is started.
 */
export function boundHeapGrowth(percent = 50): void {
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

let gc: (() => void) | null | undefined;

function load(): (() => void) | null {
  // gc() is only exposed with --expose-gc; setting the flag at runtime and
  // reading gc from a fresh context gives it (as jest's leak detector does).
  try {
    v8.setFlagsFromString("--expose-gc");
    const fn = vm.runInNewContext("gc") as unknown;
    return typeof fn === "function" ? (fn as () => void) : null;
  } catch {
    return null;
  } finally {
    v8.setFlagsFromString("--no-expose-gc");
  }
}

/**
 * One full collection, run right after the enforcement state is replaced or
 * loaded: the old state and the snapshot's parse garbage become unreachable at
 * that moment, and without it RSS stayed at 320–500 MB after a 1M-grant
 * snapshot until traffic happened to trigger a collection (measured: 30 ms,
 * heap 161.7 → 87.1 MB). That pause comes once per push or pull (minutes
 * apart), never per request. Returns its duration in ms, or null when this
 * runtime cannot collect on demand.
 */
export function collectGarbage(): number | null {
  if (gc === undefined) gc = typeof globalThis.gc === "function" ? globalThis.gc : load();
  if (!gc) return null;
  const t = performance.now();
  gc();
  return Math.round((performance.now() - t) * 10) / 10;
}
