export { approveFinding, revokeGrant, reduceGrant, confirmDecision, type DecisionResult } from "./decide";
export { bulkApprove, bulkRevoke, bulkReduce, type BulkResult } from "./bulk";
export { claimFinding, assignFinding } from "./assign";
export { listQueue, decisionStates, needsSecondReviewCount, queueFilterOptions, type QueueRow, type QueuePage, type DecisionState } from "./queue";
export { getFindingDetail, type FindingDetail } from "./detail";
export * from "./queue-params";
export * from "./schemas";
export { queueStance, type QueueStance } from "./stance";
