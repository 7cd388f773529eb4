// The inventory's public API: pages, tests and benchmarks read through these.
export { getOverview, AGE_BUCKETS, type Overview, type AgeBucket } from "./overview";
export { getOverviewTrends, SEVERITIES, REMOVAL_STATES, REMOVAL_WEEKS, PROXY_LAG_WARN_SECONDS, type OverviewTrends } from "./overview-trends";
export { listGrants, type GrantPage, type GrantRow } from "./grants";
export { listApis, getApi, getGrantFilterOptions, HOLDERS_SHOWN, type ApiSummary, type ApiDetail } from "./apis";
export { getPrincipal, type PrincipalDetail } from "./principals";
export * from "./grants-params";
