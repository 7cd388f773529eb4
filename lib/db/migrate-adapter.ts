import { randomUUID } from "node:crypto";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { pgConfigFromUrl } from "../config/env";

/**
 * The driver adapter `prisma migrate` runs through (prisma.config.ts), with the
 * three workarounds Prisma 6.19's pg adapter needs. Each is checked by
 * test/patched-internals.test.ts, which names the patch when upstream changes.
 */

/**
 * Patch 1, prisma/orm#27403 (also #28145): the adapter cannot type the catalog
 * types "char" (OID 18) and name (OID 19) that migrate reads from pg_catalog
 * ("Column type 'name' could not be deserialized"). Reading those two as text
 * (OID 25) is lossless for what migrate does with them. Installed on
 * pg.Result.prototype, which only the Prisma CLI process loads this file into.
 */
export const CATALOG_TYPES_PATCH = "lib/db/migrate-adapter.ts readCatalogTypesAsText (prisma/orm#27403)";
type FieldDescription = { dataTypeID: number };
type ResultProto = { addFields?: (fields: FieldDescription[]) => void; __catalogTypesAsText?: true };

export function readCatalogTypesAsText(): void {
  const proto = pg.Result.prototype as unknown as ResultProto;
  if (proto.__catalogTypesAsText) return;
  const addFields = proto.addFields;
  if (typeof addFields !== "function") throw new Error(`${CATALOG_TYPES_PATCH}: pg.Result.prototype.addFields is gone in this pg release; adapt or drop the patch`);
  proto.addFields = function (this: unknown, fieldDescriptions: FieldDescription[]) {
    for (const f of fieldDescriptions) if (f.dataTypeID === 18 || f.dataTypeID === 19) f.dataTypeID = 25;
    return addFields.call(this, fieldDescriptions);
  };
  proto.__catalogTypesAsText = true;
}

/**
 * Patch 2 (no upstream issue found): the adapter's executeScript() splits a
 * migration on every ";", which breaks any function body (our audit-log
 * trigger). Send the script whole: without parameters pg uses the simple query
 * protocol, which runs several statements in one call, as psql does.
 */
export const WHOLE_SCRIPTS_PATCH = "lib/db/migrate-adapter.ts wholeScripts (adapter-pg executeScript splits on ';')";
type ScriptAdapter = { executeScript(s: string): Promise<void>; underlyingDriver(): pg.Pool };

export function wholeScripts<T extends ScriptAdapter>(adapter: T): T {
  if (typeof adapter.executeScript !== "function" || typeof adapter.underlyingDriver !== "function")
    throw new Error(`${WHOLE_SCRIPTS_PATCH}: the adapter no longer has executeScript/underlyingDriver; adapt or drop the patch`);
  adapter.executeScript = async (script: string) => {
    await adapter.underlyingDriver().query(script);
  };
  return adapter;
}

/** DATABASE_URL as discrete pg fields: the adapter spreads {...config, database} for the shadow database, which a connection string would override. */
export function migrateConfig(url: string | undefined) {
  if (!url) throw new Error("DATABASE_URL is not set (prisma needs it for every command)");
  return pgConfigFromUrl(url);
}

/**
 * Patch 3 (no upstream issue found): the stock connectToShadowDb() drops the
 * shadow database while its own pool still holds connections ("is being
 * accessed by other users"). Create it ourselves and, on dispose, close the
 * pool first, then drop it.
 */
export class MigratePg extends PrismaPg {
  constructor(private readonly pgSettings: ReturnType<typeof pgConfigFromUrl>) {
    super(pgSettings);
  }

  async connect() {
    return wholeScripts(await super.connect());
  }

  async connectToShadowDb() {
    const config = this.pgSettings;
    const database = `prisma_shadow_${randomUUID().replace(/-/g, "")}`;
    const admin = new pg.Client(config);
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const shadow = wholeScripts(await new PrismaPg({ ...config, database }).connect());
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      const c = new pg.Client(config);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${database}"`);
      await c.end();
    };
    return shadow;
  }
}
