import { FilterSelect } from "@/components/data-table/filter-select";
import { SearchInput } from "@/components/data-table/search-input";
import { GRANT_STATUSES, LAST_USED_BUCKETS, LAST_USED_LABELS, PRINCIPAL_KINDS, SCOPE_LEVELS, type GrantsQuery } from "@/lib/inventory/grants-params";
import { words } from "@/components/format";

const opts = (values: readonly string[], labels: Record<string, string> = {}) => values.map((v) => ({ value: v, label: labels[v] ?? words(v) }));

/** The grants filter bar; every control writes one URL param. */
export function GrantsFilters({ query, apis, scopes, environments }: {
  query: GrantsQuery;
  apis: { id: string; label: string }[];
  scopes: { id: string; label: string }[];
  environments: string[];
}) {
  return (
    <>
      <SearchInput label="Principal" placeholder="Name, email or external id" value={query.q} />
      <FilterSelect param="api" label="API" clears={["scope"]} value={query.api} options={apis.map((a) => ({ value: a.id, label: a.label }))} />
      {query.api ? <FilterSelect param="scope" label="Scope" value={query.scope} options={scopes.map((s) => ({ value: s.id, label: s.label }))} /> : null}
      <FilterSelect param="level" label="Scope level" value={query.level} options={opts(SCOPE_LEVELS)} />
      <FilterSelect param="environment" label="Environment" value={query.environment} options={opts(environments)} />
      <FilterSelect param="kind" label="Principal kind" value={query.kind} options={opts(PRINCIPAL_KINDS, { user: "user", service_account: "service account", api_key: "API key" })} />
      <FilterSelect param="status" label="Status" value={query.status} options={opts(GRANT_STATUSES)} />
      <FilterSelect param="lastUsed" label="Last used" value={query.lastUsed} options={opts(LAST_USED_BUCKETS, LAST_USED_LABELS)} allLabel="Any time" />
    </>
  );
}
