export { planImport, applyImport, type ImportInput, type ImportPlan, type ImportResult, type ImportOptions } from "./openapi/import";
export { setScopeLevel, scopeLevelInput } from "./openapi/scope-level";
export { inferLevel, extractDescription, normalizeTemplate } from "./openapi/extract";
export { parseOpenApi } from "./openapi/parse";
export { openApiMaxBytes } from "./config";
export type { Diff } from "./openapi/diff";
export { listShadowEndpoints, dismissShadowEndpoint, addShadowToInventory, addShadowInput, dismissShadowInput, type ShadowRow } from "./shadow";
export { listZombieEndpoints, stopRoutingZombie, stopZombieInput, openZombieFindings, ZOMBIE_WINDOW_DAYS, type ZombieRow } from "./zombies";
export { listEndpointFindings, type EndpointFindingRow } from "./endpoint-findings";
