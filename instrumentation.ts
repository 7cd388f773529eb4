// Next.js instrumentation hook: runs once when a server process starts.
// Background work (outbox delivery, schedules) needs Node and a database, so it
// starts only in the Node runtime, never in the edge runtime or during a build.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  // The whole configuration (cron schedules included) is checked once, at start-up: a bad value
  // stops the server naming the variable rather than switching a background job off later.
  const { env } = await import("@/lib/config/env");
  env();
  if (process.env.TOLLGATE_BACKGROUND === "0") return;
  const { startBackground } = await import("@/lib/enforcement/background");
  void startBackground();
}
