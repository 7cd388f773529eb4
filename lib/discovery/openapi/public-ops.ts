import type { Tx } from "@/lib/db";
import type { Diff } from "./diff";
import type { Description, OperationSpec } from "./extract";

/**
 * Operations that accept no credential (issue 17, point 2). OpenAPI's `{}`
 * alternative or `security: []` opens an operation to anyone; Jira lists `{}` on
 * 220 operations, writes among them. The plan and the result count them by
 * reads and writes; a plan that would open new write operations needs an
 * explicit confirmation; every public write endpoint in a production
 * environment gets an open finding. Operations with no security at all are a
 * different case: they stay protected with no scope, and are counted too.
 */
const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
export const isWrite = (method: string) => !SAFE.has(method.toUpperCase());
const EXAMPLES = 5;

export interface SecuritySummary {
  publicReads: number;
  publicWrites: number;
  /** Up to 5 public write operations of the document, e.g. "DELETE /rest/api/3/attachment/{id}". */
  publicWriteExamples: string[];
  /** Write operations this import would newly open to anyone (added public, or turned public). */
  newPublicWrites: string[];
  /** Operations with no security requirement anywhere: protected with no scope until one is assigned. */
  noSecurity: number;
  /** The counts as sentences, for the plan's summary. */
  messages: string[];
}

const label = (o: { method: string; pathTemplate: string }) => `${o.method} ${o.pathTemplate}`;

export function summarizeSecurity(description: Description, diff: Diff): SecuritySummary {
  const ops: OperationSpec[] = description.operations;
  const publicOps = ops.filter((o) => o.public);
  const writes = publicOps.filter((o) => isWrite(o.method));
  const newPublicWrites = [
    ...diff.endpoints.added.filter((o) => o.public && isWrite(o.method)),
    ...diff.endpoints.changed.filter((c) => c.spec.public && isWrite(c.method) && c.changes.some((f) => f.field === "public")),
  ].map(label);
  const noSecurity = ops.filter((o) => o.noSecurity).length;
  const messages: string[] = [];
  if (publicOps.length) {
    messages.push(
      `${publicOps.length} operation${publicOps.length === 1 ? " accepts" : "s accept"} no credential: ${publicOps.length - writes.length} read${publicOps.length - writes.length === 1 ? "" : "s"}, ${writes.length} write${writes.length === 1 ? "" : "s"}` +
        (writes.length ? ` (${writes.slice(0, EXAMPLES).map(label).join(", ")}${writes.length > EXAMPLES ? ", …" : ""})` : ""),
    );
  }
  if (newPublicWrites.length) messages.push(`${newPublicWrites.length} write operation${newPublicWrites.length === 1 ? "" : "s"} would be opened to anyone: applying needs an explicit confirmation`);
  if (noSecurity) messages.push(`${noSecurity} operation${noSecurity === 1 ? " has" : "s have"} no security requirement: nobody can call ${noSecurity === 1 ? "it" : "them"} until a scope is assigned`);
  return {
    publicReads: publicOps.length - writes.length,
    publicWrites: writes.length,
    publicWriteExamples: writes.slice(0, EXAMPLES).map(label),
    newPublicWrites,
    noSecurity,
    messages,
  };
}

/**
 * After an apply: every public write endpoint of the API in a production environment has an open
 * `public_write` finding (one per endpoint, kept open across re-imports), and open ones whose
 * endpoint is no longer a public write are resolved. Set-based, any size.
 */
export async function syncPublicWriteFindings(tx: Tx, api: { id: string; name: string; environmentId: string; environment: string }, production: boolean, documentSha256: string) {
  const resolved = await tx.$executeRaw`
    UPDATE "EndpointFinding" f SET status = 'resolved', "closedAt" = now(), "closedBy" = 'openapi-import', "closedReason" = 'the endpoint no longer accepts calls without a credential'
    FROM "Endpoint" e
    WHERE f."endpointId" = e.id AND e."apiId" = ${api.id}::uuid AND f.rule = 'public_write' AND f.status = 'open'
      AND (NOT e.public OR e.method IN ('GET', 'HEAD', 'OPTIONS', 'TRACE'))`;
  if (!production) return { opened: 0, resolved };
  const evidence = { api: api.name, environment: api.environment, documentSha256, why: "the OpenAPI description lets this write operation be called without any credential ({} or security: [])" };
  const opened = await tx.$executeRaw`
    INSERT INTO "EndpointFinding" (id, "endpointId", "environmentId", rule, severity, evidence)
    SELECT gen_random_uuid(), e.id, ${api.environmentId}::uuid, 'public_write', 'high', ${JSON.stringify(evidence)}::jsonb || jsonb_build_object('endpoint', e.method || ' ' || e."pathTemplate")
    FROM "Endpoint" e
    WHERE e."apiId" = ${api.id}::uuid AND e.public AND e.method NOT IN ('GET', 'HEAD', 'OPTIONS', 'TRACE')
    ON CONFLICT ("endpointId", rule) WHERE status = 'open' DO NOTHING`;
  return { opened, resolved };
}
