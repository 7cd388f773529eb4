import type { ActionError } from "@/lib/action";

/**
 * What a reviewer reads when a decision is refused. A conflict means someone
 * else acted first (or the finding changed under the reviewer): saying only the
 * server's sentence left a stale panel with its buttons live, so the caller
 * reloads the current state and the message says that it did. Takes the
 * `error` of a failed ActionResult (lib/action.ts).
 */
export function describeActionFailure(error: Pick<ActionError, "code" | "message">): { message: string; reload: boolean } {
  if (error.code === "conflict") {
    return { message: `Not applied: ${error.message} The finding has been reloaded with its current state; review it and decide again if still needed.`, reload: true };
  }
  return { message: error.message, reload: false };
}
