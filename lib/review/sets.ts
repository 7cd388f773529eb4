import type { Tx } from "@/lib/db";
import { badRequest } from "@/lib/errors";

/**
 * Scope sets and reduce (issue 17): an endpoint may require several scopes
 * together ("a AND b", EndpointScope rows sharing a requirementId). A reduce
 * that keeps a but drops b, where a is useful only with b, leaves the
 * principal a grant that opens nothing while looking like access. That is
 * refused, naming the endpoint and what is missing, so the reviewer either
 * keeps the whole set or drops it whole.
 */
export interface StrandedScope {
  scope: string;
  missing: string[];
  endpoint: string;
}

interface Alternative {
  endpoint: string;
  ids: string[];
  names: string[];
}

/**
 * Kept scopes that were part of a complete set before (`held`) and are left in
 * no complete set after (`kept`): only alternatives that mention a kept scope are read.
 */
export async function strandedByReduce(tx: Tx, apiId: string, held: ReadonlySet<string>, kept: ReadonlySet<string>): Promise<StrandedScope[]> {
  if (kept.size === 0) return [];
  const alternatives = await tx.$queryRaw<Alternative[]>`
    SELECT e.method || ' ' || e."pathTemplate" AS endpoint,
           array_agg(es."scopeId"::text ORDER BY s.name) AS ids, array_agg(s.name ORDER BY s.name) AS names
    FROM "EndpointScope" es
    JOIN "Endpoint" e ON e.id = es."endpointId"
    JOIN "Scope" s ON s.id = es."scopeId"
    WHERE e."apiId" = ${apiId}::uuid
      AND (es."endpointId", es."requirementId") IN (
        SELECT k."endpointId", k."requirementId" FROM "EndpointScope" k WHERE k."scopeId" = ANY(${[...kept]}::uuid[]))
    GROUP BY e.id, es."requirementId"
    ORDER BY 1, 3`;
  const within = (set: ReadonlySet<string>) => (a: Alternative) => a.ids.every((id) => set.has(id));
  const useful = new Set(alternatives.filter(within(kept)).flatMap((a) => a.ids));
  const stranded = new Map<string, StrandedScope>();
  for (const a of alternatives) {
    if (a.ids.length < 2 || !within(held)(a) || within(kept)(a)) continue;
    a.ids.forEach((id, i) => {
      if (!kept.has(id) || useful.has(id) || stranded.has(id)) return;
      stranded.set(id, { scope: a.names[i], missing: a.names.filter((_, j) => !kept.has(a.ids[j])), endpoint: a.endpoint });
    });
  }
  return [...stranded.values()];
}

export function refuseStranded(stranded: StrandedScope[]): void {
  if (stranded.length === 0) return;
  const [s] = stranded;
  const more = stranded.length > 1 ? ` (and ${stranded.length - 1} more scope${stranded.length > 2 ? "s" : ""} like it)` : "";
  throw badRequest(
    `keepScopeIds: keeping ${s.scope} without ${s.missing.join(", ")} leaves ${s.scope} useless: ${s.endpoint} requires ${[s.scope, ...s.missing].sort().join(" AND ")}${more}. Keep the whole set, or drop ${s.scope} too`,
    "keepScopeIds",
  );
}
