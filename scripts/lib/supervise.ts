import type { ChildProcess } from "node:child_process";

/**
 * Keeps one child process running under `npm start`: when it exits without
 * being asked to, the exit is logged and it is started again after a backoff
 * that doubles while it keeps dying quickly (1 s, 2 s, 4 s … capped) and resets
 * once it has stayed up a while. The dashboard and the proxy are supervised
 * separately, so a dashboard crash (say, an import that exhausted its heap) no
 * longer takes enforcement down: the proxy keeps serving its last state, as it
 * does when the dashboard is merely unreachable.
 */
export interface SupervisorOptions {
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run at least this long counts as healthy: the next crash starts the backoff over. */
  stableAfterMs?: number;
  log?: (line: string) => void;
}

export interface Supervisor {
  readonly name: string;
  current(): ChildProcess | null;
  /** Stops supervising and lets `stopChild` end the current process. */
  stop(stopChild: (c: ChildProcess) => Promise<void>): Promise<void>;
}

export function supervise(name: string, start: () => ChildProcess, opts: SupervisorOptions = {}): Supervisor {
  const minBackoff = opts.minBackoffMs ?? 1_000;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  const stableAfter = opts.stableAfterMs ?? 60_000;
  const log = opts.log ?? ((line: string) => console.error(`[tollgate] ${line}`));
  let child: ChildProcess | null = null;
  let stopping = false;
  let backoff = minBackoff;
  let restarts = 0;
  let timer: NodeJS.Timeout | null = null;

  const launch = () => {
    timer = null;
    if (stopping) return;
    const startedAt = Date.now();
    const c = start();
    child = c;
    log(`${name} started (pid ${c.pid})`);
    c.once("error", (e) => log(`${name} could not be started: ${e.message}`));
    c.once("exit", (code, signal) => {
      if (child === c) child = null;
      if (stopping) return;
      if (Date.now() - startedAt >= stableAfter) backoff = minBackoff;
      restarts++;
      log(`${name} exited (${signal ? `signal ${signal}` : `code ${code}`}); restarting in ${Math.round(backoff / 100) / 10} s (restart ${restarts})`);
      timer = setTimeout(launch, backoff);
      backoff = Math.min(backoff * 2, maxBackoff);
    });
  };
  launch();

  return {
    name,
    current: () => child,
    async stop(stopChild) {
      stopping = true;
      if (timer) clearTimeout(timer);
      if (child) await stopChild(child);
    },
  };
}
