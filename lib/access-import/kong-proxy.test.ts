import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import { systemActor } from "@/lib/auth/actor";
import { createDb, type PrismaClient } from "@/lib/db";
import { buildProxySnapshot } from "@/lib/enforcement/snapshot";
import { createTestDatabase, freePort, type TestDatabase } from "@/test/support/db";
import { admin, spawnProxy, type ProxyProcess } from "@/proxy/test-support";
import { applyAccessImport } from "./index";

// THE acceptance test of the Kong import: a file written from Kong's docs is
// imported, the environment's snapshot goes to the real proxy, and real
// requests carry each imported key the way Kong clients send it (apikey
// header, apikey query parameter). Every (key, route) pair must be allowed or
// refused exactly as Kong's key-auth + acl handlers decide
// (kong/plugins/key-auth/handler.lua, kong/plugins/acl/handler.lua).

const FILE = path.resolve("test/fixtures/kong/acceptance.yml");
const KEYS = { alice: "alice-secret-key-1", bob: "bob-secret-key-1", carol: "carol-secret-key-1", dave: "dave-secret-from-env", invalid: "not-a-kong-key" } as const;
type Who = keyof typeof KEYS | "none";

let tdb: TestDatabase;
let client: PrismaClient;
let proxy: ProxyProcess;
let upstream: http.Server;
let upstreamUrl: string;
const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ path: req.url, headers: req.headers }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  await client.environment.create({ data: { name: "production", tier: "production" } });
  const result = await applyAccessImport(
    systemActor("test"),
    { format: "kong", environment: "production", file: readFileSync(FILE), filename: "acceptance.yml", vars: { UPSTREAM_URL: upstreamUrl, DECK_DAVE_KEY: KEYS.dave } },
    { client },
  );
  expect(result.applied).toBe(true);

  proxy = await spawnProxy({ PROXY_ENVIRONMENT: "production" }, { data: await freePort(), admin: await freePort() });
  const snapshot = await buildProxySnapshot(systemActor("test"), { environment: "production" }, client);
  expect(snapshot.skipped).toEqual([]);
  const put = await admin(proxy.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "kong-acceptance", ...snapshot });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await new Promise((r) => upstream?.close(r));
  await client?.$disconnect();
  await tdb?.drop();
});

type Expect = "allow" | 401 | 403 | 404;
interface Row {
  method: string;
  path: string;
  /** What Kong answers per caller (statuses where Tollgate answers the same). */
  expect: Record<Who, Expect>;
  /** The path the upstream must receive when allowed (query without the key). */
  upstreamPath?: string;
  /** The route has no key-auth: Kong forwards the request as sent (apikey included). */
  noKeyAuth?: true;
  note?: string;
}

// Kong's answers, derived from the handlers: no key or an unknown key -> 401
// (key-auth); a consumer outside an allow list, or inside a deny list -> 403
// (acl); a consumer with no groups fails an allow list and passes a deny list.
const TABLE: Row[] = [
  { method: "GET", path: "/orders/42", upstreamPath: "/orders-svc/42", expect: { alice: "allow", bob: "allow", carol: 403, dave: 403, invalid: 401, none: 401 } },
  { method: "POST", path: "/orders", upstreamPath: "/orders-svc", expect: { alice: "allow", bob: "allow", carol: 403, dave: 403, invalid: 401, none: 401 } },
  { method: "GET", path: "/admin/users", upstreamPath: "/admin/users", expect: { alice: 403, bob: 403, carol: 403, dave: "allow", invalid: 401, none: 401 } },
  { method: "GET", path: "/catalog/items", upstreamPath: "/catalog-svc/items", expect: { alice: "allow", bob: 403, carol: "allow", dave: "allow", invalid: 401, none: 401 } },
  { method: "GET", path: "/catalog", upstreamPath: "/catalog-svc", expect: { alice: "allow", bob: 403, carol: "allow", dave: "allow", invalid: 401, none: 401 } },
  // request-termination runs after key-auth and acl (priority 2 < 950 < 1250):
  // Kong answers 401 without a valid key, 403 to a denied consumer, 410 to the rest.
  { method: "GET", path: "/catalog/legacy/v1", expect: { alice: 403, bob: 403, carol: 403, dave: 403, invalid: 401, none: 401 }, note: "Kong: 410 for alice/carol/dave" },
  // catalog-read only matches GET: Kong answers 404 (no route) before any plugin runs.
  { method: "POST", path: "/catalog/items", expect: { alice: 404, bob: 404, carol: 404, dave: 404, invalid: 401, none: 401 }, note: "Kong: 404 for every caller" },
  { method: "GET", path: "/status/health", upstreamPath: "/status-svc/health", noKeyAuth: true, expect: { alice: "allow", bob: "allow", carol: "allow", dave: "allow", invalid: "allow", none: "allow" } },
  { method: "GET", path: "/reports/q1", upstreamPath: "/reports-svc/q1", expect: { alice: "allow", bob: "allow", carol: "allow", dave: "allow", invalid: 401, none: 401 } },
  // A path under no route: Kong answers 404. Outside every imported API Tollgate's proxy
  // reads keys the default way (Authorization: Bearer / X-API-Key), so an apikey is no key there: 401. Denied either way.
  { method: "GET", path: "/unknown", expect: { alice: 401, bob: 401, carol: 401, dave: 401, invalid: 401, none: 401 }, note: "Kong: 404 for every caller" },
];

const WHO: Who[] = ["alice", "bob", "carol", "dave", "invalid", "none"];
const cases = TABLE.flatMap((row) =>
  WHO.flatMap((who) => (["header", "query"] as const).filter((how) => who !== "none" || how === "header").map((how) => ({ row, who, how }))),
);

async function send(method: string, p: string, who: Who, how: "header" | "query" | "x-admin-key") {
  const headers: Record<string, string> = {};
  let target = p;
  if (who !== "none") {
    if (how === "header") headers.apikey = KEYS[who];
    else if (how === "x-admin-key") headers["x-admin-key"] = KEYS[who];
    else target = `${p}?apikey=${encodeURIComponent(KEYS[who])}&page=2`;
  }
  const before = seen.length;
  const res = await request(proxy.dataUrl + target, { method: method as never, headers });
  const body = await res.body.text();
  return { status: res.statusCode, body, upstream: seen.length > before ? seen[seen.length - 1] : null };
}

describe("Kong import: every imported key through the real proxy, as Kong decides", () => {
  it.each(cases)("$row.method $row.path as $who ($how)", async ({ row, who, how }) => {
    const want = row.expect[who];
    const got = await send(row.method, row.path, who, how);
    if (want === "allow") {
      expect(got.status, got.body).toBe(200);
      const query = how === "query" && who !== "none" ? (row.noKeyAuth ? `?apikey=${encodeURIComponent(KEYS[who])}&page=2` : "?page=2") : "";
      expect(got.upstream?.url).toBe(row.upstreamPath! + query);
      if (!row.noKeyAuth) {
        // The key is stripped from what is forwarded, header and query alike.
        expect(got.upstream?.headers.apikey).toBeUndefined();
        expect(got.upstream?.url).not.toContain("apikey");
      }
    } else {
      expect(got.status, got.body).toBe(want);
      expect(got.upstream).toBeNull();
    }
  });

  it("reads every key name of the admin service, in header and query (key_names: apikey, x-admin-key)", async () => {
    expect((await send("GET", "/admin/users", "dave", "x-admin-key")).status).toBe(200);
    const q = await request(`${proxy.dataUrl}/admin/users?x-admin-key=${KEYS.dave}`);
    expect(q.statusCode).toBe(200);
    expect(JSON.parse(await q.body.text()).path).toBe("/admin/users");
    expect((await send("GET", "/admin/users", "alice", "x-admin-key")).status).toBe(403);
    // Kong reads key-auth keys from its own names only: a Bearer token is no key here.
    const bearer = await request(`${proxy.dataUrl}/admin/users`, { headers: { authorization: `Bearer ${KEYS.dave}` } });
    expect(bearer.statusCode).toBe(401);
    await bearer.body.dump();
  });

  it("refuses a key sent twice and an empty key, as key-auth does (401)", async () => {
    const twice = await request(`${proxy.dataUrl}/orders/1?apikey=${KEYS.alice}&apikey=${KEYS.alice}`);
    expect(twice.statusCode).toBe(401);
    await twice.body.dump();
    const empty = await request(`${proxy.dataUrl}/orders/1?apikey=`);
    expect(empty.statusCode).toBe(401);
    await empty.body.dump();
    // The header is looked at before the query: an empty header is the (empty) key.
    const emptyHeader = await request(`${proxy.dataUrl}/orders/1?apikey=${KEYS.alice}`, { headers: { apikey: "" } });
    expect(emptyHeader.statusCode).toBe(401);
    await emptyHeader.body.dump();
  });
});
