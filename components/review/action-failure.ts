/**
 * What a reviewer reads when a decision is refused. A conflict means someone
 * else acted first (or the finding changed under the reviewer): saying only the
 * server's sentence left a stale panel with its buttons live, so the caller
 * reloads the current state and the message says that it did.
 */
export interface ActionFailure {
  error: string;
  code: string;
}

export function describeActionFailure(f: ActionFailure): { message: string; reload: boolean } {
  if (f.code === "conflict") {
    return { message: `Not applied: ${f.error} The finding has been reloaded with its current state; review it and decide again if still needed.`, reload: true };
  }
  return { message: f.error, reload: false };
}
