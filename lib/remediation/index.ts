export { createPolicy, disablePolicy, enablePolicy, previewPolicy, type PolicyPreview } from "./policies";
export { runRemediation, type RunResult } from "./execute";
export { objectToItem } from "./objection";
export { rollbackItem } from "./rollback";
export { listPolicies, listPolicyItems, myNotices } from "./queries";
export { DEFAULT_NOTICE_DAYS, KIND_TITLES, REMEDIATION_KINDS, ROLLBACK_DAYS, itemIdInput, objectionInput, policyIdInput, policyInput } from "./schemas";
