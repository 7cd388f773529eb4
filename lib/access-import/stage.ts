import { randomBytes } from "node:crypto";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { pgPoolOf, type PrismaClient } from "@/lib/db";
import { AppError, badRequest } from "@/lib/errors";
import type { DesiredGrant } from "./desired";

// The grants of one import, streamed into a staging table of their own with
// COPY as the file is read, so a million-grant file is never held in memory:
// the plan and the apply are SQL over this table (grant-plan.ts). The table is
// UNLOGGED (nothing to recover after a crash: the import is simply redone) in
// the schema "access_import_stage" (migration 0028), filled on a connection of
// its own and committed, so the plan's and the apply's transactions (and a
// retried apply) all read it; the import drops it when it is done.

export const STAGE_SCHEMA = "access_import_stage";
/** Tables a crashed import left behind are dropped by the next import after this long. */
const ABANDONED_MS = 24 * 3600_000;
const FLUSH_ROWS = 4000;
/** COPY: bytes gathered before they are sent (one write to the COPY stream). */
const FLUSH_BYTES = 256 * 1024;

export interface StagedGrant extends DesiredGrant {
  /** Record number across the whole import (files in order): orders errors, samples and conflicts as the file does. */
  seq: number;
  /** File and line, for error messages; null for a format without lines (Kong). */
  file: string | null;
  line: number | null;
  /** The file's api id, to name the scope in messages (a scope's name may hold `|`). */
  api: string | null;
}

/** Where a reader sends grants instead of keeping them (ndjson.ts, csv.ts). */
export interface GrantSink {
  add(g: StagedGrant): void;
  /**
   * add() without the record object; the grant's key is `${principalExt}|${scopeExt}`. `resolved`: the reader
   * already saw the principal and scope defined (check() then need not look their references up).
   */
  addRow(seq: number, file: string | null, line: number | null, principalExt: string, scopeExt: string, api: string | null, expiresAt: string | null, resolved?: boolean): void;
  /** True when enough is buffered that the reader should await flush() before the next record. */
  readonly full: boolean;
  flush(): Promise<void>;
}

/** A reference a reader could not resolve, by record order (the earliest one is reported). */
export interface UndefinedRef {
  seq: number;
  error: AppError;
}

// COPY text format: backslash, tab, newline and carriage return are escaped; \N is NULL.
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const SPECIAL = /[\\\t\n\r]/;
const esc = (v: string | null) => (v === null ? "\\N" : SPECIAL.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : v);

type CopyStream = NodeJS.WritableStream & { on(e: string, f: (...a: unknown[]) => void): unknown };

/** One staged row before it is sent: COPY text, or (embedded server) the values for a batched INSERT. */
type Row = [seq: number, file: number | null, line: number | null, principalExt: string, scopeExt: string, api: string | null, expiresAt: string | null];

export class GrantStage implements GrantSink {
  count = 0;
  /**
   * COPY: the rows' text, encoded as they are added, sent at the next flush. Nothing per grant stays on the heap
   * (kept as strings, a flush's worth of rows outlived several young-generation collections: most of the reader's
   * GC time at a million grants).
   */
  private buf = Buffer.allocUnsafe(FLUSH_BYTES * 2);
  private used = 0;
  /** Embedded server (no COPY): the rows' values. */
  private rows: Row[] = [];
  /** File names by number: the table keeps the number, not the name, on each row. */
  private readonly files: string[] = [];
  private readonly fileNo = new Map<string, number>();
  private failure: Error | null = null;
  private closed = false;
  /** Rows whose principal and scope the reader had not seen defined when it read them: check() looks those up in SQL. */
  private unresolved = 0;
  /** A 53-bit hash of every row's key: no two equal, no duplicate (check() then skips its GROUP BY over the table). */
  private readonly keyHashes = new KeyHashes();

  /** `copy` null: the embedded PGlite server, whose socket server does not speak COPY FROM STDIN (batched INSERTs instead). */
  private constructor(
    private readonly pool: pg.Pool,
    private conn: pg.PoolClient | null,
    private readonly copy: CopyStream | null,
    /** Schema-qualified, quoted: safe to put in SQL. */
    readonly table: string,
  ) {
    copy?.on("error", (e) => (this.failure ??= e as Error));
  }

  static async open(client: PrismaClient): Promise<GrantStage> {
    const pool = await pgPoolOf(client);
    await dropAbandoned(pool);
    const name = `grants_${Date.now()}_${randomBytes(6).toString("hex")}`;
    const table = `"${STAGE_SCHEMA}"."${name}"`;
    const conn = await pool.connect();
    try {
      // A grant's external key is its principal's and its scope's, joined by "|" (every format names grants so):
      // Postgres builds it as the rows arrive, on its own core, instead of the reader.
      await conn.query(`CREATE UNLOGGED TABLE ${table} (
        seq bigint NOT NULL, file int, line int, principal_ext text NOT NULL, scope_ext text NOT NULL, api text, expires_at timestamptz,
        ext text NOT NULL GENERATED ALWAYS AS (principal_ext || '|' || scope_ext) STORED)`);
      const { rows } = await conn.query<{ v: string }>(`SELECT version() AS v`);
      if (rows[0].v.includes("PGlite")) {
        conn.release();
        return new GrantStage(pool, null, null, table);
      }
      const copy = conn.query(copyFrom(`COPY ${table} (seq, file, line, principal_ext, scope_ext, api, expires_at) FROM STDIN`));
      return new GrantStage(pool, conn, copy, table);
    } catch (e) {
      conn.release(true);
      await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      throw e;
    }
  }

  add(g: StagedGrant): void {
    if (g.ext !== `${g.principalExt}|${g.scopeExt}`) throw new Error(`access import: grant key ${g.ext} is not its principal's and scope's`);
    this.addRow(g.seq, g.file, g.line, g.principalExt, g.scopeExt, g.api, g.expiresAt, false);
  }

  /** add() without the record object (the readers' path for every plain grant line); `expiresAt` is ISO 8601 or null. */
  addRow(seq: number, file: string | null, line: number | null, principalExt: string, scopeExt: string, api: string | null, expiresAt: string | null, resolved = false): void {
    // Postgres text cannot hold NUL; refuse it here rather than fail the COPY.
    if (principalExt.includes("\0") || scopeExt.includes("\0")) throw badRequest(`${file ?? "file"}:${line ?? "?"}: a NUL character in an id; nothing was imported`, `line ${line}`);
    if (!resolved) this.unresolved++;
    this.keyHashes.add(principalExt, scopeExt);
    let f: number | null = null;
    if (file !== null) {
      f = this.fileNo.get(file) ?? null;
      if (f === null) {
        f = this.files.push(file) - 1;
        this.fileNo.set(file, f);
      }
    }
    if (this.copy) {
      const row = `${seq}\t${f ?? "\\N"}\t${line ?? "\\N"}\t${esc(principalExt)}\t${esc(scopeExt)}\t${esc(api)}\t${esc(expiresAt)}\n`;
      if (this.buf.length - this.used < row.length * 3) {
        const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + row.length * 3));
        this.buf.copy(bigger, 0, 0, this.used);
        this.buf = bigger;
      }
      this.used += this.buf.write(row, this.used, "utf8");
    } else this.rows.push([seq, f, line, principalExt, scopeExt, api, expiresAt]);
    this.count++;
  }

  get full(): boolean {
    return this.used >= FLUSH_BYTES || this.rows.length >= FLUSH_ROWS;
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.copy) {
      if (!this.rows.length) return;
      const rows = this.rows;
      this.rows = [];
      const col = (i: number) => rows.map((r) => r[i]);
      await this.pool.query(
        `INSERT INTO ${this.table} (seq, file, line, principal_ext, scope_ext, api, expires_at)
         SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])`,
        [col(0), col(1), col(2), col(3), col(4), col(5), col(6)],
      );
      return;
    }
    if (!this.used) return;
    const chunk = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(FLUSH_BYTES * 2);
    this.used = 0;
    if (!this.copy.write(chunk)) await new Promise<void>((resolve, reject) => {
      // Both listeners go once either fires (left behind, one per wait, they piled up on the stream).
      const copy = this.copy as unknown as NodeJS.EventEmitter;
      const drained = () => {
        copy.off("error", failed);
        resolve();
      };
      const failed = (e: unknown) => {
        copy.off("drain", drained);
        reject(e as Error);
      };
      copy.once("drain", drained);
      copy.once("error", failed);
    });
  }

  /** Stages grants that are already in memory (Kong: the translation produces them as a list). */
  async addAll(grants: DesiredGrant[]): Promise<void> {
    for (const g of grants) {
      this.add({ ...g, seq: this.count, file: null, line: null, api: null });
      if (this.full) await this.flush();
    }
  }

  /** Ends the COPY (the rows are committed) and gives the planner the table's statistics. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (!this.copy) {
      await this.pool.query(`ANALYZE ${this.table}`);
      return;
    }
    const copy = this.copy;
    await new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      (copy as unknown as NodeJS.EventEmitter).once("finish", () => resolve());
      (copy as unknown as NodeJS.EventEmitter).once("error", (e) => reject(e as Error));
      copy.end();
    });
    await this.conn!.query(`ANALYZE ${this.table}`);
    this.conn!.release();
    this.conn = null;
  }

  /**
   * The checks a reader does for grants it keeps in memory, here in SQL after
   * the last line: the same grant twice (reported on its second line, as the
   * reader would), then references to principals or scopes the file does not
   * define, reported with `earlier` (the reader's own first unresolved
   * reference) whichever comes first in the file.
   */
  async check(defined: { principals: string[]; scopes: string[] }, earlier: UndefinedRef | null, within: string): Promise<void> {
    const conn = this.pool;
    const dup = this.keyHashes.anyEqual() ? await conn.query<{ ext: string }>(`SELECT ext FROM ${this.table} GROUP BY ext HAVING count(*) > 1 LIMIT 1`) : { rows: [] };
    if (dup.rows.length) {
      const { rows } = await conn.query<{ file: number | null; line: number; principal_ext: string; scope_ext: string; api: string; pfile: number | null; pline: number }>(
        `SELECT file, line, principal_ext, scope_ext, api, pfile, pline FROM (
           SELECT seq, file, line, principal_ext, scope_ext, api, lag(file) OVER w AS pfile, lag(line) OVER w AS pline, row_number() OVER w AS n
           FROM ${this.table} WHERE ext IN (SELECT ext FROM ${this.table} GROUP BY ext HAVING count(*) > 1)
           WINDOW w AS (PARTITION BY ext ORDER BY seq)) x
         WHERE n = 2 ORDER BY seq LIMIT 1`,
      );
      const r = { ...rows[0], file: this.fileName(rows[0].file), pfile: this.fileName(rows[0].pfile) };
      const also = r.pfile === r.file ? `on line ${r.pline}` : `at ${r.pfile}:${r.pline}`;
      throw badRequest(`${r.file}:${r.line}: grant of ${scopeName(r)} (api ${r.api}) to ${principalId(r.principal_ext)} is given twice (also ${also}); nothing was imported`, `line ${r.line}`);
    }
    type Ref = { seq: string; file: number | null; line: number; principal_ext: string; scope_ext: string; api: string; no_principal: boolean };
    const { rows } = !this.unresolved ? { rows: [] as Ref[] } : await conn.query<Ref>(
      `SELECT s.seq::text AS seq, s.file, s.line, s.principal_ext, s.scope_ext, s.api, p.x IS NULL AS no_principal
       FROM ${this.table} s
       LEFT JOIN unnest($1::text[]) AS p(x) ON p.x = s.principal_ext
       LEFT JOIN unnest($2::text[]) AS c(x) ON c.x = s.scope_ext
       WHERE p.x IS NULL OR c.x IS NULL ORDER BY s.seq LIMIT 1`,
      [defined.principals, defined.scopes],
    );
    const r = rows[0] ? { ...rows[0], file: this.fileName(rows[0].file) } : undefined;
    if (earlier && (!r || earlier.seq < Number(r.seq))) throw earlier.error;
    if (r) {
      const what = r.no_principal ? `principal ${principalId(r.principal_ext)}` : `scope ${scopeName(r)} of api ${r.api}`;
      throw badRequest(`${r.file}:${r.line}: ${what} is not defined in ${within}; nothing was imported`, `line ${r.line}`);
    }
  }

  private fileName(n: number | null): string {
    return n === null ? "file" : this.files[n];
  }

  /**
   * The client's pool when the server is real PostgreSQL (not the embedded PGlite, whose socket server serves one
   * connection at a time): the plan reads the live rows on a second connection of it (live.ts, `loadLiveStateBeside`).
   */
  get sidePool(): pg.Pool | null {
    return this.copy ? this.pool : null;
  }

  /** Drops the table (and, after a failed read, the connection the COPY was on). Never throws. */
  async drop(): Promise<void> {
    if (this.conn) {
      if (!this.closed) (this.copy as unknown as { destroy?: () => void } | null)?.destroy?.();
      this.conn.release(true);
      this.conn = null;
    }
    await this.pool.query(`DROP TABLE IF EXISTS ${this.table}`).catch(() => undefined);
  }
}

/**
 * 53-bit hashes of grant keys (two 32-bit FNV-1a lanes over principal ext, "|", scope ext), 8 bytes a grant: equal
 * keys give equal hashes, so no two equal hashes means no duplicate; equal ones (a duplicate, or rarely a collision)
 * send check() to the exact SQL.
 */
export class KeyHashes {
  private values = new Float64Array(1024);
  private n = 0;
  // The two lanes of the key being hashed. Fields and a method, not a closure per key: under tsx (esbuild
  // keepNames) every closure creation is also a __name() call, 0.3 s of a million-grant plan.
  private a = 0;
  private b = 0;

  private lane(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.a = Math.imul(this.a ^ c, 0x01000193);
      this.b = Math.imul(this.b ^ c, 0x5bd1e995);
    }
  }

  add(principalExt: string, scopeExt: string): void {
    this.a = 0x811c9dc5;
    this.b = 0x01000193;
    this.lane(principalExt);
    this.lane("|");
    this.lane(scopeExt);
    const { a, b } = this;
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = (a >>> 0) * 2 ** 21 + ((b >>> 0) >>> 11);
  }

  /** True when two added keys may be equal. */
  anyEqual(): boolean {
    const v = this.values.subarray(0, this.n).sort();
    for (let i = 1; i < v.length; i++) if (v[i] === v[i - 1]) return true;
    return false;
  }
}

const principalId = (ext: string) => ext.replace(/^principal:/, "");
const scopeName = (r: { scope_ext: string; api: string }) => r.scope_ext.slice(`api:${r.api}|`.length);

/** Staging tables of imports that crashed (the process died before dropping them). */
async function dropAbandoned(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'grants\\_%'`, [STAGE_SCHEMA]);
  for (const { name } of rows) {
    const at = Number(name.split("_")[1]);
    if (Number.isFinite(at) && Date.now() - at > ABANDONED_MS) await pool.query(`DROP TABLE IF EXISTS "${STAGE_SCHEMA}"."${name}"`).catch(() => undefined);
  }
}
