import type { Tx } from "@/lib/db";

/**
 * The import's writes, each one statement over arrays: a Postgres statement
 * takes at most 32,767 bind parameters, and an `IN (…)` list or a multi-row
 * VALUES binds one per value, so a 50,000-operation re-import used to fail
 * (P2029) in `endpoint.deleteMany`. Here every list travels as ONE array
 * parameter (`= ANY($1::uuid[])`, `unnest($1, $2, …)`), whatever its length,
 * and changed rows are updated together instead of one query each.
 */

export interface NewScope {
  id: string;
  apiId: string;
  name: string;
  level: string;
  evidence: string[];
  description: string | null;
}

export async function insertScopes(tx: Tx, rows: NewScope[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "Scope" (id, "apiId", name, level, "levelEvidence", description)
    SELECT u.id, u.api, u.name, u.level::"ScopeLevel", u.evidence::jsonb, u.description
    FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.apiId)}::uuid[], ${rows.map((r) => r.name)}::text[],
                ${rows.map((r) => r.level)}::text[], ${rows.map((r) => JSON.stringify(r.evidence))}::text[], ${rows.map((r) => r.description)}::text[])
         AS u(id, api, name, level, evidence, description)`;
}

/**
 * The evidence of every scope the document still names follows the document; the level does not
 * (it is the admin's to correct, and a re-import never overwrites it), so evidence that no longer
 * supports the stored level is shown next to it on the API page.
 */
export async function refreshScopeEvidence(tx: Tx, apiId: string, rows: { name: string; evidence: string[] }[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    UPDATE "Scope" s SET "levelEvidence" = u.evidence::jsonb
    FROM unnest(${rows.map((r) => r.name)}::text[], ${rows.map((r) => JSON.stringify(r.evidence))}::text[]) AS u(name, evidence)
    WHERE s."apiId" = ${apiId}::uuid AND s.name = u.name AND s."levelEvidence" IS DISTINCT FROM u.evidence::jsonb`;
}

/** A re-import keeps the level (the admin's) and un-deprecates; a null description keeps the stored one. */
export async function refreshScopes(tx: Tx, rows: { id: string; description: string | null }[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    UPDATE "Scope" s SET description = coalesce(u.description, s.description), "deprecatedAt" = NULL
    FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.description)}::text[]) AS u(id, description)
    WHERE s.id = u.id`;
}

export interface NewEndpoint {
  id: string;
  apiId: string;
  method: string;
  pathTemplate: string;
  summary: string | null;
  public: boolean;
}

export async function insertEndpoints(tx: Tx, rows: NewEndpoint[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "Endpoint" (id, "apiId", method, "pathTemplate", summary, public)
    SELECT * FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.apiId)}::uuid[], ${rows.map((r) => r.method)}::text[],
                         ${rows.map((r) => r.pathTemplate)}::text[], ${rows.map((r) => r.summary)}::text[], ${rows.map((r) => r.public)}::boolean[])`;
}

/**
 * Matched endpoints take the document's template, summary and public flag, and are live again:
 * one back in the description is no zombie, so routing stopped by an admin resumes too.
 */
export async function refreshEndpoints(tx: Tx, rows: Omit<NewEndpoint, "apiId" | "method">[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    UPDATE "Endpoint" e SET "pathTemplate" = u.t, summary = u.s, public = u.p, "deprecatedAt" = NULL,
                          "routingStoppedAt" = NULL, "routingStoppedBy" = NULL, "routingStopReason" = NULL
    FROM unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.pathTemplate)}::text[], ${rows.map((r) => r.summary)}::text[],
                ${rows.map((r) => r.public)}::boolean[]) AS u(id, t, s, p)
    WHERE e.id = u.id`;
}

/**
 * Links carry their requirementId: rows sharing one are required together (AND).
 * Leaving it to the column default would give every row its own requirement and
 * turn "a AND b" into "a, or b".
 */
export async function replaceEndpointLinks(
  tx: Tx,
  relinkedEndpointIds: string[],
  links: { endpointId: string; requirementId: string; scopeId: string }[],
): Promise<void> {
  if (relinkedEndpointIds.length) await tx.$executeRaw`DELETE FROM "EndpointScope" WHERE "endpointId" = ANY(${relinkedEndpointIds}::uuid[])`;
  if (links.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "EndpointScope" ("endpointId", "requirementId", "scopeId")
    SELECT * FROM unnest(${links.map((l) => l.endpointId)}::uuid[], ${links.map((l) => l.requirementId)}::uuid[], ${links.map((l) => l.scopeId)}::uuid[])`;
}

export async function deprecateRows(tx: Tx, table: "Endpoint" | "Scope", ids: string[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  if (table === "Endpoint") await tx.$executeRaw`UPDATE "Endpoint" SET "deprecatedAt" = ${at} WHERE id = ANY(${ids}::uuid[])`;
  else await tx.$executeRaw`UPDATE "Scope" SET "deprecatedAt" = ${at} WHERE id = ANY(${ids}::uuid[])`;
}

/** Links go with them (ON DELETE CASCADE). */
export async function deleteRows(tx: Tx, table: "Endpoint" | "Scope", ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  if (table === "Endpoint") await tx.$executeRaw`DELETE FROM "Endpoint" WHERE id = ANY(${ids}::uuid[])`;
  else await tx.$executeRaw`DELETE FROM "Scope" WHERE id = ANY(${ids}::uuid[])`;
}
