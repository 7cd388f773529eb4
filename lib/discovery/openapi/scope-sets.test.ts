import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { systemActor } from "@/lib/auth/actor";
import { applyImport } from "@/lib/discovery";
import { apiPrefix, buildProxySnapshot, snapshotNdjson } from "@/lib/enforcement/snapshot";
import { ingestUsageReport } from "@/lib/usage/ingest";
import { runAnalysis } from "@/lib/analysis";
import { daysAgo, makeGrant, makePrincipal } from "@/lib/analysis/fixtures";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { ADMIN_TOKEN, admin, call, sha, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { forwardAuthLocation, nginxAvailable, NGINX, startNginx, type Nginx } from "@/proxy/nginx-support";
import { extractDescription } from "./extract";
import { syntheticScopeName } from "./synthetic-scope";
import type { OpenApiDocument } from "./parse";

// Issue 17, defect 1, end to end: an OpenAPI operation requiring
// `{oauth: [a, b]}` OR `{apiKey: []}` is imported, pulled by the REAL proxy
// from the dashboard's snapshot (NDJSON), and enforced as "a AND b, or the
// apiKey scheme's scope" — on the data plane and through real nginx
// (auth_request). Usage reported by the proxy names every grant of the set,
// so the over-privilege rule does not call b unused.

const API = "reports";
const PROXY_NAME = "sets-proxy";
const actor = systemActor("test");

const document = (upstream: string, extraScope = false) =>
  JSON.stringify({
    openapi: "3.0.3",
    info: { title: "Reports", version: "1" },
    servers: [{ url: upstream }],
    paths: {
      "/reports/{id}": {
        get: { operationId: "getReport", security: [{ oauth: extraScope ? ["a", "b", "d"] : ["a", "b"] }, { apiKey: [] }], responses: { "200": { description: "ok" } } },
      },
      "/stats": { get: { operationId: "stats", security: [{ oauth: ["c"] }], responses: { "200": { description: "ok" } } } },
    },
    components: {
      securitySchemes: {
        oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://id.example/token", scopes: { a: "read reports", b: "read report bodies", c: "stats", d: "audit" } } } },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
    },
  });

let tdb: TestDatabase;
let client: PrismaClient;
let upstream: http.Server;
let upstreamUrl: string;
const seen: string[] = [];
let dashboard: http.Server;
let proxy: ProxyProcess;
let nginx: Nginx | undefined;
let envId: string;
const keys = { onlyA: `tg_a_${randomUUID()}`, onlyB: `tg_b_${randomUUID()}`, both: `tg_ab_${randomUUID()}`, apiKey: `tg_k_${randomUUID()}` };
const scope: Record<string, string> = {};
const grants: Record<string, string> = {};
let bothId: string;

const listen = (s: http.Server) => new Promise<string>((r) => s.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const path = () => `${apiPrefix(API)}/reports/42`;

async function until(what: string, check: () => Promise<boolean>, capMs = 60_000): Promise<void> {
  const end = Date.now() + capMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A stand-in for the dashboard's two proxy-facing routes, each a thin call into the real lib function. */
function dashboardServer(): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      try {
        const url = new URL(req.url!, "http://x");
        if (req.method === "GET" && url.pathname === "/api/v1/proxy/snapshot") {
          const snap = await buildProxySnapshot(actor, { environment: url.searchParams.get("environment") }, client);
          res.writeHead(200, { "content-type": "application/x-ndjson" });
          for (const chunk of snapshotNdjson(snap)) res.write(chunk);
          return void res.end();
        }
        if (req.method === "POST" && url.pathname === "/api/v1/usage") {
          const r = await ingestUsageReport(actor, JSON.parse(Buffer.concat(chunks).toString()), client);
          res.writeHead(200, { "content-type": "application/json" });
          return void res.end(JSON.stringify(r));
        }
        res.writeHead(404).end();
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
  });
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  envId = (await client.environment.create({ data: { name: "production", tier: "production" } })).id;
  upstream = http.createServer((req, res) => {
    seen.push(req.url!);
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  upstreamUrl = await listen(upstream);

  const imported = await applyImport(actor, { apiName: API, environment: "production", document: document(upstreamUrl) }, { client });
  for (const s of await client.scope.findMany({ where: { apiId: imported.api.id! } })) scope[s.name] = s.id;
  const apiKeyScope = syntheticScopeName("apiKey", "GET");
  expect(Object.keys(scope).sort()).toEqual(["a", "b", "c", apiKeyScope].sort());

  // Principals, each with one key; grants old enough for the analysis to judge.
  const holds: Record<keyof typeof keys, string[]> = { onlyA: ["a"], onlyB: ["b"], both: ["a", "b", "c"], apiKey: [apiKeyScope] };
  for (const [who, names] of Object.entries(holds) as [keyof typeof keys, string[]][]) {
    const p = await makePrincipal(client, { kind: "api_key", name: who });
    if (who === "both") bothId = p.id;
    await client.credential.create({ data: { principalId: p.id, prefix: who, hash: sha(keys[who]) } });
    for (const n of names) grants[`${who}:${n}`] = (await makeGrant(client, { principalId: p.id, scopeId: scope[n], environmentId: envId, grantedAt: daysAgo(400) })).id;
  }

  dashboard = dashboardServer();
  const dashboardUrl = await listen(dashboard);
  const ports = { data: await freePort(), admin: await freePort() };
  await client.proxy.create({ data: { name: PROXY_NAME, adminUrl: `http://127.0.0.1:${ports.admin}`, adminToken: ADMIN_TOKEN, environmentId: envId } });
  proxy = await spawnProxy(
    { DASHBOARD_URL: dashboardUrl, DASHBOARD_TOKEN: "tgs_test", PROXY_NAME, PROXY_USAGE_FLUSH_MS: "100", PROXY_SYNC_INTERVAL_MS: "3600000" },
    ports,
  );
  await until("the proxy to pull its state", async () => (await admin(proxy.adminUrl, "GET", "/admin/v1/state")).body.ready === true);

  if (nginxAvailable()) {
    nginx = await startNginx(
      await freePort(),
      `${forwardAuthLocation(ports.data)}
    location / {
      auth_request /_tollgate_auth;
      proxy_pass ${upstreamUrl};
    }`,
    );
  }
}, 120_000);

afterAll(async () => {
  await nginx?.stop();
  await proxy?.stop("SIGKILL");
  dashboard?.close();
  upstream?.close();
  await client?.$disconnect();
  await tdb?.drop();
});

test("the snapshot carries the endpoint's requirements as canonical sets of scope ids", async () => {
  const snap = await buildProxySnapshot(actor, { environment: "production" }, client);
  const route = snap.routes.find((r) => r.pathTemplate === "/reports/{id}")!;
  const ab = [scope.a, scope.b].sort();
  const k = [scope[syntheticScopeName("apiKey", "GET")]];
  expect(route.requirements).toEqual([ab, k].sort((x, y) => (x[0] < y[0] ? -1 : 1)));
  expect(route.public).toBe(false);
  expect(JSON.stringify(route)).not.toContain("scopeIds");
});

test("at the proxy: a alone is 403, b alone is 403, a AND b is 200, the apiKey alternative is 200", async () => {
  const before = seen.length;
  expect((await call(proxy.dataUrl, "GET", path(), bearer(keys.onlyA))).status).toBe(403);
  expect((await call(proxy.dataUrl, "GET", path(), bearer(keys.onlyB))).status).toBe(403);
  expect(seen.length).toBe(before); // nothing refused reached the upstream
  expect((await call(proxy.dataUrl, "GET", path(), bearer(keys.both))).status).toBe(200);
  expect((await call(proxy.dataUrl, "GET", path(), bearer(keys.apiKey))).status).toBe(200);
  expect(seen.slice(before)).toEqual(["/reports/42", "/reports/42"]);
});

describe.skipIf(!nginxAvailable())(`through real nginx (auth_request)${nginxAvailable() ? "" : `: skipped, ${NGINX} not found`}`, () => {
  test("a alone is 403, a AND b is 200, the apiKey alternative is 200", async () => {
    const before = seen.length;
    expect((await call(nginx!.url, "GET", path(), bearer(keys.onlyA))).status).toBe(403);
    expect((await call(nginx!.url, "GET", path(), { "x-api-key": keys.onlyB })).status).toBe(403);
    expect(seen.length).toBe(before);
    expect((await call(nginx!.url, "GET", path(), bearer(keys.both))).status).toBe(200);
    expect((await call(nginx!.url, "GET", path(), { "x-api-key": keys.apiKey })).status).toBe(200);
    expect(seen.length).toBe(before + 2);
  });
});

test("usage names every grant of the allowing set, so b is not over-privileged but the unused c is", async () => {
  await until("usage of both a and b to reach the dashboard", async () => {
    const g = await client.grant.findMany({ where: { id: { in: [grants["both:a"], grants["both:b"]] } }, select: { lastUsedAt: true } });
    return g.every((x) => x.lastUsedAt !== null);
  });
  expect((await client.grant.findUniqueOrThrow({ where: { id: grants["both:c"] } })).lastUsedAt).toBeNull();
  await runAnalysis(actor, { rules: ["over_privileged"] }, client);
  const flagged = await client.finding.findMany({ where: { rule: "over_privileged", status: "open", grant: { principalId: bothId } }, select: { grantId: true, evidence: true } });
  expect(flagged.map((f) => f.grantId)).toEqual([grants["both:c"]]);
  expect((flagged[0].evidence as { usedScopes: string[] }).usedScopes).toEqual(["a", "b"]);
});

test("a re-import that adds d to the set reaches the proxy through the outbox: a AND b is no longer enough", async () => {
  const r = await applyImport(actor, { apiName: API, environment: "production", document: document(upstreamUrl, true) }, { client });
  const k = syntheticScopeName("apiKey", "GET");
  expect(r.diff.endpoints.changed.map((c) => c.changes.find((f) => f.field === "scopes"))).toEqual([{ field: "scopes", from: `a AND b, or ${k}`, to: `a AND b AND d, or ${k}` }]);
  const [row] = await client.outboxItem.findMany({ where: { proxy: { name: PROXY_NAME } } });
  // Deliver the row's body as the delivery worker does (POST /admin/v1/batch).
  const sent = await admin(proxy.adminUrl, "POST", "/admin/v1/batch", row.payload);
  expect(sent.status).toBe(200);
  expect((await call(proxy.dataUrl, "GET", path(), bearer(keys.both))).status).toBe(403);
  expect((await call(proxy.dataUrl, "GET", path(), bearer(keys.apiKey))).status).toBe(200);
});

test("extraction: one set per requirement object, schemes without scopes as their synthetic scope, canonical order", () => {
  const doc = {
    openapi: "3.1.0",
    info: { title: "x", version: "1" },
    security: [{ oauth: ["z"] }],
    paths: {
      "/a": { get: { security: [{ oauth: ["b", "a"] }, { apiKey: [], oauth: ["c"] }, { oauth: ["a", "b", "a"] }] } },
      "/b": { post: {} }, // the document's requirement
      "/c": { get: { security: [{ oauth: ["a"] }, {}] } }, // {} = public: no requirement kept
    },
  } as unknown as OpenApiDocument;
  const ops = Object.fromEntries(extractDescription(doc).operations.map((o) => [o.pathTemplate, o]));
  const k = syntheticScopeName("apiKey", "GET");
  expect(ops["/a"].requirements).toEqual([["a", "b"], [k, "c"].sort()]);
  expect(ops["/a"].scopes).toEqual(["a", "b", "c", k].sort());
  expect(ops["/b"].requirements).toEqual([["z"]]);
  expect(ops["/c"]).toMatchObject({ public: true, requirements: [] });
});
