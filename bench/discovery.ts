/**
 * Discovery benchmark: `npx tsx bench/discovery.ts [--operations 1000] [--runs 5]`
 *
 * On a fresh database of its own (real Postgres at DATABASE_URL's server, else 127.0.0.1:5432):
 * 1. generates an OpenAPI 3.0 description with N operations (path parameters,
 *    shared $ref schemas, OAuth2 scopes per resource, an API-key scheme, public health checks),
 * 2. times planImport (parse + validate + diff, no writes) and applyImport (one transaction:
 *    endpoints, scopes, links, audit event, outbox row) into an empty API, `runs` times each on a new API,
 * 3. times a re-import of a copy with 10% of the operations changed (plan + apply),
 * 4. times the same for GitHub's real REST description (@octokit/openapi, 1,000+ operations, 13 MB),
 * and reports medians. Target (issue 8): importing a 1,000-operation description < 5 s.
 */
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { systemActor } from "@/lib/auth/actor";
import { createDb } from "@/lib/db";
import { applyMigrationsSql } from "@/lib/db/migrate";
import { applyImport, planImport } from "@/lib/discovery";
import { benchDatabase, serverSql, runBench } from "./support";

const { values } = parseArgs({ options: { operations: { type: "string", default: "1000" }, runs: { type: "string", default: "5" } } });
const OPS = Number(values.operations);
const RUNS = Math.max(1, Number(values.runs));
const GITHUB = "node_modules/@octokit/openapi/generated/api.github.com.json";

const { server, name, url } = benchDatabase();
const admin = (sql: string) => serverSql(server, sql);

/** N operations over N/5 resources: list, create, get, update, delete each. */
export function generateDescription(operations: number, variant = 0) {
  const resources = Math.ceil(operations / 5);
  const paths: Record<string, Record<string, unknown>> = {};
  const scopes: Record<string, string> = {};
  let made = 0;
  const ok = { 200: { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } } };
  const idParam = [{ name: "id", in: "path", required: true, schema: { type: "string" } }];
  for (let r = 0; r < resources && made < operations; r++) {
    const res = `res${r}`;
    scopes[`${res}:read`] = `read ${res}`;
    scopes[`${res}:write`] = `change ${res}`;
    const changed = variant > 0 && r % 10 === 0; // 10% of resources change in the variant
    const list = (paths[`/v1/${res}`] = {} as Record<string, unknown>);
    const one = (paths[`/v1/${res}/{id}`] = { parameters: idParam } as Record<string, unknown>);
    const defs: [Record<string, unknown>, string, Record<string, unknown>][] = [
      [list, "get", { summary: `List ${res}${changed ? " (v2)" : ""}`, security: [{ oauth: [`${res}:read`] }], responses: ok }],
      [list, "post", { summary: `Create ${res}`, security: [{ oauth: [`${res}:write`] }], requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } }, responses: ok }],
      [one, "get", { summary: `Get ${res}`, security: [{ oauth: [`${res}:read`] }, { key: [] }], responses: ok }],
      [one, "put", { summary: `Update ${res}`, security: [{ oauth: [changed ? `${res}:read` : `${res}:write`] }], responses: ok }],
      [one, changed ? "patch" : "delete", { summary: `Delete ${res}`, security: [{ oauth: [`${res}:write`] }], responses: { 204: { description: "gone" } } }],
    ];
    for (const [item, method, op] of defs) {
      if (made >= operations) break;
      item[method] = { operationId: `${method}_${res}_${item === list ? "list" : "one"}`, ...op };
      made++;
    }
  }
  return {
    openapi: "3.0.3",
    info: { title: `Generated ${operations}`, version: "1" },
    servers: [{ url: "https://generated.example" }],
    security: [{ oauth: [] }],
    components: {
      securitySchemes: { oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://id.example/token", scopes } } }, key: { type: "apiKey", in: "header", name: "X-Key" } },
      schemas: { Thing: { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, tags: { type: "array", items: { type: "string" } } } } },
    },
    paths,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
};

async function main() {
  console.log(`[discovery] host: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  await admin(`CREATE DATABASE "${name}"`);
  const client = createDb(url.toString(), 4);
  const actor = systemActor("bench");
  try {
    await applyMigrationsSql(url.toString());
    const env = await client.environment.create({ data: { name: "bench", tier: "production" } });
    await client.proxy.create({ data: { name: "bench-proxy", adminUrl: "http://127.0.0.1:1", adminToken: "x".repeat(32), environmentId: env.id } });
    const doc = JSON.stringify(generateDescription(OPS));
    const changed = JSON.stringify(generateDescription(OPS, 1));
    const plans: number[] = [];
    const applies: number[] = [];
    const replans: number[] = [];
    const reapplies: number[] = [];
    let counts = "";
    for (let i = 0; i < RUNS; i++) {
      const input = { apiName: `gen-${i}`, environment: "bench", document: doc };
      const [p, plan] = await ms(() => planImport(actor, input, { client }));
      const [a, result] = await ms(() => applyImport(actor, input, { client }));
      const [rp, replan] = await ms(() => planImport(actor, { ...input, document: changed }, { client }));
      const [ra] = await ms(() => applyImport(actor, { ...input, document: changed, expectedPlanHash: replan.planHash }, { client }));
      plans.push(p);
      applies.push(a);
      replans.push(rp);
      reapplies.push(ra);
      const d = replan.diff.endpoints;
      counts = `first import: +${result.diff.endpoints.added.length} endpoints, +${result.diff.scopes.added.length} scopes; re-import: +${d.added.length} ~${d.changed.length} -${d.removed.length} endpoints (plan ${plan.document.operations} ops)`;
    }
    console.log(`[discovery] ${OPS}-operation description (${(doc.length / 1024).toFixed(0)} KiB JSON), ${RUNS} runs, medians:`);
    console.log(`[discovery]   plan (parse + validate + diff, no writes): ${median(plans).toFixed(0)} ms`);
    console.log(`[discovery]   apply into an empty API (one transaction):  ${median(applies).toFixed(0)} ms  (target < 5000 ms)`);
    console.log(`[discovery]   re-import with 10% changed: plan ${median(replans).toFixed(0)} ms, apply ${median(reapplies).toFixed(0)} ms`);
    console.log(`[discovery]   ${counts}`);
    if (existsSync(GITHUB)) {
      const gh = readFileSync(GITHUB);
      const input = { apiName: "github", environment: "bench", document: gh };
      const [p, plan] = await ms(() => planImport(actor, input, { client, maxBytes: 64 * 1024 * 1024 }));
      const [a] = await ms(() => applyImport(actor, input, { client, maxBytes: 64 * 1024 * 1024 }));
      console.log(`[discovery] GitHub REST description (${plan.document.operations} operations, ${(gh.length / 1024 / 1024).toFixed(1)} MiB): plan ${p.toFixed(0)} ms, apply ${a.toFixed(0)} ms`);
    }
  } finally {
    await client.$disconnect();
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

runBench(main);
