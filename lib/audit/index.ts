export { appendAuditEvent, verifyAuditChain, type AuditEventInput, type ChainVerification } from "./chain";
export { canonicalJSON, GENESIS_HASH } from "./canonical";
