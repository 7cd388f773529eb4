// Shapes the queue's client components receive (serialisable; dates as ISO strings or Date from server props).
export type ActionResult<T> = { ok: true; data: T } | { ok: false; error: string; field?: string; code: string };

export interface DecisionStateView {
  decisionId: string;
  findingId: string | null;
  kind: string;
  enforcement: string;
  awaitingConfirmation: boolean;
  revision: number | null;
  enforcedAt: Date | string | null;
  verifiedRemovedAt: Date | string | null;
  lastError: string | null;
}

export interface DecisionResultView {
  decisionId: string;
  findingId: string;
  kind: string;
  awaitingConfirmation: boolean;
  enforcement: string;
}

export interface BulkResultView {
  decided: DecisionResultView[];
  failed: { findingId: string; code: string; message: string }[];
}

export interface QueueActions {
  approve: (input: unknown) => Promise<ActionResult<DecisionResultView>>;
  revoke: (input: unknown) => Promise<ActionResult<DecisionResultView>>;
  reduce: (input: unknown) => Promise<ActionResult<DecisionResultView>>;
  bulkApprove: (input: unknown) => Promise<ActionResult<BulkResultView>>;
  bulkRevoke: (input: unknown) => Promise<ActionResult<BulkResultView>>;
  bulkReduce: (input: unknown) => Promise<ActionResult<BulkResultView>>;
  claim: (input: unknown) => Promise<ActionResult<unknown>>;
  confirm: (input: unknown) => Promise<ActionResult<DecisionResultView>>;
  retry: (input: unknown) => Promise<ActionResult<unknown>>;
  detail: (findingId: string) => Promise<ActionResult<unknown>>;
  states: (decisionIds: string[]) => Promise<ActionResult<DecisionStateView[]>>;
}
