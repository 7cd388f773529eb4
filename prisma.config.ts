import { randomUUID } from "node:crypto";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { defineConfig } from "prisma/config";

// Workaround 1, prisma/orm#27403: the pg adapter cannot type the catalog types
// "char" (OID 18) and name (OID 19) that migrate reads from pg_catalog, and
// fails with "Column type 'name' could not be deserialized". Reading those two
// as text (OID 25) is lossless for what migrate does with them.
type FieldDescription = { dataTypeID: number };
const resultProto = pg.Result.prototype as unknown as { addFields(fields: FieldDescription[]): void };
const addFields = resultProto.addFields;
resultProto.addFields = function (this: unknown, fieldDescriptions: FieldDescription[]) {
  for (const f of fieldDescriptions) {
    if (f.dataTypeID === 18 || f.dataTypeID === 19) f.dataTypeID = 25;
  }
  return addFields.call(this, fieldDescriptions);
};

function pgConfig() {
  const raw = process.env.DATABASE_URL;
  if (!raw) throw new Error("DATABASE_URL is not set (prisma needs it for every command)");
  const u = new URL(raw);
  // Discrete fields, not connectionString: the adapter spreads {...config, database}
  // for the shadow database, and a connection string would override that.
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
  };
}

// Workaround 2: the stock connectToShadowDb() drops the shadow database while
// its own pool still holds connections ("is being accessed by other users").
// Create it ourselves and, on dispose, close the pool first, then drop.
//
// Workaround 3: the adapter's executeScript() splits a migration on every ";",
// which breaks any function body (our audit-log trigger). Send the script whole:
// without parameters pg uses the simple query protocol, which runs multiple
// statements in one call, as psql would.
async function wholeScripts<T extends { executeScript(s: string): Promise<void>; underlyingDriver(): pg.Pool }>(adapter: T): Promise<T> {
  adapter.executeScript = async (script: string) => {
    await adapter.underlyingDriver().query(script);
  };
  return adapter;
}

class MigratePg extends PrismaPg {
  async connect() {
    return wholeScripts(await super.connect());
  }

  async connectToShadowDb() {
    const config = pgConfig();
    const database = `prisma_shadow_${randomUUID().replace(/-/g, "")}`;
    const admin = new pg.Client(config);
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const shadow = await wholeScripts(await new PrismaPg({ ...config, database }).connect());
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

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  adapter: async () => new MigratePg(pgConfig()),
});
