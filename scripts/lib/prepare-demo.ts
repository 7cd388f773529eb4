import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createDb } from "@/lib/db";
import { seedDemo } from "@/lib/seed";
import { seedDemoCampaign } from "@/lib/seed/demo-campaign";
import { createServiceToken } from "@/lib/auth/service-tokens";
import { systemActor } from "@/lib/auth/actor";

/**
 * Demo mode (the embedded default): seed the demo company the first time,
 * register the local enforcement proxy for production, and give it a service
 * token for usage reports and snapshot pulls. Returns the proxy's env.
 */
export async function prepareDemo(opts: { databaseUrl: string; dataDir: string; env: NodeJS.ProcessEnv; proxyAdminListen: string }) {
  const db = createDb(opts.databaseUrl, 2);
  try {
    if ((await db.api.count()) === 0) {
      console.log("[tollgate] first start: seeding the demo company");
      await seedDemo(db);
      const campaign = await seedDemoCampaign(db);
      if (campaign) console.log(`[tollgate] demo certification campaign launched with ${campaign.itemCount} items`);
    }
    const production = await db.environment.findFirst({ where: { tier: "production" }, orderBy: { name: "asc" } });
    if (!production) throw new Error("the demo data has no production environment");

    const adminUrl = `http://${opts.proxyAdminListen}`;
    await db.proxy.upsert({
      where: { name: "local" },
      create: { name: "local", adminUrl, adminToken: opts.env.PROXY_ADMIN_TOKEN!, environmentId: production.id },
      update: { adminUrl, adminToken: opts.env.PROXY_ADMIN_TOKEN!, environmentId: production.id },
    });

    // The proxy's own service token, created once and kept in the data folder
    // (the database stores only its hash).
    const tokenFile = path.join(opts.dataDir, "proxy-service-token");
    let token = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : "";
    const hash = createHash("sha256").update(token).digest("hex");
    const known = token ? await db.serviceToken.count({ where: { hash, revokedAt: null } }) : 0;
    if (!known) {
      const created = await createServiceToken(systemActor("npm-start"), { name: "local proxy", scopes: ["usage:ingest", "proxy:sync"] }, db);
      token = created.token;
      writeFileSync(tokenFile, token, { mode: 0o600 });
    }
    return {
      env: {
        PROXY_NAME: "local",
        PROXY_ENVIRONMENT: production.name,
        PROXY_STATE_FILE: path.join(opts.dataDir, "proxy-state"),
        DASHBOARD_URL: `http://127.0.0.1:${opts.env.PORT}`,
        DASHBOARD_TOKEN: token,
      },
    };
  } finally {
    await db.$disconnect();
  }
}
