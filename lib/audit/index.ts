export { appendAuditEvent, verifyAuditChain, type AuditEventInput, type ChainVerification } from "./chain";
export { canonicalJSON, GENESIS_HASH } from "./canonical";
export { verifyAuditLog, type AuditLogVerification } from "./verify";
export { createCheckpoint, latestCheckpoint } from "./publish";
