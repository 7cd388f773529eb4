import { randomUUID } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Client } from "undici";
import { freePort } from "@/test/support/db";
import { startUpstream, type Upstream } from "@/test/support/upstream";
import { admin, FUZZ_SEGMENTS, prng, sha, spawnProxy } from "@/proxy/test-support";
import { nginxPlaneMissing, spawnNginxPlane } from "@/proxy-nginx/test-support";
import { ALL_CASES, conformanceWorld, RAW_CASES, type Case, type RawCase, type Who } from "./cases";

// One table (cases.ts), two data planes, both real processes in front of a real
// upstream: the Node proxy (proxy/main.ts) and nginx with the Lua module
// (proxy-nginx/). Every case must give the table's answer on both, so a case
// that passes on one plane and fails on the other fails the build.

const missing = nginxPlaneMissing();
if (missing) console.warn(`[conformance] nginx data plane skipped: ${missing}`);

interface Plane {
  dataUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}

const PLANES: { name: string; skip: boolean; start: (ports: { data: number; admin: number }) => Promise<Plane> }[] = [
  {
    name: "node proxy",
    skip: false,
    start: async (ports) => {
      const p = await spawnProxy({ PROXY_ACCESS_LOG: "false" }, ports);
      return { dataUrl: p.dataUrl, adminUrl: p.adminUrl, stop: async () => void (await p.stop("SIGKILL")) };
    },
  },
  { name: "nginx + lua (2 workers)", skip: missing !== null, start: (ports) => spawnNginxPlane({}, ports, 2) },
];

/** The fuzz targets of proxy/fuzz.test.ts's segments, the same every run (seeded). */
function fuzzTargets(n: number): { target: string; who: "alice" | "carol" | null }[] {
  const rand = prng(2121);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const out: { target: string; who: "alice" | "carol" | null }[] = [];
  for (let i = 0; i < n; i++) {
    let target = pick(["/orders", "/orders/orders", "/orders/files", "/orders/reports", ""]);
    const k = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < k; j++) target += (rand() < 0.1 ? "//" : "/") + pick(FUZZ_SEGMENTS);
    out.push({ target, who: pick(["alice", "carol", null]) });
  }
  return out;
}
const FUZZ = fuzzTargets(300);
/** Status (and forwarded path) of each fuzz target, per plane: compared at the end. */
const fuzzResults = new Map<string, string[]>();

/** Bytes written to a fresh connection as they are; the whole answer, once the plane closes it (or after 5 s). */
function exchange(url: string, bytes: Buffer): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port), u.hostname);
    let got = "";
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("error", () => undefined);
    s.on("close", () => resolve(got));
    s.write(bytes);
    setTimeout(() => s.destroy(), 5_000).unref();
  });
}

/** One request over a raw socket, the target's bytes exactly as given; answers "<status> <upstream path>". */
async function rawExchange(url: string, method: string, target: string, headers: string): Promise<string> {
  const got = await exchange(url, Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers}\r\n`, "utf8"));
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? "closed";
  const path = status === "200" ? (/"path":("(?:[^"\\]|\\.)*")/.exec(got)?.[1] ?? "") : "";
  return `${status} ${path}`.trim();
}

/** A RawCase sent byte for byte; its final status (after any 100 Continue) and what the upstream received. */
async function rawCase(url: string, c: RawCase, keys: Record<string, string>): Promise<{ status: string; headerNames: string[] | null }> {
  const fill = (l: string) => l.replace("{alice}", keys.alice).replace("{carol}", keys.carol);
  const lines = [fill(c.requestLine), ...(c.hostLines ?? ["Host: 127.0.0.1"]), "Connection: close", ...c.head.map(fill)];
  const got = await exchange(url, Buffer.from(`${lines.join("\r\n")}\r\n\r\n${c.body ?? ""}`, "latin1"));
  const final = got.replace(/^HTTP\/1\.[01] 100 [^\r]*\r\n\r\n/, "");
  const names = /"headerNames":(\[[^\]]*\])/.exec(final)?.[1];
  return { status: /^HTTP\/1\.[01] (\d{3})/.exec(final)?.[1] ?? "closed", headerNames: names ? (JSON.parse(names) as string[]) : null };
}

interface Answer {
  status: number;
  principalHeader: string | null;
  upstream: { method: string; path: string; principal: string | null; sawApiKey: boolean } | null;
}

async function send(client: Client, c: Pick<Case, "method" | "target" | "who" | "via" | "headers">, keys: Record<string, string>): Promise<Answer> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  let target = c.target;
  if (c.who) {
    const key = c.who === "unknown" ? "tg_live_nobody_" + randomUUID() : keys[c.who];
    if (c.via === "x-api-key") headers["x-api-key"] = key;
    else if (c.via === "apikey-header") headers.apikey = key;
    else if (c.via === "apikey-query") target += `${target.includes("?") ? "&" : "?"}apikey=${encodeURIComponent(key)}`;
    else headers.authorization = `Bearer ${key}`;
  }
  const res = await client.request({ path: target, method: c.method, headers, body: c.method === "POST" ? "" : undefined });
  const text = await res.body.text();
  let upstream: Answer["upstream"] = null;
  if (res.statusCode === 200 && text) {
    const b = JSON.parse(text) as { method: string; path: string; principal: string | null; sawApiKey: boolean };
    upstream = { method: b.method, path: b.path, principal: b.principal, sawApiKey: b.sawApiKey };
  }
  return { status: res.statusCode, principalHeader: (res.headers["x-tollgate-principal"] as string | undefined) ?? null, upstream };
}

describe.each(PLANES)("data plane conformance: $name", ({ name, skip, start }) => {
  let upstream: Upstream;
  let plane: Plane;
  let client: Client;
  let fixture: ReturnType<typeof conformanceWorld>;
  const principalOf = (who: Who) => (who === null ? null : (fixture.ids as Record<string, string>)[who]);

  beforeAll(async () => {
    if (skip) return;
    upstream = await startUpstream();
    fixture = conformanceWorld(upstream.url);
    plane = await start({ data: await freePort(), admin: await freePort() });
    client = new Client(plane.dataUrl, { pipelining: 1 });
  });
  afterAll(async () => {
    await client?.close();
    await plane?.stop();
    await upstream?.close();
  });

  test.skipIf(skip)("fails closed (503) until a complete state is loaded, then serves it", async () => {
    const before = upstream.requests;
    expect((await send(client, { method: "GET", target: "/orders/orders", who: null }, fixture.keys)).status).toBe(503);
    expect((await send(client, { method: "GET", target: "/orders/health", who: null }, fixture.keys)).status).toBe(503);
    expect((await admin(plane.adminUrl, "GET", "/admin/v1/ready")).status).toBe(503);
    // Forward-auth answers 403 (a gateway turns anything else into a 500 or passes it through).
    expect((await send(client, { method: "GET", target: "/_tollgate/auth", who: "alice", headers: { "x-forwarded-method": "GET", "x-forwarded-uri": "/orders/health" } }, fixture.keys)).status).toBe(403);
    // A malformed snapshot is refused (400 naming the field) and leaves it not ready.
    const bad = await admin(plane.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "bad", ...fixture.snapshot, credentials: [{ ...fixture.snapshot.credentials[0], hash: "nothex" }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("credentials.0.hash");
    expect((await send(client, { method: "GET", target: "/orders/health", who: null }, fixture.keys)).status).toBe(503);
    expect(upstream.requests).toBe(before);
    const ok = await admin(plane.adminUrl, "PUT", "/admin/v1/snapshot", { idempotencyKey: "world", ...fixture.snapshot });
    expect(ok.status).toBe(200);
    expect((await admin(plane.adminUrl, "GET", "/admin/v1/ready")).status).toBe(200);
    expect((await send(client, { method: "GET", target: "/orders/health", who: null }, fixture.keys)).status).toBe(200);
  });

  test.skipIf(skip).each(ALL_CASES)("$name", async (c) => {
    const before = upstream.requests;
    const got = await send(client, c, fixture.keys);
    expect(got.status, `${c.method} ${c.target}`).toBe(c.status);
    if (c.status !== 200) expect(upstream.requests, "a refused request never reaches the upstream").toBe(before);
    if (c.principalHeader !== undefined) expect(got.principalHeader).toBe(principalOf(c.principalHeader));
    if (c.upstream) {
      expect(got.upstream).toEqual({ method: c.upstream.method, path: c.upstream.path, principal: principalOf(c.upstream.principal), sawApiKey: c.upstream.sawApiKey ?? false });
    }
  });

  test.skipIf(skip).each(RAW_CASES)("raw: $name", async (c) => {
    const before = upstream.requests;
    const got = await rawCase(plane.dataUrl, c, fixture.keys);
    expect(got.status, c.requestLine).toBe(String(c.status));
    if (c.status !== 200) expect(upstream.requests, "a refused request never reaches the upstream").toBe(before);
    if (c.notForwarded && !c.requestLine.includes("/_tollgate/auth")) {
      expect(got.headerNames, "the upstream's answer").not.toBeNull();
      for (const n of c.notForwarded) expect(got.headerNames, n).not.toContain(n);
    }
  });

  test.skipIf(skip)("expiry is checked per request, with no state change", async () => {
    const frank = randomUUID();
    const key = "tg_live_frank_" + randomUUID();
    const soon = new Date(Date.now() + 1_500).toISOString();
    const r = await admin(plane.adminUrl, "POST", "/admin/v1/batch", {
      idempotencyKey: "frank",
      ops: [
        { op: "upsert", kind: "credential", value: { id: randomUUID(), principalId: frank, hash: sha(key), expiresAt: null } },
        { op: "upsert", kind: "grant", value: { id: randomUUID(), principalId: frank, scopeId: fixture.ids.readScope, expiresAt: soon } },
      ],
    });
    expect(r.status).toBe(200);
    const keys = { ...fixture.keys, alice: key };
    expect((await send(client, { method: "GET", target: "/orders/orders", who: "alice" }, keys)).status).toBe(200);
    await new Promise((res) => setTimeout(res, Date.parse(soon) - Date.now() + 50));
    expect((await send(client, { method: "GET", target: "/orders/orders", who: "alice" }, keys)).status).toBe(403);
    // Carol's credential has not expired; her read grant still works.
    expect((await send(client, { method: "GET", target: "/orders/orders", who: "carol" }, fixture.keys)).status).toBe(200);
  });

  test.skipIf(skip)("an acknowledged revoke is denied on the next request; malformed admin input changes nothing", async () => {
    const carolRead = fixture.snapshot.grants.find((g) => g.principalId === fixture.ids.carol)!;
    expect((await send(client, { method: "GET", target: "/orders/orders/9", who: "carol" }, fixture.keys)).status).toBe(200);
    for (const body of ["{", JSON.stringify({ ops: [] }), JSON.stringify({ idempotencyKey: "x", ops: [{ op: "delete", kind: "grant", id: "not-a-uuid" }] })]) {
      expect((await admin(plane.adminUrl, "POST", "/admin/v1/batch", body)).status).toBe(400);
    }
    expect((await admin(plane.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: "r", ops: [{ op: "delete", kind: "grant", id: carolRead.id }] }, "wrong-token")).status).toBe(401);
    expect((await send(client, { method: "GET", target: "/orders/orders/9", who: "carol" }, fixture.keys)).status).toBe(200);
    const r = await admin(plane.adminUrl, "DELETE", `/admin/v1/grants/${carolRead.id}`, { idempotencyKey: "revoke-carol" });
    expect(r.status).toBe(200);
    expect((await send(client, { method: "GET", target: "/orders/orders/9", who: "carol" }, fixture.keys)).status).toBe(403);
    // The same key again: not applied twice, same revision; a different body under it is a conflict.
    const again = await admin(plane.adminUrl, "DELETE", `/admin/v1/grants/${carolRead.id}`, { idempotencyKey: "revoke-carol" });
    expect(again.body).toEqual({ revision: r.body.revision, applied: false });
    expect((await admin(plane.adminUrl, "POST", "/admin/v1/batch", { idempotencyKey: "revoke-carol", ops: [{ op: "delete", kind: "grant", id: randomUUID() }] })).status).toBe(409);
    const state = await admin(plane.adminUrl, "GET", "/admin/v1/state");
    expect(state.body).toMatchObject({ revision: r.body.revision, ready: true });
  });

  test.skipIf(skip)("fuzz targets: never a 5xx, a refused one never reaches the upstream (recorded for the comparison below)", async () => {
    const results: string[] = [];
    for (const { target, who } of FUZZ) {
      const before = upstream.requests;
      const auth = who ? `Authorization: Bearer ${fixture.keys[who]}\r\n` : "";
      const r = await rawExchange(plane.dataUrl, "GET", target, auth);
      expect(r, target).not.toMatch(/^5/);
      if (!r.startsWith("200")) expect(upstream.requests, target).toBe(before);
      results.push(r);
    }
    fuzzResults.set(name, results);
  });
});

describe.skipIf(missing !== null)("data plane conformance: both planes", () => {
  test("every fuzz target gets the same answer (status and forwarded path) from both planes", () => {
    const [a, b] = PLANES.map((p) => fuzzResults.get(p.name));
    expect(a?.length).toBe(FUZZ.length);
    // The targets exercise forwarding and every refusal, not one answer 300 times.
    const kinds = new Set(a!.map((r) => r.slice(0, 3)));
    for (const status of ["200", "400", "401", "403", "404"]) expect(kinds, `some fuzz target gets ${status}`).toContain(status);
    const differing = FUZZ.map((f, i) => ({ target: f.target.slice(0, 200), who: f.who, node: a![i], nginx: b![i] })).filter((d) => d.node !== d.nginx);
    expect(differing).toEqual([]);
  });
});
