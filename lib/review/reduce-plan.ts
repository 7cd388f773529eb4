/**
 * Reduce keeps some of a principal's scopes on an API and revokes the rest.
 * Pure, shared by the detail route (is Reduce worth offering?) and the panel's
 * form (is this choice a reduce at all?), with the same sentences planReduce
 * (./record.ts) answers when it refuses, so the reviewer reads them before
 * anything is sent rather than after.
 */
export interface ReducibleScope {
  scopeId: string;
  usedInWindow: boolean;
}

export const KEEP_NONE = "keep at least one scope (to remove all, revoke)";
export const REMOVES_NOTHING = "nothing would be removed (to keep everything, approve)";

/** What the default reduce (keep what was used in the window) would do. */
export function defaultReduce(scopes: ReducibleScope[]): { keepScopeIds: string[]; removes: number; offered: boolean } {
  const keepScopeIds = scopes.filter((s) => s.usedInWindow).map((s) => s.scopeId);
  const removes = scopes.length - keepScopeIds.length;
  // Not offered when the default would remove nothing (everything was used) or everything (nothing was used: that is a revoke).
  return { keepScopeIds, removes, offered: keepScopeIds.length > 0 && removes > 0 };
}

/** Why a chosen set of scopes to keep is not a reduce, or null when it is one. */
export function reduceChoiceError(scopes: ReducibleScope[], keep: string[]): string | null {
  const held = new Set(scopes.map((s) => s.scopeId));
  const kept = new Set(keep.filter((id) => held.has(id)));
  if (kept.size === 0) return KEEP_NONE;
  if (kept.size === held.size) return REMOVES_NOTHING;
  return null;
}
