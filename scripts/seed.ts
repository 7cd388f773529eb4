/**
 * `npm run seed`                      loads the demo company (refuses a non-empty inventory)
 * `npm run seed -- --reset`           truncates the inventory tables first
 * `npm run seed -- --grants 1000000`  loads a synthetic inventory of that many grants instead
 * Uses DATABASE_URL.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { createDb, type PrismaClient } from "@/lib/db";
import { env } from "@/lib/config/env";
import { seedDemo } from "@/lib/seed/demo";
import { inventoryIsEmpty, resetInventory } from "@/lib/seed/reset";
import { seedScale } from "@/lib/seed/scale";

const { values } = parseArgs({
  options: { reset: { type: "boolean", default: false }, grants: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
});
if (values.help) {
  console.log("usage: npm run seed -- [--reset] [--grants N]");
  process.exit(0);
}
const grants = values.grants === undefined ? undefined : z.coerce.number().int().min(1).max(50_000_000).safeParse(values.grants);
if (grants && !grants.success) {
  console.error("--grants: must be a whole number between 1 and 50,000,000");
  process.exit(2);
}

let db: PrismaClient | undefined;
try {
  db = createDb(env().DATABASE_URL, 4);
  if (!(await inventoryIsEmpty(db))) {
    if (!values.reset) {
      console.error("The inventory is not empty. Run `npm run seed -- --reset` to delete it and load the seed again.");
      process.exit(1);
    }
    await resetInventory(db);
    console.log("inventory tables truncated");
  }
  if (grants) {
    const r = await seedScale(db, { grants: grants.data });
    console.log(`synthetic inventory: ${r.grants.toLocaleString("en-US")} grants, ${r.principals.toLocaleString("en-US")} principals, ${r.usageRows.toLocaleString("en-US")} usage rows in ${(r.ms / 1000).toFixed(1)} s`);
  } else {
    const r = await seedDemo(db);
    console.log(`demo company loaded in ${(r.ms / 1000).toFixed(1)} s:`, r.counts);
    console.log("sign in as admin@ / reviewer@ / reviewer2@ / manager@ / auditor@tollgate.test, password tollgate-demo");
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
} finally {
  await db?.$disconnect();
}
