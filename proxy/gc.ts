import v8 from "node:v8";
import vm from "node:vm";

// A full garbage collection on demand, used once after the enforcement state is
// replaced. The old state (a million grants is ~90 MB of heap) and the
// snapshot's parse garbage become unreachable at that moment, but V8 collects
// its old generation only when it next reaches its growth limit, which it sets
// at up to several times the live size: measured, the proxy sat at 320–500 MB
// RSS after a snapshot instead of ~260 MB until traffic happened to trigger a
// collection. One collection here costs a pause of tens of milliseconds (logged)
// once per state replacement — a push or a pull every few minutes — and keeps
// RSS near the live size.
//
// V8's gc() is only exposed with --expose-gc; setting the flag at runtime and
// reading gc from a fresh context gives it without changing how the proxy is
// started (the approach jest's leak detector uses).

let gc: (() => void) | null | undefined;

function load(): (() => void) | null {
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

/** Runs a full collection; returns its duration in ms, or null when this runtime cannot. */
export function collectGarbage(): number | null {
  if (gc === undefined) gc = typeof globalThis.gc === "function" ? globalThis.gc : load();
  if (!gc) return null;
  const t = performance.now();
  gc();
  return Math.round((performance.now() - t) * 10) / 10;
}
