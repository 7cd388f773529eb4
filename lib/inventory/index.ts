// The inventory's public API: pages, tests and benchmarks read through these.
export { getOverview, AGE_BUCKETS, type Overview, type AgeBucket } from "./overview";
export { listGrants, type GrantPage, type GrantRow } from "./grants";
export { listApis, getApi, getGrantFilterOptions, HOLDERS_SHOWN, type ApiSummary, type ApiDetail } from "./apis";
export { getPrincipal, type PrincipalDetail } from "./principals";
export * from "./grants-params";
