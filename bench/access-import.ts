/**
 * Access import benchmark: `npx tsx bench/access-import.ts [--consumers 10000] [--runs 3]`
 *
 * On a fresh database of its own (real Postgres at DATABASE_URL's server, else 127.0.0.1:5432), per run:
 * 1. generates a Kong declarative file (_format_version 3.0) with N consumers (one key each, nested for half and
 *    top-level for the other half; 1-2 ACL groups each, nested or top-level), 20 services with key-auth + acl
 *    allow/deny, one public and one request-terminated route;
 * 2. times planAccessImport and applyAccessImport into an empty environment (one transaction), then the plan and
 *    apply of the unchanged file (the no-op re-import);
 * and reports medians with the importer's peak RSS. Target (issue 15): 10,000 consumers ≤ 10 s.
 */
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { systemActor } from "@/lib/auth/actor";
import { createDb } from "@/lib/db";
import { applyMigrationsSql } from "@/lib/db/migrate";
import { applyAccessImport, planAccessImport } from "@/lib/access-import";
import { benchDatabase, serverSql, runBench } from "./support";

const { values } = parseArgs({ options: { consumers: { type: "string", default: "10000" }, runs: { type: "string", default: "3" } } });
const N = Number(values.consumers);
const RUNS = Math.max(1, Number(values.runs));
const GROUPS = ["gold", "silver", "bronze", "partners", "internal", "admins"];

export function generateKong(n: number): string {
  const consumers: Record<string, unknown>[] = [];
  const keyauth_credentials: Record<string, unknown>[] = [];
  const acls: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const username = `consumer-${i}`;
    const key = `key-${i}-${(i * 2654435761) % 4294967296}`;
    const g1 = GROUPS[i % GROUPS.length];
    const g2 = GROUPS[(i * 7 + 3) % GROUPS.length];
    if (i % 2 === 0) {
      consumers.push({ username, custom_id: `cid-${i}`, keyauth_credentials: [{ key }], acls: [{ group: g1 }] });
      acls.push({ consumer: username, group: g2 });
    } else {
      consumers.push({ username, acls: [{ group: g1 }, ...(g2 !== g1 ? [{ group: g2 }] : [])] });
      keyauth_credentials.push({ consumer: username, key });
    }
  }
  const services: Record<string, unknown>[] = [];
  for (let s = 0; s < 20; s++) {
    const acl = s % 5 === 4 ? { deny: ["partners"] } : { allow: [GROUPS[s % GROUPS.length], GROUPS[(s + 1) % GROUPS.length]] };
    services.push({
      name: `svc-${s}`,
      url: `http://upstream-${s}.internal:8080/api`,
      routes: [{ name: `svc-${s}-read`, paths: [`/svc-${s}`], methods: ["GET"] }, { name: `svc-${s}-write`, paths: [`/svc-${s}`], methods: ["POST", "PUT", "DELETE"] }],
      plugins: [{ name: "key-auth" }, { name: "acl", config: acl }, { name: "rate-limiting", config: { minute: 100 } }],
    });
  }
  services.push({ name: "health", url: "http://health.internal", routes: [{ name: "health", paths: ["/health"] }] });
  services.push({ name: "legacy", url: "http://legacy.internal", routes: [{ name: "legacy", paths: ["/legacy"], plugins: [{ name: "request-termination", config: { status_code: 410 } }] }] });
  return stringify({ _format_version: "3.0", services, consumers, keyauth_credentials, acls });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main() {
  const file = Buffer.from(generateKong(N));
  console.log(`[access-import] Kong file: ${N} consumers, ${(file.length / 1e6).toFixed(1)} MB`);
  const times = { plan: [] as number[], apply: [] as number[], replan: [] as number[], reapply: [] as number[] };
  let peakRss = 0;
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  let counts = "";
  for (let run = 0; run < RUNS; run++) {
    const { server, name, url } = benchDatabase();
    await serverSql(server, `CREATE DATABASE ${name}`);
    const client = createDb(url.toString(), 4);
    try {
      await applyMigrationsSql(url.toString());
      await client.environment.create({ data: { name: "production", tier: "production" } });
      const input = { format: "kong" as const, environment: "production", file, filename: "kong.yml" };
      const actor = systemActor("bench");
      let t = performance.now();
      const plan = await planAccessImport(actor, input, { client });
      times.plan.push(performance.now() - t);
      t = performance.now();
      const applied = await applyAccessImport(actor, { ...input, expectedPlanHash: plan.planHash }, { client });
      times.apply.push(performance.now() - t);
      counts = Object.entries(applied.written).map(([k, v]) => `${k} ${v.created}`).join(", ");
      t = performance.now();
      const again = await planAccessImport(actor, input, { client });
      times.replan.push(performance.now() - t);
      if (!again.empty) throw new Error("re-plan of the same file is not empty");
      t = performance.now();
      const noop = await applyAccessImport(actor, input, { client });
      times.reapply.push(performance.now() - t);
      if (noop.applied) throw new Error("re-apply of the same file wrote something");
    } finally {
      await client.$disconnect();
      await serverSql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  }
  clearInterval(sample);
  console.log(`[access-import] created: ${counts}`);
  console.log(`[access-import] ${RUNS} runs, medians: plan ${s(median(times.plan))}, apply (plan again + write) ${s(median(times.apply))}, plan+apply ${s(median(times.plan) + median(times.apply))}`);
  console.log(`[access-import] no-op re-import: plan ${s(median(times.replan))}, apply ${s(median(times.reapply))}; importer peak RSS ${Math.round(peakRss / 2 ** 20)} MB`);
}

runBench(main);
