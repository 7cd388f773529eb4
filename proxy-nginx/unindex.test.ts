import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Agent, request } from "undici";
import { freePort } from "@/test/support/db";
import { startUpstream, type Upstream } from "@/test/support/upstream";
import { admin, call, sha } from "@/proxy/test-support";
import { controlSocket } from "./generate";
import { nginxPlaneMissing, spawnNginxPlane, type NginxPlane } from "./test-support";

// Updates and deletes of grants and credentials find what they must remove in
// nginx's dicts, whatever form their reverse index entry took
// (lua/tollgate/control.lua: 16 raw bytes for lower-case uuids, the id's text
// otherwise). A missed unindex would leave the old key or the old
// (principal, scope) pair allowed: every check below is a request through the
// real nginx after the change was acknowledged.

const missing = nginxPlaneMissing();
if (missing) console.warn(`[nginx plane] unindex test skipped: ${missing}`);

const upper = () => randomUUID().toUpperCase();

describe.skipIf(missing !== null)("nginx data plane: updates and deletes unindex every id form", () => {
  let upstream: Upstream;
  let plane: NginxPlane;
  const api = randomUUID();
  const read = randomUUID();
  const write = randomUUID();
  const UP = upper(); // a scope id in upper case (the admin API accepts any GUID)
  const routes = [
    { id: randomUUID(), apiId: api, method: "GET", pathTemplate: "/read", requirements: [[read]], public: false },
    { id: randomUUID(), apiId: api, method: "GET", pathTemplate: "/write", requirements: [[write]], public: false },
    { id: randomUUID(), apiId: api, method: "GET", pathTemplate: "/upper", requirements: [[UP]], public: false },
  ];

  beforeAll(async () => {
    upstream = await startUpstream();
    plane = await spawnNginxPlane({ PROXY_SYNC_INTERVAL_MS: "600000" }, { data: await freePort(), admin: await freePort() }, 2);
  });
  afterAll(async () => {
    await plane?.stop();
    await upstream?.close();
  });

  // One principal with one credential and one grant per case; ids in the forms each reverse entry can take.
  const cases = [
    { name: "all lower-case uuids (packed entries)", principal: randomUUID(), cred: randomUUID(), grant: randomUUID(), scope: read, path: "/read" },
    { name: "upper-case grant and credential ids", principal: randomUUID(), cred: upper(), grant: upper(), scope: read, path: "/read" },
    { name: "upper-case principal (grant indexed by text, credential packed)", principal: upper(), cred: randomUUID(), grant: randomUUID(), scope: read, path: "/read" },
    { name: "upper-case scope", principal: randomUUID(), cred: randomUUID(), grant: randomUUID(), scope: UP, path: "/upper" },
    { name: "mixed-case ids", principal: randomUUID(), cred: "A" + randomUUID().slice(1), grant: randomUUID().slice(0, -1) + "F", scope: read, path: "/read" },
  ];

  const get = async (path: string, key: string) => (await call(plane.dataUrl, "GET", `/svc${path}`, { authorization: `Bearer ${key}` })).status;

  async function batch(key: string, ops: unknown[]) {
    const r = await admin(plane.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: key, ops });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }

  /** Updates (same ids, new pair / new key) and deletes of each case, checked through nginx. */
  async function checkChangesOf(tag: string, keys: Map<string, string>) {
    for (const c of cases) {
      const key = keys.get(c.name)!;
      expect(await get(c.path, key), c.name).toBe(200);
      // The grant moves to another scope: its old pair must go (found through the reverse entry).
      await batch(`${tag}-move-${c.grant}`, [{ op: "upsert", kind: "grant", value: { id: c.grant, principalId: c.principal, scopeId: write, expiresAt: null } }]);
      expect(await get(c.path, key), `${c.name}: old pair after the update`).toBe(403);
      expect(await get("/write", key), `${c.name}: new pair`).toBe(200);
      // The credential gets a new key: the old hash must go.
      const next = `tg_next_${randomUUID()}`;
      await batch(`${tag}-rekey-${c.cred}`, [{ op: "upsert", kind: "credential", value: { id: c.cred, principalId: c.principal, hash: sha(next), expiresAt: null } }]);
      expect(await get("/write", key), `${c.name}: old key after the update`).toBe(401);
      expect(await get("/write", next), `${c.name}: new key`).toBe(200);
      // Delete both: the pair, then the key.
      await batch(`${tag}-del-grant-${c.grant}`, [{ op: "delete", kind: "grant", id: c.grant }]);
      expect(await get("/write", next), `${c.name}: after the grant's delete`).toBe(403);
      await batch(`${tag}-del-cred-${c.cred}`, [{ op: "delete", kind: "credential", id: c.cred }]);
      expect(await get("/write", next), `${c.name}: after the credential's delete`).toBe(401);
    }
  }

  const records = (keys: Map<string, string>) => ({
    credentials: cases.map((c) => ({ id: c.cred, principalId: c.principal, hash: sha(keys.get(c.name)!), expiresAt: null })),
    grants: cases.map((c) => ({ id: c.grant, principalId: c.principal, scopeId: c.scope, expiresAt: null })),
  });
  const newKeys = () => new Map(cases.map((c) => [c.name, `tg_${randomUUID()}`]));

  test("entries written by a full load (a new generation)", async () => {
    const keys = newKeys();
    const r = await admin(plane.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "full", apis: [{ id: api, name: "svc", prefix: "/svc", upstream: upstream.url }], routes, ...records(keys) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await checkChangesOf("full", keys);
  });

  test("entries written by ops (batches on the served generation)", async () => {
    const keys = newKeys();
    const { credentials, grants } = records(keys);
    await batch("ops-add", [...credentials.map((value) => ({ op: "upsert", kind: "credential", value })), ...grants.map((value) => ({ op: "upsert", kind: "grant", value }))]);
    await checkChangesOf("ops", keys);
  });

  test("a delete by an id of another case removes nothing (as in the Node proxy's state)", async () => {
    const principal = randomUUID();
    const [cred, grant, key] = [randomUUID(), randomUUID(), `tg_${randomUUID()}`];
    await batch("case-add", [
      { op: "upsert", kind: "credential", value: { id: cred, principalId: principal, hash: sha(key), expiresAt: null } },
      { op: "upsert", kind: "grant", value: { id: grant, principalId: principal, scopeId: read, expiresAt: null } },
    ]);
    await batch("case-del", [
      { op: "delete", kind: "grant", id: grant.toUpperCase() },
      { op: "delete", kind: "credential", id: cred.toUpperCase() },
    ]);
    expect(await get("/read", key)).toBe(200);
    await batch("case-del-exact", [{ op: "delete", kind: "grant", id: grant }]);
    expect(await get("/read", key)).toBe(403);
  });
});

// The control socket itself with ids the admin API would refuse (the Lua side takes any string): the text
// form's namespace never meets the packed one, and an entry is removed only by the id that owns it.
describe.skipIf(missing !== null)("nginx control socket: reverse entries of any string id", () => {
  let upstream: Upstream;
  let plane: NginxPlane;
  let agent: Agent;
  let rev = 1;
  const api = randomUUID();
  const scope = randomUUID();

  const control = async (path: string, body: unknown) => {
    const r = await request(`http://control${path}`, { method: "POST", dispatcher: agent, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    const json = (await r.body.json()) as Record<string, unknown>;
    expect(r.statusCode, `${path}: ${JSON.stringify(json)}`).toBe(200);
    return json;
  };
  const ops = (list: unknown[]) => control(`/ops?from=${rev}&to=${++rev}`, { ops: list });
  const cred = (id: string, principalId: string, key: string) => ({ op: "upsert", kind: "credential", value: { id, principalId, hash: sha(key), expiresAt: null } });
  const grant = (id: string, principalId: string) => ({ op: "upsert", kind: "grant", value: { id, principalId, scopeId: scope, expiresAt: null } });
  const del = (kind: string, id: string) => ({ op: "delete", kind, id });
  const get = async (key: string) => (await call(plane.dataUrl, "GET", "/svc/x", { authorization: `Bearer ${key}` })).status;

  beforeAll(async () => {
    upstream = await startUpstream();
    plane = await spawnNginxPlane({}, { data: await freePort(), admin: await freePort() }, 1);
    await plane.stopController(); // this suite writes the dicts itself
    agent = new Agent({ connect: { socketPath: controlSocket(plane.dir) } });
    const topology = JSON.stringify({
      apis: [{ id: api, prefix: "/svc", scheme: "http", addr: "127.0.0.1", port: upstream.port, hostHeader: `127.0.0.1:${upstream.port}`, base: "", keyLocation: null }],
      routes: [{ id: randomUUID(), apiId: api, method: "GET", pathTemplate: "/x", requirements: [[scope]], public: false }],
    });
    const { generation } = await control("/load/begin", {});
    await control(`/load/chunk?generation=${generation}`, { credentials: [], grants: [] });
    await control(`/load/commit?generation=${generation}&revision=${rev}`, { topology });
  });
  afterAll(async () => {
    await agent?.close();
    await plane?.stop();
    await upstream?.close();
  });

  test("a text id that equals a uuid's 16 raw bytes is a different entry", async () => {
    // "41424344-4546-4748-494a-4b4c4d4e4f50" packs to "ABCDEFGHIJKLMNOP".
    const packed = "41424344-4546-4748-494a-4b4c4d4e4f50";
    const [p1, p2] = [randomUUID(), randomUUID()];
    await ops([cred("c-packed", p1, "k1"), grant(packed, p1), cred("c-text", p2, "k2"), grant("ABCDEFGHIJKLMNOP", p2)]);
    expect([await get("k1"), await get("k2")]).toEqual([200, 200]);
    await ops([del("grant", "ABCDEFGHIJKLMNOP")]);
    expect([await get("k1"), await get("k2")]).toEqual([200, 403]);
    await ops([grant("ABCDEFGHIJKLMNOP", p2), del("grant", packed)]);
    expect([await get("k1"), await get("k2")]).toEqual([403, 200]);
  });

  test("a delete removes a pair only when its own grant holds it (no suffix match)", async () => {
    const p = randomUUID();
    await ops([cred("c-suffix", p, "k3"), grant("1", p), grant("11", p)]); // "11" is the enforced grant of the pair
    expect(await get("k3")).toBe(200);
    await ops([del("grant", "1")]);
    expect(await get("k3")).toBe(200);
    await ops([del("grant", "11")]);
    expect(await get("k3")).toBe(403);
  });

  test("short, long and odd ids are indexed by their text and removed by it", async () => {
    const ids = ["g", "x".repeat(300), "grant with spaces", "ÄÖÜ-ß", randomUUID() + "0", randomUUID().replace(/-/g, "")];
    for (const [i, id] of ids.entries()) {
      const p = randomUUID();
      const [key, next] = [`odd-${i}`, `odd-next-${i}`];
      await ops([cred(id, p, key), grant(id, p)]);
      expect(await get(key), id).toBe(200);
      await ops([cred(id, p, next)]);
      expect([await get(key), await get(next)], id).toEqual([401, 200]);
      await ops([del("grant", id)]);
      expect(await get(next), id).toBe(403);
      await ops([grant(id, p), del("credential", id)]);
      expect(await get(next), id).toBe(401);
    }
  });

  test("a full load's retired generation is swept (in batches) after the switch, the new one kept whole", async () => {
    const status = async () => (await (await request("http://control/status", { dispatcher: agent })).body.json()) as { dict: { free: number }; generation: number; revision: number };
    const topology = JSON.stringify({
      apis: [{ id: api, prefix: "/svc", scheme: "http", addr: "127.0.0.1", port: upstream.port, hostHeader: `127.0.0.1:${upstream.port}`, base: "", keyLocation: null }],
      routes: [{ id: randomUUID(), apiId: api, method: "GET", pathTemplate: "/x", requirements: [[scope]], public: false }],
    });
    // 15,000 principals, each with a key and a grant: 60,000 entries per generation, many sweep batches.
    const people = Array.from({ length: 15_000 }, (_, i) => ({ principal: randomUUID(), cred: randomUUID(), grant: randomUUID(), key: `sweep-${i}-${randomUUID()}` }));
    const load = async () => {
      const { generation } = await control("/load/begin", {});
      for (let i = 0; i < people.length; i += 5_000) {
        const part = people.slice(i, i + 5_000);
        await control(`/load/chunk?generation=${generation}`, {
          credentials: part.map((p) => ({ id: p.cred, principalId: p.principal, hash: sha(p.key), expiresAt: null })),
          grants: part.map((p) => ({ id: p.grant, principalId: p.principal, scopeId: scope, expiresAt: null, enforced: true })),
        });
      }
      await control(`/load/commit?generation=${generation}&revision=${++rev}`, { topology });
      return generation as number;
    };
    const settled = async () => {
      let last = -1;
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const free = (await status()).dict.free;
        if (free === last) return free;
        last = free;
      }
      return last;
    };
    await load();
    const one = await settled();
    const second = await load();
    const after = await settled();
    expect((await status()).generation).toBe(second);
    expect(Math.abs(after - one), "the dict holds one generation again").toBeLessThan(256 * 1024);
    // Every key of the new generation still decides, and its grants still unindex.
    for (const p of [people[0], people[7_777], people[14_999]]) expect(await get(p.key)).toBe(200);
    await ops([del("grant", people[7_777].grant)]);
    expect(await get(people[7_777].key)).toBe(403);
  });

  test("a load that never committed is swept when the next one begins", async () => {
    const before = (await (await request("http://control/status", { dispatcher: agent })).body.json()) as { dict: { free: number }; loading: unknown; generation: number };
    expect(before.loading).toBeNull();
    const { generation } = await control("/load/begin", {});
    // A partial generation the size of many pages (so its pages show in free_space), then abandoned.
    const grants = Array.from({ length: 20_000 }, () => ({ id: randomUUID(), principalId: randomUUID(), scopeId: scope, expiresAt: null, enforced: true }));
    await control(`/load/chunk?generation=${generation}`, { credentials: [], grants });
    const partial = (await (await request("http://control/status", { dispatcher: agent })).body.json()) as { dict: { free: number }; loading: number };
    expect(partial.loading).toBe(generation);
    expect(before.dict.free - partial.dict.free).toBeGreaterThan(4 * 2 ** 20); // 20,000 x (256 + 128) bytes

    const next = await control("/load/begin", {});
    const after = (await (await request("http://control/status", { dispatcher: agent })).body.json()) as { dict: { free: number }; loading: number };
    expect(after.loading).toBe(next.generation);
    expect(before.dict.free - after.dict.free).toBeLessThan(64 * 1024); // back to what it was, give or take a page or two
    // The served generation is untouched.
    expect((await (await request("http://control/status", { dispatcher: agent })).body.json()) as { generation: number }).toMatchObject({ generation: before.generation });
  });
});
