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

/**
 * The joins behind grantColumns(), from a grant aliased g: principal p, scope s,
 * API a, environment e, the principal's team t. Reports name those aliases in
 * their SELECT and filters.
 */
export const GRANT_JOINS = `
  JOIN "Principal" p ON p.id = g."principalId"
  JOIN "Scope" s ON s.id = g."scopeId"
  JOIN "Api" a ON a.id = s."apiId"
  JOIN "Environment" e ON e.id = g."environmentId"
  LEFT JOIN "Team" t ON t.id = p."teamId"
`;

/**
 * "edge-1@42; edge-2@pending": one entry per proxy a change was sent to, with the
 * revision it acknowledged (or the outbox state). `match` picks the change's
 * outbox rows, e.g. `o."decisionId" = d.id`.
 */
export const proxyRevisions = (match: string) => `(
  SELECT string_agg(px.name || '@' || coalesce(o."appliedRevision"::text, o.status::text), '; ' ORDER BY px.name)
  FROM "OutboxItem" o JOIN "Proxy" px ON px.id = o."proxyId" WHERE ${match})`;
