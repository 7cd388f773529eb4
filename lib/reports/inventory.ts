import { z } from "zod";
import { asOfInstant, optionalName } from "./filters";
import { iso } from "./cursor";
import { countedSummary } from "./sql";
import { GRANT_JOINS, grantColumns } from "./columns";
import type { ReportDefinition } from "./types";

/**
 * Access inventory as of an instant: every grant that was active then —
 * granted at or before it, and neither revoked nor expired by it. Revocation and
 * expiry are read from the grant's own timestamps, so the answer for a past date
 * does not depend on what happened since.
 */
const filters = z
  .object({ asOf: asOfInstant, environment: optionalName, team: optionalName })
  .strict();
type Filters = z.infer<typeof filters>;

const FROM = `
  FROM "Grant" g
  ${GRANT_JOINS}
  WHERE g."grantedAt" <= $1::timestamptz
    AND (g."revokedAt" IS NULL OR g."revokedAt" > $1::timestamptz)
    AND (g."expiresAt" IS NULL OR g."expiresAt" > $1::timestamptz)
    AND ($2::text IS NULL OR e.name = $2)
    AND ($3::text IS NULL OR t.name = $3)`;

const params = (f: Filters) => [f.asOf, f.environment ?? null, f.team ?? null];

export const inventoryReport: ReportDefinition<Filters> = {
  name: "inventory",
  title: "Access inventory",
  description: "Every grant active at the chosen instant (granted by then, not revoked or expired by then).",
  filters,
  fields: [
    { name: "asOf", label: "As of (UTC day)", kind: "day", hint: "Grants active at the end of this day; empty means now" },
    { name: "environment", label: "Environment", kind: "environment" },
    { name: "team", label: "Team", kind: "team" },
  ],
  columns: [
    { key: "grantId", header: "Grant id" },
    { key: "principalId", header: "Principal id" },
    ...grantColumns({ scopeLevel: true }),
    { key: "grantedAt", header: "Granted at" },
    { key: "expiresAt", header: "Expires at" },
    { key: "revokedAt", header: "Revoked at (later)" },
    { key: "lastUsedAt", header: "Last used (current)" },
  ],
  query: (f) => ({
    text: `SELECT g.id AS "grantId", p.id AS "principalId", p."displayName" AS principal, p.kind::text AS "principalKind",
              t.name AS team, a.name AS api, s.name AS scope, s.level::text AS "scopeLevel", e.name AS environment,
              ${iso(`g."grantedAt"`)} AS "grantedAt", ${iso(`g."expiresAt"`)} AS "expiresAt",
              ${iso(`g."revokedAt"`)} AS "revokedAt", ${iso(`g."lastUsedAt"`)} AS "lastUsedAt"
       ${FROM}
       ORDER BY g.id`,
    values: params(f),
  }),
  summary: (client, f) =>
    countedSummary(client, FROM, params(f), {
      context: [["As of", f.asOf]],
      rows: "Active grants",
      breakdowns: [
        { title: "Grants by environment", by: "e.name" },
        { title: "Grants by team", by: "coalesce(t.name, '(no team)')" },
        { title: "Grants by principal kind", by: "p.kind::text" },
        { title: "Grants by scope level", by: "s.level::text" },
      ],
    }),
};
