/** The columns that say whose access a row is about, in the same order and wording in every report. */
export function grantColumns(opts: { scopeLevel?: boolean } = {}): { key: string; header: string }[] {
  return [
    { key: "principal", header: "Principal" },
    { key: "principalKind", header: "Principal kind" },
    { key: "team", header: "Team" },
    { key: "api", header: "API" },
    { key: "scope", header: "Scope" },
    ...(opts.scopeLevel ? [{ key: "scopeLevel", header: "Scope level" }] : []),
    { key: "environment", header: "Environment" },
  ];
}
