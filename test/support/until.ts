/**
 * Waits on a condition instead of a sleep: calls `fn` until `ok` accepts its
 * value, and fails naming `what` (and the last value) once `timeoutMs` has passed.
 * The cap only stops a test that would otherwise hang; set it wide on a busy machine.
 */
export async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
