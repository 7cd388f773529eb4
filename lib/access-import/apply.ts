import { randomUUID } from "node:crypto";
import { v7 as timeOrderedUuid } from "uuid";
import type { Actor } from "@/lib/auth/actor";
import { appendAuditEvent } from "@/lib/audit";
import { Prisma, type Tx } from "@/lib/db";
import { anyOf } from "@/proxy/requirements";
import { KINDS, type Kind } from "./desired";
import { PARAM_CHUNK } from "./params";
import { phaseTimer } from "./phases";
import { GONE_GRANT_IDS, grantOps, writeGrants } from "./grant-plan";
import { outsideAccess, recordOutsideAccess, type OutsideResult } from "./outside";
import type { FullPlan } from "./plan";

// Writes a plan computed in the same transaction (apply.ts is only called from
// index.ts, under the source's row lock). Set-based: createMany and one
// UPDATE … FROM unnest() per kind; findings for what went missing; one outbox
// batch per proxy of the environment; one audit event without any key.

/** Above this many changed objects nothing is queued and the reconciler pushes a full snapshot (enqueueProxyOps). */
export const MAX_OUTBOX_OPS = 20_000;

export interface ApplyCounts {
  written: Record<Kind, { created: number; updated: number; gone: number }>;
  findingsOpened: number;
  outboxRows: number;
  /** Grants and keys a re-import shows were given at the gateway, outside review (issue 22). */
  outsideReview: Omit<OutsideResult, "withheld">;
}

export async function writePlan(tx: Tx, actor: Actor, full: FullPlan, sourceName: string, format: string): Promise<ApplyCounts> {
  const { diff, desired, live, environmentId } = full;
  const now = new Date();
  const t = phaseTimer("write: ");

  const before = full.sourceId ? await tx.accessImportSource.findUnique({ where: { id: full.sourceId }, select: { lastAppliedAt: true } }) : null;
  await tx.$executeRaw`INSERT INTO "AccessImportSource" (id, name, format, "environmentId") VALUES (${randomUUID()}::uuid, ${sourceName}, ${format}, ${environmentId}::uuid) ON CONFLICT (name) DO NOTHING`;
  const source = await tx.accessImportSource.findUniqueOrThrow({ where: { name: sourceName } });

  // ext -> id for every object of the desired state (existing or new). New ids are time-ordered (UUIDv7,
  // increasing within this process), so the inserts below, in the order the ids were given, append to each
  // primary key instead of writing random pages of it (as the grants do, grant-plan.ts).
  const ids = {} as Record<Kind, Map<string, string>>;
  for (const k of KINDS) {
    ids[k] = new Map();
    for (const [ext, m] of live[k]) if (m.row) ids[k].set(ext, m.objectId);
    for (const c of diff[k].create) ids[k].set(c.ext, timeOrderedUuid());
  }
  const creating = (k: Kind) => new Set(diff[k].create.map((c) => c.ext));
  const updating = (k: Kind) => new Set(diff[k].update.map((c) => c.ext));

  // Principals
  const pNew = creating("principal");
  const principals = desired.principals.filter((p) => pNew.has(p.ext));
  await insertUnnest(tx, `INSERT INTO "Principal" (id, kind, "displayName", "homeEnvironmentId", "updatedAt") SELECT a::uuid, b::"PrincipalKind", c, $4::uuid, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS t(a, b, c)`, [
    principals.map((p) => ids.principal.get(p.ext)!),
    principals.map((p) => p.kind),
    principals.map((p) => p.displayName),
  ], [environmentId]);
  for (const p of desired.principals.filter((x) => updating("principal").has(x.ext))) {
    await tx.principal.update({ where: { id: ids.principal.get(p.ext)! }, data: { displayName: p.displayName } });
  }

  t.lap("principals");
  // APIs, scopes, endpoints
  const aNew = creating("api");
  const aUpd = updating("api");
  for (const a of desired.apis) {
    const keyLocation = a.keyLocation ? { ...a.keyLocation } : Prisma.DbNull;
    const data = { name: a.name, baseUrl: a.baseUrl, proxyPrefix: a.proxyPrefix, keyLocation, description: a.description };
    if (aNew.has(a.ext)) await tx.api.create({ data: { id: ids.api.get(a.ext)!, environmentId, ...data } });
    else if (aUpd.has(a.ext)) await tx.api.update({ where: { id: ids.api.get(a.ext)! }, data });
  }
  const sNew = creating("scope");
  const sUpd = updating("scope");
  const newScopes = desired.scopes.filter((s) => sNew.has(s.ext));
  if (newScopes.length) {
    await tx.scope.createMany({ data: newScopes.map((s) => ({ id: ids.scope.get(s.ext)!, apiId: ids.api.get(s.apiExt)!, name: s.name, level: s.level, description: s.description })) });
  }
  for (const s of desired.scopes.filter((x) => sUpd.has(x.ext))) {
    await tx.scope.update({ where: { id: ids.scope.get(s.ext)! }, data: { apiId: ids.api.get(s.apiExt)!, name: s.name, level: s.level, description: s.description, deprecatedAt: null } });
  }
  const eNew = creating("endpoint");
  const eUpd = updating("endpoint");
  const newEndpoints = desired.endpoints.filter((e) => eNew.has(e.ext));
  if (newEndpoints.length) {
    await tx.endpoint.createMany({
      data: newEndpoints.map((e) => ({ id: ids.endpoint.get(e.ext)!, apiId: ids.api.get(e.apiExt)!, method: e.method, pathTemplate: e.pathTemplate, summary: e.summary, public: e.public })),
    });
  }
  const changedEndpoints = desired.endpoints.filter((e) => eUpd.has(e.ext));
  for (const e of changedEndpoints) {
    await tx.endpoint.update({ where: { id: ids.endpoint.get(e.ext)! }, data: { apiId: ids.api.get(e.apiExt)!, method: e.method, pathTemplate: e.pathTemplate, summary: e.summary, public: e.public, deprecatedAt: null } });
  }
  if (changedEndpoints.length) await tx.endpointScope.deleteMany({ where: { endpointId: { in: changedEndpoints.map((e) => ids.endpoint.get(e.ext)!) } } });
  // Kong's acl allow list is "any one of these groups": each scope is its own
  // single-scope alternative (its own requirementId), never an AND of all of them.
  const links = [...newEndpoints, ...changedEndpoints].flatMap((e) => e.scopeExts.map((s) => ({ endpointId: ids.endpoint.get(e.ext)!, requirementId: randomUUID(), scopeId: ids.scope.get(s)! })));
  if (links.length) await tx.endpointScope.createMany({ data: links });

  t.lap("apis, scopes, endpoints");
  // Credentials and grants
  const cNew = creating("credential");
  const cUpd = updating("credential");
  const newCreds = desired.credentials.filter((c) => cNew.has(c.ext));
  await insertUnnest(tx, `INSERT INTO "Credential" (id, "principalId", prefix, hash, "expiresAt", origin) SELECT a::uuid, b::uuid, c, d, e::timestamptz, 'import' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(a, b, c, d, e)`, [
    newCreds.map((c) => ids.credential.get(c.ext)!),
    newCreds.map((c) => ids.principal.get(c.principalExt)!),
    newCreds.map((c) => c.prefix),
    newCreds.map((c) => c.hash),
    newCreds.map((c) => c.expiresAt),
  ]);
  for (const c of desired.credentials.filter((x) => cUpd.has(x.ext))) {
    await tx.credential.update({ where: { id: ids.credential.get(c.ext)! }, data: { principalId: ids.principal.get(c.principalExt)!, expiresAt: c.expiresAt ? new Date(c.expiresAt) : null } });
  }
  t.lap("credentials");
  // What this source now maps, and what went missing from it.
  const mapKinds: string[] = [];
  const mapExts: string[] = [];
  const mapIds: string[] = [];
  const mapAttrs: (string | null)[] = [];
  const tagsOf = new Map(desired.principals.map((p) => [p.ext, JSON.stringify({ tags: p.tags })]));
  for (const k of KINDS) {
    for (const c of [...diff[k].create, ...diff[k].update]) {
      mapKinds.push(k);
      mapExts.push(c.ext);
      mapIds.push(ids[k].get(c.ext)!);
      mapAttrs.push(k === "principal" ? (tagsOf.get(c.ext) ?? null) : null);
    }
  }
  await insertUnnest(
    tx,
    `INSERT INTO "ImportedObject" ("sourceId", kind, "externalKey", "objectId", attributes, "lastSeenAt", "goneAt")
     SELECT $5::uuid, k, e, i::uuid, a::jsonb, $6::timestamptz, NULL
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(k, e, i, a)
     ON CONFLICT ("sourceId", kind, "externalKey") DO UPDATE
     SET "objectId" = EXCLUDED."objectId", attributes = EXCLUDED.attributes, "lastSeenAt" = EXCLUDED."lastSeenAt", "goneAt" = NULL`,
    [mapKinds, mapExts, mapIds, mapAttrs],
    [source.id, now.toISOString()],
  );
  t.lap("import mapping");
  // After the mapping: a grant finds its principal's and scope's ids through it.
  await writeGrants(tx, source.id, environmentId, now, full.grants.counts);
  t.lap("grants (SQL)");
  const goneKinds: string[] = [];
  const goneExts: string[] = [];
  for (const k of KINDS) {
    for (const g of diff[k].gone) {
      goneKinds.push(k);
      goneExts.push(g.ext);
    }
  }
  if (goneExts.length) {
    await tx.$executeRaw`
      UPDATE "ImportedObject" o SET "goneAt" = ${now}
      FROM unnest(${goneKinds}::text[], ${goneExts}::text[]) AS t(k, e)
      WHERE o."sourceId" = ${source.id}::uuid AND o.kind = t.k AND o."externalKey" = t.e`;
  }
  const goneIds = (k: Kind) => diff[k].gone.map((g) => g.objectId);
  if (goneIds("endpoint").length) await tx.endpoint.updateMany({ where: { id: { in: goneIds("endpoint") } }, data: { deprecatedAt: now } });
  if (goneIds("scope").length) await tx.scope.updateMany({ where: { id: { in: goneIds("scope") } }, data: { deprecatedAt: now } });
  const goneFindings = await openGoneFindings(tx, full, sourceName, goneIds);
  // The first import of a source is its baseline; only later ones can show access granted outside review.
  const outside = before?.lastAppliedAt
    ? await recordOutsideAccess(tx, actor, full, source, await outsideAccess(tx, full, ids), now)
    : { findingsOpened: 0, rolledBackGrants: 0, proposedGrants: 0, revokedKeys: 0, withheld: { grantIds: new Set<string>(), credentialIds: new Set<string>() } };
  const findingsOpened = goneFindings + outside.findingsOpened;
  const { withheld, ...outsideReview } = outside;

  await tx.accessImportSource.update({ where: { id: source.id }, data: { lastSha256: full.plan.source.fileSha256, lastPlanHash: full.plan.planHash, lastAppliedAt: now } });

  t.lap("gone from source and findings");
  const outboxRows = await enqueueProxyOps(tx, full, ids, source.id, { aNew, aUpd, eNew, eUpd, cNew, cUpd }, withheld);

  t.lap("outbox");
  const written = {} as ApplyCounts["written"];
  for (const k of KINDS) written[k] = { created: diff[k].create.length, updated: diff[k].update.length, gone: diff[k].gone.length };
  written.grant = { created: full.grants.counts.create, updated: full.grants.counts.update, gone: full.grants.counts.gone };
  await appendAuditEvent(tx, {
    actor,
    action: "inventory.access_import",
    target: `import-source:${source.id}`,
    // Counts, hashes and names only: never a key (credentials are counted, not listed).
    data: { source: sourceName, format, environment: full.plan.source.environment, fileSha256: full.plan.source.fileSha256, planHash: full.plan.planHash, written, findingsOpened, outboxRows, outsideReview },
  });
  t.lap("audit event");
  return { written, findingsOpened, outboxRows, outsideReview };
}

/**
 * Set-based insert of many rows: parallel arrays unnested by one statement per
 * chunk of PARAM_CHUNK rows (a Prisma createMany builds one huge query per call and held
 * gigabytes at 100,000+ rows). `fixed` are the parameters after the arrays.
 */
async function insertUnnest(tx: Tx, sql: string, columns: unknown[][], fixed: unknown[] = []): Promise<void> {
  const n = columns[0]?.length ?? 0;
  for (let from = 0; from < n; from += PARAM_CHUNK) {
    await tx.$executeRawUnsafe(sql, ...columns.map((c) => c.slice(from, from + PARAM_CHUNK)), ...fixed);
  }
}

/**
 * Every active grant something gone from the source touches (the grant itself,
 * its principal, a key of its principal, its scope) gets one open
 * `gone_from_source` finding for review, unless it already has one.
 */
async function openGoneFindings(tx: Tx, full: FullPlan, sourceName: string, goneIds: (k: Kind) => string[]): Promise<number> {
  const principals = goneIds("principal");
  const credPrincipals = full.diff.credential.gone.map((g) => full.live.credential.get(g.ext)?.row?.principalId).filter((x): x is string => !!x);
  const scopes = goneIds("scope");
  if (full.grants.counts.gone + principals.length + credPrincipals.length + scopes.length === 0) return 0;
  const evidence = JSON.stringify({ source: sourceName, fileSha256: full.plan.source.fileSha256, planHash: full.plan.planHash, removal: `no longer in import source ${sourceName}` });
  // Grants gone from the source come from the plan's diff table (grant-plan.ts), as a sub-select.
  return tx.$executeRawUnsafe(
    `INSERT INTO "Finding" (id, "grantId", rule, severity, "riskScore", evidence, suggestion)
     SELECT gen_random_uuid(), g.id, 'gone_from_source', 'medium', 50, $1::jsonb,
            'Gone from the import source: revoke this access, or restore it in the source if it is still needed.'
     FROM "Grant" g
     WHERE g.status = 'active'
       AND (g.id IN (${GONE_GRANT_IDS}) OR g."principalId" = ANY($2::uuid[]) OR g."principalId" = ANY($3::uuid[]) OR g."scopeId" = ANY($4::uuid[]))
       AND NOT EXISTS (SELECT 1 FROM "Finding" f WHERE f."grantId" = g.id AND f.rule = 'gone_from_source' AND f.status = 'open')`,
    evidence,
    principals,
    credPrincipals,
    scopes,
  );
}

type Sets = Record<"aNew" | "aUpd" | "eNew" | "eUpd" | "cNew" | "cUpd", Set<string>>;

/**
 * The created and changed objects as one `POST /admin/v1/batch` per proxy; what is gone stays enforced until reviewed.
 * A large import queues nothing: one batch of hundreds of thousands of ops would be slower to build, store and
 * apply than the full snapshot the reconciler pushes (lib/enforcement/reconcile.ts: its digest comparison finds most
 * buckets differing and pushes the environment's whole state, conditioned on the proxy's revision).
 */
async function enqueueProxyOps(tx: Tx, full: FullPlan, ids: Record<Kind, Map<string, string>>, sourceId: string, s: Sets, withheld: OutsideResult["withheld"]): Promise<number> {
  const proxies = await tx.proxy.findMany({ where: { environmentId: full.environmentId }, select: { id: true } });
  if (proxies.length === 0) return 0;
  const grantChanges = full.grants.counts.create + full.grants.counts.update;
  if (grantChanges > MAX_OUTBOX_OPS) return 0;
  const { desired } = full;
  const ops: unknown[] = [];
  const touched = (set1: Set<string>, set2: Set<string>) => (x: { ext: string }) => set1.has(x.ext) || set2.has(x.ext);
  for (const a of desired.apis.filter(touched(s.aNew, s.aUpd))) {
    ops.push({ op: "upsert", kind: "api", value: { id: ids.api.get(a.ext), name: a.name, prefix: a.proxyPrefix, upstream: a.baseUrl, ...(a.keyLocation ? { keyLocation: a.keyLocation } : {}) } });
  }
  for (const e of desired.endpoints.filter(touched(s.eNew, s.eUpd))) {
    ops.push({ op: "upsert", kind: "route", value: { id: ids.endpoint.get(e.ext), apiId: ids.api.get(e.apiExt), method: e.method, pathTemplate: e.pathTemplate, requirements: anyOf(e.scopeExts.map((x) => ids.scope.get(x)!)), public: e.public } });
  }
  // Access rolled back in this same transaction never reaches a proxy (its revocations' deletes follow anyway).
  for (const c of desired.credentials.filter(touched(s.cNew, s.cUpd)).filter((x) => !withheld.credentialIds.has(ids.credential.get(x.ext)!))) {
    ops.push({ op: "upsert", kind: "credential", value: { id: ids.credential.get(c.ext), principalId: ids.principal.get(c.principalExt), hash: c.hash, expiresAt: c.expiresAt } });
  }
  // Revoked or expired grants back in the source stay as they are: never sent as an upsert (that would re-allow them).
  // Access rolled back in this same transaction is left out here too.
  for (const g of grantChanges ? await grantOps(tx, sourceId, MAX_OUTBOX_OPS) : []) if (!withheld.grantIds.has(g.id)) ops.push({ op: "upsert", kind: "grant", value: g });
  // Larger changes reach the proxies through the periodic reconcile (a full snapshot).
  if (ops.length === 0 || ops.length > MAX_OUTBOX_OPS) return 0;
  const idempotencyKey = `access-import:${randomUUID()}`;
  const body = { idempotencyKey, ops };
  await tx.outboxItem.createMany({ data: proxies.map((p) => ({ proxyId: p.id, idempotencyKey, operation: "POST /admin/v1/batch", payload: body as object })) });
  await tx.$executeRawUnsafe(`SELECT pg_notify('tollgate_outbox', '')`);
  return proxies.length;
}
