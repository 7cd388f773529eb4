import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "@/lib/auth/actor";
import { authenticateServiceToken, createServiceToken } from "@/lib/auth/service-tokens";
import { systemActor } from "@/lib/auth/actor";
import { accessWorld, until, type AccessWorld } from "@/lib/access/test-world";
import { apiPrefix } from "@/lib/enforcement/snapshot";
import { call } from "@/proxy/test-support";
import { runOperation } from "./http";
import { OPERATIONS } from "./operations";

// What the inventory API changes reaches the REAL proxy (a child process) through the
// outbox and the delivery worker: a grant given, then revoked; a key issued, then
// revoked; an endpoint added, then deleted. Real Postgres, no mocks.
let w: AccessWorld;
let robot: Actor;

beforeAll(async () => {
  w = await accessWorld();
  const { token } = await createServiceToken(systemActor("test"), { name: "provisioning", scopes: ["inventory:read", "inventory:write"] }, w.client);
  robot = await authenticateServiceToken(`Bearer ${token}`, w.client);
}, 180_000);
afterAll(async () => {
  await w?.close();
});

/** One operation as the route would run it for this token, against the world's database. */
async function api(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown) {
  const [, resource, id] = path.split("/");
  const op = OPERATIONS.find((o) => o.method === method && o.path === (id ? `/${resource}/{id}` : `/${resource}`))!;
  const req = new Request(`http://localhost/api/v1${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const res = await runOperation(op, robot, req, id, w.client);
  return { status: res.status, body: await res.json() };
}

const change = (id: string) => w.client.accessChange.findUniqueOrThrow({ where: { id } });

describe("inventory API writes reach the proxy", () => {
  it("a grant given through the API opens access; revoking it through the API closes it at the proxy", { timeout: 180_000 }, async () => {
    const key = await api("POST", "/credentials", { principalId: w.sa.id });
    expect(key.status).toBe(201);
    // The key alone holds no scope on the API: refused.
    await until("key known, no grant", () => w.get(key.body.key), (s) => s === 403);
    const grant = await api("POST", "/grants", { principalId: w.sa.id, scopeId: w.scopes.read.id });
    expect(grant.status).toBe(201);
    await until("granted at the proxy", () => w.get(key.body.key), (s) => s === 200);
    await until("grant change applied", () => change(grant.body.changeId), (c) => c.enforcement === "applied");

    const revoked = await api("DELETE", `/grants/${grant.body.data.id}`);
    expect(revoked.body.data.status).toBe("revoked");
    await until("revoked at the proxy", () => w.get(key.body.key), (s) => s === 403);
    const c = await until("revocation applied", () => change(revoked.body.changeId), (c) => c.enforcement === "applied");
    expect(c.kind).toBe("revoke_grant");
    const rows = await w.client.outboxItem.findMany({ where: { accessChangeId: c.id } });
    expect(rows.map((r) => r.status)).toEqual(["applied"]);

    // Given again, then the key revoked through the API: 401 at the proxy.
    await api("POST", "/grants", { principalId: w.sa.id, scopeId: w.scopes.read.id });
    await until("granted again", () => w.get(key.body.key), (s) => s === 200);
    const gone = await api("DELETE", `/credentials/${key.body.data.id}`);
    expect(gone.body.data.status).toBe("revoked");
    await until("key refused", () => w.get(key.body.key), (s) => s === 401);
  });

  it("an endpoint added through the API is enforced by the proxy; deleted, the proxy no longer routes it", { timeout: 180_000 }, async () => {
    const key = await api("POST", "/credentials", { principalId: w.sa.id });
    const path = `${apiPrefix(w.api.name)}/invoices/7`;
    const get = () => call(w.proxy.dataUrl, "GET", path, { authorization: `Bearer ${key.body.key}` }).then((r) => r.status);
    await until("key delivered", () => w.get(key.body.key), (s) => s === 200);
    expect(await get()).toBe(404); // not a route yet
    const e = await api("POST", "/endpoints", { apiId: w.api.id, method: "GET", pathTemplate: "/invoices/{id}", requirements: [[w.scopes.admin.id]] });
    expect(e.status).toBe(201);
    // The robot's service account holds orders read (granted above), not admin: the new route refuses it.
    await until("route known, scope missing", get, (s) => s === 403);
    const relaxed = await api("PATCH", `/endpoints/${e.body.data.id}`, { requirements: [[w.scopes.read.id]] });
    expect(relaxed.body.data.requirements).toEqual([[w.scopes.read.id]]);
    await until("route accepts read", get, (s) => s === 200);
    await api("DELETE", `/endpoints/${e.body.data.id}`);
    await until("route gone", get, (s) => s === 404);
  });
});
