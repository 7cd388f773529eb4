import pg from "pg";

/**
 * Two database roles (docs/SECURITY.md, "Database roles"): migrations run as the
 * owner of the tables; the app and its jobs run as a runtime role that may read
 * and write the working tables but may only INSERT into the audit tables. Only a
 * table's owner (or a superuser) can ALTER it, so the runtime role cannot
 * disable the append-only trigger, and it has no UPDATE, DELETE, TRUNCATE or
 * TRIGGER privilege there to begin with.
 */
export const AUDIT_TABLES = ["AuditEvent", "AuditCheckpoint"] as const;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The user name in a postgres URL (the role the app connects as). */
export function roleOfUrl(url: string): string {
  const u = new URL(url);
  return decodeURIComponent(u.username || "postgres");
}

/**
 * Grants the runtime role what the app needs, on every table that exists now
 * (run after each `migrate deploy`, so tables added by later migrations are
 * covered), and takes back everything but SELECT and INSERT on the audit tables.
 * Runs as the owner. The role itself must exist (it has a password, which is
 * the operator's business: README, "Database roles").
 */
export async function provisionRuntimeRole(ownerUrl: string, role: string): Promise<void> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    const exists = await c.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role]);
    if (exists.rowCount === 0) throw new Error(`the runtime role ${role} does not exist: create it first (README, "Database roles")`);
    const [{ db, owner }] = (await c.query(`SELECT current_database() AS db, current_user AS owner`)).rows as { db: string; owner: string }[];
    if (owner === role) throw new Error(`the owner URL and DATABASE_URL connect as the same role (${role}): the runtime role must be a different one`);
    const r = ident(role);
    await c.query("BEGIN");
    // CREATE: pg-boss runs CREATE SCHEMA IF NOT EXISTS at start, which PostgreSQL checks before looking for the
    // schema. A schema of its own gives the runtime role nothing over the owner's tables.
    await c.query(`GRANT CONNECT, TEMPORARY, CREATE ON DATABASE ${ident(db)} TO ${r}`);
    await c.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
    await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO ${r}`);
    await c.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
    const audit = AUDIT_TABLES.map(ident).join(", ");
    await c.query(`REVOKE ALL ON ${audit} FROM ${r}`);
    await c.query(`GRANT SELECT, INSERT ON ${audit} TO ${r}`);
    if ((await c.query(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`)).rows[0].present) {
      await c.query(`REVOKE ALL ON "_prisma_migrations" FROM ${r}`);
    }
    // pg-boss keeps its queues in its own schema and migrates it at start, so the runtime role owns that schema.
    const boss = await c.query(`SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'pgboss'`);
    if (boss.rowCount === 0) await c.query(`CREATE SCHEMA pgboss AUTHORIZATION ${r}`);
    else if ((boss.rows[0] as { owner: string }).owner !== role) {
      await c.query(`ALTER SCHEMA pgboss OWNER TO ${r}`);
      const objects = await c.query(
        `SELECT format('ALTER %s pgboss.%I OWNER TO %I', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, c.relname, $1::text) AS sql
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'pgboss' AND c.relkind IN ('r', 'p', 'S', 'v')
           -- a sequence owned by a column moves with its table
           AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))`,
        [role],
      );
      for (const o of objects.rows as { sql: string }[]) await c.query(o.sql);
    }
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    await c.end();
  }
}

export interface RoleCheck {
  role: string;
  /** Empty when the role can only insert into the audit tables. */
  problems: string[];
}

/**
 * What the role the app connects as could do to the audit log besides
 * inserting. Checked at start-up (scripts/start.ts): a runtime role that owns
 * the audit table could disable its trigger and rewrite history.
 */
export async function checkRuntimeRole(url: string): Promise<RoleCheck> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const problems: string[] = [];
    const [me] = (await c.query(`SELECT current_user AS role, rolsuper FROM pg_roles WHERE rolname = current_user`)).rows as { role: string; rolsuper: boolean }[];
    if (me.rolsuper) problems.push(`${me.role} is a superuser`);
    for (const table of AUDIT_TABLES) {
      const res = await c.query(
        `SELECT pg_get_userbyid(c.relowner) AS owner,
                pg_has_role(current_user, c.relowner, 'USAGE') AS owns,
                array_remove(ARRAY[
                  CASE WHEN has_table_privilege(c.oid, 'UPDATE') THEN 'UPDATE' END,
                  CASE WHEN has_table_privilege(c.oid, 'DELETE') THEN 'DELETE' END,
                  CASE WHEN has_table_privilege(c.oid, 'TRUNCATE') THEN 'TRUNCATE' END,
                  CASE WHEN has_table_privilege(c.oid, 'TRIGGER') THEN 'TRIGGER' END], NULL) AS extra
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
        [`"${table}"`],
      );
      const row = res.rows[0] as { owner: string; owns: boolean; extra: string[] } | undefined;
      if (!row) continue; // not migrated yet
      if (row.owns && !me.rolsuper) problems.push(`${me.role} owns "${table}" (or is a member of its owner ${row.owner}), so it can disable its append-only trigger`);
      if (!me.rolsuper && row.extra.length > 0) problems.push(`${me.role} has ${row.extra.join(", ")} on "${table}"`);
    }
    return { role: me.role, problems };
  } finally {
    await c.end();
  }
}
