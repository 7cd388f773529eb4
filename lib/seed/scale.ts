import type { PrismaClient } from "@/lib/db";

/**
 * A synthetic inventory of any size for benchmarks, generated inside
 * Postgres with set-based INSERT ... SELECT generate_series (no row ever
 * crosses the wire). Shape: 3 environments, 20 APIs per environment with 5
 * scopes and 8 endpoints each, one principal per 20 grants, one credential per
 * service account and API key, and one usage row per grant used in the last 90
 * days (plus an earlier one for a third of them).
 *
 * Risk mix: issue 5's scenario is 1,000,000 grants with 100,000 open findings,
 * so most grants are used as granted and about one grant in ten ends up with an
 * open finding, every rule represented (see docs/BENCHMARKS.md for the figures).
 * Usage is drawn per (principal, API, environment) bundle, as real teams use an
 * API or stop using it as a whole: 3.5% of bundles are dormant, 2.5% were never
 * used, 2% use their read scopes but not their write/admin ones (over-privileged).
 * Deterministic: ids and attributes are derived from the row number.
 */
export interface SeedScaleResult {
  grants: number;
  principals: number;
  usageRows: number;
  ms: number;
}

const GRANTS_PER_PRINCIPAL = 20;
const APIS_PER_ENV = 20;
const SCOPES_PER_API = 5;

/**
 * A deterministic, valid v4-shaped uuid for row number `expr` of entity type
 * `type` (0-15). Plain hex formatting: far cheaper per row than hashing.
 */
const uuidOf = (type: number, expr: string) =>
  `('00000000-0000-4000-8${type.toString(16)}00-' || lpad(to_hex((${expr})::bigint), 12, '0'))::uuid`;
/**
 * Deterministic pseudo-random integer in [0, mod) from an integer expression and a salt.
 * hashint8 mixes well, so values drawn with different salts are independent
 * (a plain multiplicative hash made "granted recently" and "used recently" correlate).
 */
const rnd = (expr: string, salt: number, mod: number) => `((hashint8((${expr})::bigint * 1000003 + ${salt})::bigint + 2147483648) % ${mod})`;

export async function seedScale(
  db: PrismaClient,
  opts: { grants: number; now?: Date; onStep?: (step: string, ms: number) => void },
): Promise<SeedScaleResult> {
  const started = Date.now();
  const grants = Math.max(1, Math.floor(opts.grants));
  const principals = Math.ceil(grants / GRANTS_PER_PRINCIPAL);
  const now = (opts.now ?? new Date()).toISOString();
  const scopesPerEnv = APIS_PER_ENV * SCOPES_PER_API;

  const usageRows = await db.$transaction(
    async (tx) => {
      const run = async (sql: string) => {
        const t = Date.now();
        const n = await tx.$executeRawUnsafe(sql);
        opts.onStep?.(sql.trim().split("\n")[0].slice(0, 60), Date.now() - t);
        return n;
      };
      await run(`SET LOCAL maintenance_work_mem = '256MB'`);
      await run(`SET LOCAL synchronous_commit = off`);
      // Bulk-load practice (PostgreSQL docs, "Populating a Database"): building an
      // index or checking a foreign key once over a million rows is far cheaper
      // than doing it row by row, so the keys, indexes and foreign keys of
      // the two big tables are dropped here and restored below — in the same
      // transaction, so a failure leaves the schema exactly as it was.
      const bulk = `('"Grant"'::regclass, '"GrantUsageDaily"'::regclass)`;
      const foreignKeys = await tx.$queryRawUnsafe<{ tbl: string; name: string; def: string }[]>(
        `SELECT conrelid::regclass::text AS tbl, conname::text AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
         WHERE contype = 'f' AND (conrelid IN ${bulk} OR confrelid IN ${bulk})`,
      );
      const keys = await tx.$queryRawUnsafe<{ tbl: string; name: string; def: string }[]>(
        `SELECT conrelid::regclass::text AS tbl, conname::text AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
         WHERE contype IN ('p', 'u') AND conrelid IN ${bulk}`,
      );
      const secondary = await tx.$queryRawUnsafe<{ name: string; def: string }[]>(
        `SELECT indexname::text AS name, indexdef AS def FROM pg_indexes
         WHERE schemaname = current_schema() AND tablename IN ('Grant', 'GrantUsageDaily')
           AND indexname NOT IN (SELECT conname::text FROM pg_constraint WHERE contype IN ('p', 'u'))`,
      );
      for (const fk of foreignKeys) await run(`ALTER TABLE ${fk.tbl} DROP CONSTRAINT "${fk.name}"`);
      for (const k of keys) await run(`ALTER TABLE ${k.tbl} DROP CONSTRAINT "${k.name}"`);
      for (const ix of secondary) await run(`DROP INDEX "${ix.name}"`);
      await run(`INSERT INTO "Environment" (id, name, tier)
        SELECT ${uuidOf(1, `e`)}, (ARRAY['production','staging','development'])[e + 1], (ARRAY['production','staging','development'])[e + 1]::"EnvironmentTier"
        FROM generate_series(0, 2) e`);
      await run(`INSERT INTO "Team" (id, name) SELECT ${uuidOf(2, `t`)}, 'Team ' || t FROM generate_series(0, 11) t`);
      await run(`INSERT INTO "Api" (id, name, "baseUrl", "environmentId", "teamId", "updatedAt")
        SELECT ${uuidOf(3, `e * 100 + a`)}, 'api-' || lpad(a::text, 2, '0'), 'https://api-' || a || '.example', ${uuidOf(1, `e`)}, ${uuidOf(2, `a % 12`)}, '${now}'
        FROM generate_series(0, 2) e, generate_series(0, ${APIS_PER_ENV - 1}) a`);
      // One production scope (the last API's write.extra) is deprecated but still granted.
      await run(`INSERT INTO "Scope" (id, "apiId", name, level, "deprecatedAt")
        SELECT ${uuidOf(4, `e * 10000 + a * ${SCOPES_PER_API} + s`)}, ${uuidOf(3, `e * 100 + a`)},
          'api-' || lpad(a::text, 2, '0') || ':' || (ARRAY['read','write','admin','read.extra','write.extra'])[s + 1],
          (ARRAY['read','write','admin','read','write'])[s + 1]::"ScopeLevel",
          CASE WHEN e = 0 AND a = ${APIS_PER_ENV - 1} AND s = ${SCOPES_PER_API - 1} THEN '${now}'::timestamptz - interval '30 days' END
        FROM generate_series(0, 2) e, generate_series(0, ${APIS_PER_ENV - 1}) a, generate_series(0, ${SCOPES_PER_API - 1}) s`);
      await run(`INSERT INTO "Endpoint" (id, "apiId", method, "pathTemplate", sensitivity)
        SELECT ${uuidOf(5, `(e * 100 + a) * 100 + k`)}, ${uuidOf(3, `e * 100 + a`)},
          (ARRAY['GET','GET','POST','PATCH','DELETE'])[(k % 5) + 1], '/r' || (k / 5) || (CASE WHEN k % 5 IN (1, 3, 4) THEN '/{id}' ELSE '' END),
          (ARRAY['low','medium','high','critical'])[(a % 4) + 1]::"Sensitivity"
        FROM generate_series(0, 2) e, generate_series(0, ${APIS_PER_ENV - 1}) a, generate_series(0, 7) k`);
      await run(`INSERT INTO "EndpointScope" ("endpointId", "scopeId")
        SELECT ${uuidOf(5, `(e * 100 + a) * 100 + k`)}, ${uuidOf(4, `e * 10000 + a * ${SCOPES_PER_API} + (ARRAY[0,0,1,1,2])[(k % 5) + 1]`)}
        FROM generate_series(0, 2) e, generate_series(0, ${APIS_PER_ENV - 1}) a, generate_series(0, 7) k`);
      // Principals: 70% people, 20% service accounts, 10% API keys; 0.4% suspended, 0.6% deprovisioned
      // (orphaned). Principal n holds grants in environments n % 3 and (n + 1) % 3; a service principal's
      // home is its first environment, except that those holding production grants (n % 3 = 2) mostly
      // live in production: 15% of them are development principals reaching production (cross-environment).
      await run(`INSERT INTO "Principal" (id, kind, "displayName", email, "externalId", "teamId", "homeEnvironmentId", status, "updatedAt")
        SELECT ${uuidOf(6, `n`)},
          (CASE WHEN n % 10 < 7 THEN 'user' WHEN n % 10 < 9 THEN 'service_account' ELSE 'api_key' END)::"PrincipalKind",
          CASE WHEN n % 10 < 7 THEN 'User ' || lpad(n::text, 7, '0') WHEN n % 10 < 9 THEN 'svc-' || lpad(n::text, 7, '0') ELSE 'key-' || lpad(n::text, 7, '0') END,
          CASE WHEN n % 10 < 7 THEN 'user' || n || '@scale.example' END,
          'scale-' || n, ${uuidOf(2, `n % 12`)},
          CASE WHEN n % 10 >= 7 THEN ${uuidOf(1, `CASE WHEN n % 3 = 2 AND ${rnd("n", 10, 100)} >= 15 THEN 0 ELSE n % 3 END`)} END,
          (CASE WHEN ${rnd("n", 1, 1000)} < 4 THEN 'suspended' WHEN ${rnd("n", 1, 1000)} < 10 THEN 'deprovisioned' ELSE 'active' END)::"PrincipalStatus",
          '${now}'
        FROM generate_series(0, ${principals - 1}) n`);
      // Service accounts and API keys: one key each, rotated within 150 days, except 0.8% not rotated
      // for 200-500 days and 0.4% past their expiry without being revoked (stale credential).
      await run(`INSERT INTO "Credential" (id, "principalId", prefix, hash, "createdAt", "expiresAt")
        SELECT ${uuidOf(8, `n`)}, ${uuidOf(6, `n`)}, 'tg_scale_' || lpad(to_hex(n), 7, '0'), lpad(to_hex(n), 64, '0'),
          '${now}'::timestamptz - (CASE WHEN ${rnd("n", 12, 1000)} < 8 THEN 200 + ${rnd("n", 13, 300)} ELSE ${rnd("n", 13, 150)} END) * interval '1 day',
          CASE WHEN ${rnd("n", 12, 1000)} BETWEEN 8 AND 11 THEN '${now}'::timestamptz - interval '5 days' END
        FROM generate_series(0, ${principals - 1}) n WHERE n % 10 >= 7`);
      // Grant i belongs to principal i/20; its 20 grants use 20 distinct scopes, so (principal, scope) never repeats.
      // Usage is drawn per (principal, API, environment) bundle (r_bundle, per mille): 35 dormant
      // (last used 91-390 days ago), 25 never used, 20 over-privileged (read scopes used this week,
      // write/admin scopes unused), the rest used as granted (75% this week, 25% 7-89 days ago).
      // 85% of the admin grants of service principals were already revoked (privileged service);
      // 0.5% of grants are past their expiry but still active.
      await run(`INSERT INTO "Grant" (id, "principalId", "scopeId", "environmentId", "grantedAt", "expiresAt", "lastUsedAt", status, "revokedAt", "updatedAt", origin)
        SELECT ${uuidOf(7, `i`)}, ${uuidOf(6, `i / ${GRANTS_PER_PRINCIPAL}`)}, ${uuidOf(4, `env * 10000 + k`)}, ${uuidOf(1, `env`)}, granted,
          CASE WHEN st = 'expired' THEN granted + interval '30 days'
               WHEN r_exp < 100 THEN '${now}'::timestamptz + ((r_exp % 10) * 30 + 10) * interval '1 day'
               WHEN r_exp < 105 THEN '${now}'::timestamptz - (r_exp - 99) * 11 * interval '1 day' END,
          CASE WHEN r_bundle < 35 OR (r_bundle < 80 AND r_bundle >= 60 AND k % 5 NOT IN (0, 3) AND r_use < 50)
                 THEN '${now}'::timestamptz - (91 + r_day % 300) * interval '1 day' - (r_sec * interval '1 second')
               WHEN r_bundle < 80 AND (r_bundle < 60 OR k % 5 NOT IN (0, 3)) THEN NULL
               WHEN r_use < 75 THEN '${now}'::timestamptz - (r_day % 7) * interval '1 day' - (r_sec * interval '1 second')
               ELSE '${now}'::timestamptz - (7 + r_day % 83) * interval '1 day' - (r_sec * interval '1 second') END,
          st::"GrantStatus",
          CASE WHEN st = 'revoked' THEN '${now}'::timestamptz - interval '1 day' END,
          '${now}', 'seed'
        FROM (
          SELECT *, CASE WHEN service AND k % 5 = 2 AND r_adm >= 15 THEN 'revoked'
                         WHEN r_status < 90 THEN 'active' WHEN r_status < 97 THEN 'revoked' ELSE 'expired' END AS st,
            ${rnd(`(i / ${GRANTS_PER_PRINCIPAL}) * 1000 + (k / ${SCOPES_PER_API}) * 3 + env`, 11, 1000)} AS r_bundle
          FROM (
            SELECT i, (i / ${GRANTS_PER_PRINCIPAL} + (i % 2)) % 3 AS env,
              ((i / ${GRANTS_PER_PRINCIPAL}) * 7 + i % ${GRANTS_PER_PRINCIPAL}) % ${scopesPerEnv} AS k,
              (i / ${GRANTS_PER_PRINCIPAL}) % 10 >= 7 AS service,
              ${rnd("i", 2, 100)} AS r_use, ${rnd("i", 3, 100)} AS r_status, ${rnd("i", 4, 10000)} AS r_day, ${rnd("i", 5, 86000)} AS r_sec,
              ${rnd("i", 6, 1000)} AS r_exp, ${rnd("i", 14, 100)} AS r_adm,
              '${now}'::timestamptz - (400 + ${rnd("i", 7, 500)}) * interval '1 day' AS granted
            FROM generate_series(0, ${grants - 1}) i
          ) g0
        ) g`);
      // Usage agrees with lastUsedAt: a row on its day, and for a third an earlier one.
      const a = await run(`INSERT INTO "GrantUsageDaily" ("grantId", day, "requestCount")
        SELECT id, ("lastUsedAt" AT TIME ZONE 'UTC')::date, 1 + ${rnd("('x' || substr(id::text, 30, 7))::bit(28)::int", 8, 500)}
        FROM "Grant" WHERE "lastUsedAt" >= '${now}'::timestamptz - interval '90 days'`);
      const b = await run(`INSERT INTO "GrantUsageDaily" ("grantId", day, "requestCount")
        SELECT id, ("lastUsedAt" AT TIME ZONE 'UTC')::date - 7, 1 + ${rnd("('x' || substr(id::text, 30, 7))::bit(28)::int", 9, 500)}
        FROM "Grant" WHERE "lastUsedAt" >= '${now}'::timestamptz - interval '83 days' AND ('x' || substr(id::text, 30, 7))::bit(28)::int % 3 = 0`);
      for (const k of keys) await run(`ALTER TABLE ${k.tbl} ADD CONSTRAINT "${k.name}" ${k.def}`);
      for (const ix of secondary) await run(ix.def);
      for (const fk of foreignKeys) await run(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT "${fk.name}" ${fk.def}`);
      return a + b;
    },
    { timeout: 600_000, maxWait: 10_000 },
  );
  // Fresh statistics, or the planner guesses row counts for the first queries.
  await db.$executeRawUnsafe(`ANALYZE "Environment", "Team", "Api", "Scope", "Endpoint", "EndpointScope", "Principal", "Grant", "GrantUsageDaily"`);
  return { grants, principals, usageRows, ms: Date.now() - started };
}
