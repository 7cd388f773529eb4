// Where an import's time goes, for the benchmark (bench/access-import.ts) and for
// anyone profiling one: each step reports its name and wall time to a listener
// when one is set, and costs one performance.now() otherwise.

type Listener = (phase: string, ms: number) => void;
let listener: Listener | null = null;

/** Set (or clear, with null) the process-wide listener. */
export function onImportPhase(l: Listener | null): void {
  listener = l;
}

/** A stopwatch: lap(name) reports the time since the previous lap (or since it started). */
export function phaseTimer(prefix: string) {
  let last = performance.now();
  return {
    lap(name: string) {
      const now = performance.now();
      listener?.(`${prefix}${name}`, now - last);
      last = now;
    },
  };
}
