import type { Tx } from "@/lib/db";
import { conflict } from "@/lib/errors";
import type { Note } from "./desired";
import type { Change, Gone } from "./plan";
import { phaseTimer } from "./phases";

// Grants, the bulk of any import (a million in the issue's file), are planned
// and applied as SQL over the import's staging table (stage.ts) and the
// source's ImportedObject rows, never as rows in JavaScript. The diff is kept
// in a temporary table of the plan's transaction, which the apply (same
// transaction) writes from. Same rules as the in-memory diff of the other
// kinds (plan.ts): a grant is identified by its external key; it is created
// when the source never had it (or its row was deleted), updated when its
// target or expiry differ or it comes back to the source, gone when the source
// had it and this file lacks it; a revoked or expired grant still in the source
// is left as it is and listed as a conflict.

const DIFF = "access_import_grant_diff";
/** Conflicts listed one by one; past this many the plan says how many more there are. */
const MAX_CONFLICTS = 1000;
/** work_mem of the plan's statements (set for them only, then restored): the FULL JOIN's hash tables stay in memory. */
const PLAN_WORK_MEM = "128MB";

export interface GrantPlan {
  counts: { create: number; update: number; gone: number; unchanged: number };
  samples: { create: Change[]; update: Change[]; gone: Gone[] };
  conflicts: Note[];
  /** principal ext -> the admin scopes (exts) it is granted, in file order (the risk summary). */
  adminScopes: Map<string, string[]>;
  /** Order-independent digest of every staged row and every live row read (the plan hash covers it). */
  digest: string;
}

export interface GrantLabels {
  principalName: Map<string, string>;
  scopeLabel: Map<string, string>;
  adminScopeExts: string[];
}

/**
 * Runs `fn` with these planner settings for this transaction only (`set_config(…, true)`), then puts back what they
 * were. A failure aborts the transaction, which discards them anyway.
 */
async function withSettings<T>(tx: Tx, settings: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const names = Object.keys(settings);
  const [before] = await tx.$queryRawUnsafe<Record<string, string>[]>(`SELECT ${names.map((n, i) => `current_setting($${i + 1}) AS "${n}"`).join(", ")}`, ...names);
  const apply = (values: Record<string, string>) =>
    tx.$executeRawUnsafe(`SELECT ${names.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`, ...names.flatMap((n) => [n, values[n]]));
  await apply(settings);
  const result = await fn();
  await apply(before);
  return result;
}

/** The grant diff of the file against the source's mapped grants: one row per external key on either side (a FULL JOIN). */
function diffRows(stageTable: string): string {
  return `
     WITH m AS (
       SELECT o."externalKey" AS ext, o."objectId" AS object_id, o."goneAt" AS gone_at, g.id IS NOT NULL AS present,
              g."principalId" AS live_principal, g."scopeId" AS live_scope, g.status::text AS status, g."expiresAt" AS live_expires
       FROM "ImportedObject" o LEFT JOIN "Grant" g ON g.id = o."objectId"
       WHERE o."sourceId" = $1::uuid AND o.kind = 'grant'),
     pid AS (SELECT o."externalKey" AS ext, o."objectId" AS id FROM "ImportedObject" o JOIN "Principal" p ON p.id = o."objectId" WHERE o."sourceId" = $1::uuid AND o.kind = 'principal'),
     sid AS (SELECT o."externalKey" AS ext, o."objectId" AS id FROM "ImportedObject" o JOIN "Scope" c ON c.id = o."objectId" WHERE o."sourceId" = $1::uuid AND o.kind = 'scope'),
     j AS (
       SELECT s.seq, coalesce(s.ext, m.ext) AS ext, s.principal_ext, s.scope_ext, s.expires_at,
              m.object_id, m.gone_at, coalesce(m.present, false) AS present, m.status, m.live_principal, m.live_scope, m.live_expires,
              (m.live_principal IS DISTINCT FROM pid.id OR m.live_scope IS DISTINCT FROM sid.id) AS target_changed,
              (m.live_expires IS DISTINCT FROM s.expires_at) AS expires_changed,
              CASE
                WHEN s.ext IS NULL THEN CASE WHEN m.present AND m.gone_at IS NULL THEN 'gone' ELSE 'kept' END
                WHEN m.present IS NOT TRUE THEN 'create'
                WHEN m.gone_at IS NOT NULL THEN 'update'
                WHEN m.status <> 'active' THEN 'unchanged'
                WHEN m.live_principal IS DISTINCT FROM pid.id OR m.live_scope IS DISTINCT FROM sid.id OR m.live_expires IS DISTINCT FROM s.expires_at THEN 'update'
                ELSE 'unchanged'
              END AS action
       FROM ${stageTable} s
       FULL JOIN m ON m.ext = s.ext
       LEFT JOIN pid ON pid.ext = s.principal_ext
       LEFT JOIN sid ON sid.ext = s.scope_ext),
     r AS (
       SELECT j.*,
              -- Rows the plan lists or the apply writes: everything but unchanged active grants and rows neither side has live.
              (action IN ('create', 'update', 'gone') OR (seq IS NOT NULL AND present AND status <> 'active')) AS listed,
              -- Order-independent digest of each row (summed): any change to either side changes it.
              hash_record_extended(ROW(ext, principal_ext, scope_ext, expires_at, object_id, gone_at, present, status, live_principal, live_scope, live_expires), 0) AS h
       FROM j)`;
}
const DIFF_COLUMNS = "seq, ext, principal_ext, scope_ext, expires_at, object_id, gone_at, present, status, live_principal, live_scope, live_expires, target_changed, expires_changed, action";

/**
 * Builds the diff table in the caller's transaction and reads counts, samples,
 * conflicts and digest from it. The FULL JOIN is aggregated first (counts and
 * digest, nothing materialised): a no-op re-import of a million grants ends
 * there. Only the rows that are listed or written (creates, updates, gone,
 * conflicts) go into the table, in a second pass when there are any; it is
 * checked against the first pass (a concurrent change in between is a 409).
 */
export async function planGrants(tx: Tx, stageTable: string, sourceId: string | null, labels: GrantLabels, sampleRows: number): Promise<GrantPlan> {
  // Hash joins at every size: the source's ImportedObject and Grant statistics are often stale (an apply wrote them
  // moments ago) and nested loops over a million rows took seconds per 100,000. The FULL JOIN's hash tables of a
  // million-grant file are ~100 MB each; with the default work_mem they spill to disk in 16 batches.
  const { counts, n, total } = await withSettings(tx, { enable_nestloop: "off", work_mem: PLAN_WORK_MEM }, () => buildDiff(tx, stageTable, sourceId));
  return readDiff(tx, stageTable, labels, sampleRows, counts, n, total);
}

/** The diff table of the plan (see planGrants), and its counts, row count and digest. */
async function buildDiff(tx: Tx, stageTable: string, sourceId: string | null) {
  const sql = diffRows(stageTable);
  // One aggregate row (FILTER, not GROUP BY action: the planner cannot tell a CASE has four values, and sorted
  // the million joined rows on disk to group them).
  const [agg] = await tx.$queryRawUnsafe<{ create: bigint; update: bigint; gone: bigint; unchanged: bigint; n: bigint; h: string; listed_n: bigint; listed_h: string }[]>(
    `${sql}
     SELECT count(*) FILTER (WHERE action = 'create') AS "create", count(*) FILTER (WHERE action = 'update') AS "update",
            count(*) FILTER (WHERE action = 'gone') AS gone, count(*) FILTER (WHERE action = 'unchanged') AS unchanged,
            count(*) AS n, coalesce(sum(h), 0)::text AS h,
            count(*) FILTER (WHERE listed) AS listed_n, coalesce(sum(h) FILTER (WHERE listed), 0)::text AS listed_h
     FROM r`,
    sourceId,
  );
  const counts = { create: Number(agg.create), update: Number(agg.update), gone: Number(agg.gone), unchanged: Number(agg.unchanged) };
  const [n, total, listedN, listedH] = [BigInt(agg.n), BigInt(agg.h), BigInt(agg.listed_n), BigInt(agg.listed_h)];
  await tx.$executeRawUnsafe(`DROP TABLE IF EXISTS pg_temp.${DIFF}`);
  if (listedN === 0n) {
    await tx.$executeRawUnsafe(`CREATE TEMP TABLE ${DIFF} ON COMMIT DROP AS ${sql} SELECT ${DIFF_COLUMNS}, h FROM r WITH NO DATA`, sourceId);
  } else {
    await tx.$executeRawUnsafe(
      `CREATE TEMP TABLE ${DIFF} ON COMMIT DROP AS ${sql}
       SELECT ${DIFF_COLUMNS}, h FROM r WHERE listed`,
      sourceId,
    );
    const [check] = await tx.$queryRawUnsafe<{ n: bigint; h: string }[]>(`SELECT count(*) AS n, coalesce(sum(h), 0)::text AS h FROM ${DIFF}`);
    if (BigInt(check.n) !== listedN || BigInt(check.h) !== listedH) {
      throw conflict("Grants of this source changed while the plan was being computed: plan again");
    }
  }
  return { counts, n, total };
}

/** Samples, conflicts and the admin-key risk of the plan, read from its diff table. */
async function readDiff(tx: Tx, stageTable: string, labels: GrantLabels, sampleRows: number, counts: GrantPlan["counts"], n: bigint, total: bigint): Promise<GrantPlan> {
  // Temporary tables are never analysed automatically; without statistics the apply's joins go row by row.
  await tx.$executeRawUnsafe(`ANALYZE pg_temp.${DIFF}`);

  const label = (r: { principal_ext: string; scope_ext: string }) => `${labels.principalName.get(r.principal_ext)} -> ${labels.scopeLabel.get(r.scope_ext)}`;
  type Row = { ext: string; principal_ext: string; scope_ext: string; object_id: string | null; status: string | null; gone_at: Date | null; target_changed: boolean; expires_changed: boolean };
  const rows = (action: string, order: string, limit: number) =>
    tx.$queryRawUnsafe<Row[]>(
      `SELECT ext, principal_ext, scope_ext, object_id::text AS object_id, status, gone_at, target_changed, expires_changed
       FROM ${DIFF} WHERE action = $1 ORDER BY ${order} LIMIT ${limit}`,
      action,
    );
  const samples: GrantPlan["samples"] = {
    create: (await rows("create", "seq", sampleRows)).map((r) => ({ ext: r.ext, objectId: null, label: label(r), fields: [] })),
    update: (await rows("update", "seq", sampleRows)).map((r) => ({ ext: r.ext, objectId: r.object_id, label: label(r), fields: fieldsOf(r) })),
    gone: (await rows("gone", "ext", sampleRows)).map((r) => ({ ext: r.ext, objectId: r.object_id!, label: r.ext.split("|").slice(-2).join(" -> ") })),
  };

  const conflictRows = await tx.$queryRawUnsafe<(Row & { total: bigint })[]>(
    `SELECT ext, principal_ext, scope_ext, status, count(*) OVER () AS total FROM ${DIFF}
     WHERE seq IS NOT NULL AND present AND status <> 'active' ORDER BY seq LIMIT ${MAX_CONFLICTS}`,
  );
  const conflicts: Note[] = conflictRows.map((r) => ({ where: r.ext, message: `grant ${label(r)} is ${r.status} in Tollgate but still in the source: left ${r.status}` }));
  const more = conflictRows.length ? Number(conflictRows[0].total) - conflictRows.length : 0;
  if (more > 0) conflicts.push({ where: "grants", message: `and ${more} more grants revoked or expired in Tollgate but still in the source: left as they are` });

  const adminScopes = new Map<string, string[]>();
  if (labels.adminScopeExts.length) {
    const admin = await tx.$queryRawUnsafe<{ principal_ext: string; scopes: string[] }[]>(
      `SELECT principal_ext, array_agg(scope_ext ORDER BY seq) AS scopes FROM ${stageTable}
       WHERE scope_ext = ANY($1::text[]) GROUP BY principal_ext`,
      labels.adminScopeExts,
    );
    for (const r of admin) adminScopes.set(r.principal_ext, r.scopes);
  }

  return { counts, samples, conflicts, adminScopes, digest: `${n}:${total}` };
}

function fieldsOf(r: { status: string | null; gone_at: Date | null; target_changed: boolean; expires_changed: boolean }): string[] {
  const f: string[] = [];
  if (r.status === "active") {
    if (r.target_changed) f.push("target");
    if (r.expires_changed) f.push("expiresAt");
  }
  if (r.gone_at) f.push("back in source");
  return f;
}

/**
 * Time-ordered grant ids (UUIDv7, RFC 9562): 48-bit Unix milliseconds of the import | version 7 | a 32-bit counter
 * within the import (its high 12 bits, variant 10, its low 20 bits) | 42 random bits. So the ids of one import
 * strictly increase with the counter, sort after those of earlier imports, and need no coordination: the random
 * bits keep two imports of the same millisecond apart (the primary key would refuse a duplicate anyway).
 * `grantIdPrefix` is the constant head "tttttttt-tttt-7" of one import's ids (a parameter of the SQL);
 * `grantIdSql(prefix, n)` the SQL of the id numbered n (a bigint expression, 0 <= n < 2^32). Built as text:
 * a tenth of the cost of assembling bytes (and of gen_random_uuid(), which reads the kernel's random source per row).
 */
export const MAX_GRANT_IDS = 2 ** 32;
export function grantIdPrefix(at: Date): string {
  const t = at.getTime().toString(16).padStart(12, "0");
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7`;
}
export function grantIdSql(prefix: string, n: string): string {
  return `(${prefix} || lpad(to_hex((${n}) >> 20), 3, '0') || '-' || to_hex(32768 | (((${n}) >> 6) & 16383)) || '-'
    || lpad(to_hex((((${n}) & 63) << 42) | floor(random() * 4398046511104)::bigint), 12, '0'))::uuid`;
}

/**
 * The grants this transaction's apply creates: their new ids, principal and scope ids, one row per create of the
 * diff, stored in (principal id, scope id) order with the ids increasing in that same order. Inserting in this
 * order, every index of Grant is written near its right edge or in one run per principal (the primary key and
 * the `(x, id)` indexes by id, the unique (principalId, scopeId, environmentId) and the principal index by
 * principal): random ids in file order touched random pages of each of them, which at a million grants no
 * longer fit in shared_buffers and cost the import most of its time (docs/BENCHMARKS.md, "Access import").
 */
const NEW = "access_import_grant_new";

/**
 * Writes the grant diff of this transaction's plan. Runs after the principals
 * and scopes and their ImportedObject rows are written, so every grant's
 * principal and scope id is found through the mapping.
 */
export async function writeGrants(tx: Tx, sourceId: string, environmentId: string, now: Date, expected: GrantPlan["counts"]): Promise<void> {
  if (expected.create >= MAX_GRANT_IDS) throw new Error(`access import: at most ${MAX_GRANT_IDS - 1} grants are created at once`);
  // This transaction writes ImportedObject rows by the hundred thousand (maybe into an empty table), so its
  // statistics are stale mid-way: the planner took it for tiny and chose nested loops scanning the diff once per
  // row (measured: 9 minutes for 100,000 grants). Hash joins are right at every size here.
  await tx.$executeRawUnsafe(`ANALYZE "ImportedObject"`);
  await withSettings(tx, { enable_nestloop: "off" }, () => writeGrantRows(tx, sourceId, environmentId, now, expected));
}

async function writeGrantRows(tx: Tx, sourceId: string, environmentId: string, now: Date, expected: GrantPlan["counts"]): Promise<void> {
  const t = phaseTimer("write: grants (SQL): ");
  await tx.$executeRawUnsafe(`DROP TABLE IF EXISTS pg_temp.${NEW}`);
  // One sort of the creates (by principal and scope): in memory rather than in temporary files at a million
  // (measured: an 87 MB external merge at 64 MB), for this one statement.
  await withSettings(tx, { work_mem: "256MB" }, () => tx.$executeRawUnsafe(
    `CREATE TEMP TABLE ${NEW} ON COMMIT DROP AS
     SELECT ${grantIdSql("$2::text", "row_number() OVER w - 1")} AS id, d.seq, d.ext, d.object_id, p."objectId" AS principal_id, c."objectId" AS scope_id, d.expires_at
     FROM ${DIFF} d
     JOIN "ImportedObject" p ON p."sourceId" = $1::uuid AND p.kind = 'principal' AND p."externalKey" = d.principal_ext
     JOIN "ImportedObject" c ON c."sourceId" = $1::uuid AND c.kind = 'scope' AND c."externalKey" = d.scope_ext
     WHERE d.action = 'create'
     WINDOW w AS (ORDER BY p."objectId", c."objectId")
     ORDER BY p."objectId", c."objectId"`,
    sourceId,
    grantIdPrefix(now),
  ));
  t.lap("ids");
  // Read in the order written (a temporary table is never scanned from the middle), that is by id: the order only
  // makes the index writes cheap, nothing depends on it.
  const created = await tx.$executeRawUnsafe(
    `INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId", "expiresAt", origin)
     SELECT n.id, n.principal_id, n.scope_id, $1::uuid, n.expires_at, 'import' FROM ${NEW} n`,
    environmentId,
  );
  // Every grant's principal and scope are in the file (checked when it was read): a miss here is a bug, not input.
  if (created !== expected.create) throw new Error(`access import: ${expected.create} grants to create but ${created} found their principal and scope`);
  t.lap("insert");
  if (expected.update) await tx.$executeRawUnsafe(
    `UPDATE "Grant" g SET "expiresAt" = d.expires_at, "updatedAt" = now()
     FROM ${DIFF} d WHERE d.action = 'update' AND g.id = d.object_id`,
  );
  // The mapping: a create the source never mapped has no ImportedObject row (the plan read them all in this
  // transaction, under the source's lock), so it is a plain insert; speculative insertion (ON CONFLICT) only
  // for the rows that have one (updates, and creates whose grant was deleted since).
  if (expected.create) await tx.$executeRawUnsafe(
    `INSERT INTO "ImportedObject" ("sourceId", kind, "externalKey", "objectId", attributes, "lastSeenAt", "goneAt")
     SELECT $1::uuid, 'grant', n.ext, n.id, NULL, $2::timestamptz, NULL FROM ${NEW} n WHERE n.object_id IS NULL`,
    sourceId,
    now,
  );
  if (expected.create + expected.update) await tx.$executeRawUnsafe(
    `INSERT INTO "ImportedObject" ("sourceId", kind, "externalKey", "objectId", attributes, "lastSeenAt", "goneAt")
     SELECT $1::uuid, 'grant', x.ext, x.id, NULL, $2::timestamptz, NULL
     FROM (SELECT n.ext, n.id FROM ${NEW} n WHERE n.object_id IS NOT NULL
           UNION ALL SELECT d.ext, d.object_id FROM ${DIFF} d WHERE d.action = 'update') x
     ON CONFLICT ("sourceId", kind, "externalKey") DO UPDATE
     SET "objectId" = EXCLUDED."objectId", attributes = EXCLUDED.attributes, "lastSeenAt" = EXCLUDED."lastSeenAt", "goneAt" = NULL`,
    sourceId,
    now,
  );
  t.lap("update and mapping");
  if (expected.gone) await tx.$executeRawUnsafe(
    `UPDATE "ImportedObject" o SET "goneAt" = $2::timestamptz
     FROM ${DIFF} d WHERE d.action = 'gone' AND o."sourceId" = $1::uuid AND o.kind = 'grant' AND o."externalKey" = d.ext`,
    sourceId,
    now,
  );
  // A large apply leaves the statistics of both tables far off until autovacuum gets to them: the next plan of this
  // source (a re-import minutes later) estimated 33 mapped rows for a million and read them through an index.
  if (expected.create + expected.update >= ANALYZE_AFTER) await tx.$executeRawUnsafe(`ANALYZE "ImportedObject", "Grant"`);
  t.lap("statistics");
}

/** Grants created or updated by one apply above which it refreshes the statistics of the tables it wrote. */
const ANALYZE_AFTER = 50_000;

/** The ids of the grants gone from the source (for findings), as a SQL sub-select over this transaction's diff. */
export const GONE_GRANT_IDS = `SELECT object_id FROM ${DIFF} WHERE action = 'gone'`;

/** Grants this apply created that no earlier import of the source ever mapped (granted outside review, issue 22). */
export async function freshGrantIds(tx: Tx): Promise<string[]> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(`SELECT id::text AS id FROM ${NEW} WHERE object_id IS NULL`);
  return rows.map((r) => r.id);
}

/** Created and updated grants that are active, as proxy upserts; at most `limit` + 1 rows (more: the caller pushes a snapshot instead). */
export async function grantOps(tx: Tx, sourceId: string, limit: number): Promise<{ id: string; principalId: string; scopeId: string; expiresAt: string | null }[]> {
  // Stale statistics, as in writeGrants.
  const rows = await withSettings(tx, { enable_nestloop: "off" }, () => tx.$queryRawUnsafe<{ id: string; principalId: string; scopeId: string; expiresAt: Date | null }[]>(
    `SELECT coalesce(n.id, d.object_id)::text AS id, p."objectId"::text AS "principalId", c."objectId"::text AS "scopeId", d.expires_at AS "expiresAt"
     FROM ${DIFF} d
     LEFT JOIN ${NEW} n ON n.seq = d.seq
     JOIN "ImportedObject" p ON p."sourceId" = $1::uuid AND p.kind = 'principal' AND p."externalKey" = d.principal_ext
     JOIN "ImportedObject" c ON c."sourceId" = $1::uuid AND c.kind = 'scope' AND c."externalKey" = d.scope_ext
     WHERE d.action = 'create' OR (d.action = 'update' AND d.status = 'active')
     ORDER BY d.seq LIMIT ${limit + 1}`,
    sourceId,
  ));
  return rows.map((r) => ({ ...r, expiresAt: r.expiresAt ? r.expiresAt.toISOString() : null }));
}
