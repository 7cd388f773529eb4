import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createDb, type PrismaClient } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { createTestDatabase, type TestDatabase } from "@/test/support/db";
import { daysAgo, makeApi, makeEnvironment, makeGrant, makePrincipal, makeReviewer } from "@/lib/analysis/fixtures";
import { getFindingDetail } from "./detail";
import { reduceGrant } from "./index";

// A reduce never splits a scope set the principal held whole (issue 17): on an
// API whose GET /reports requires read AND write, keeping read but dropping
// write leaves read opening nothing, and is refused with what is missing.

let tdb: TestDatabase;
let client: PrismaClient;
let reviewer: Awaited<ReturnType<typeof makeReviewer>>;
let envId: string;
let api: Awaited<ReturnType<typeof makeApi>>;

async function endpoint(method: string, pathTemplate: string, sets: string[][]) {
  const e = await client.endpoint.create({ data: { apiId: api.api.id, method, pathTemplate } });
  for (const set of sets) {
    const requirementId = randomUUID();
    await client.endpointScope.createMany({ data: set.map((scopeId) => ({ endpointId: e.id, requirementId, scopeId })) });
  }
}

/** A principal holding read, write and admin, with an open finding on the admin grant. */
async function holder() {
  const p = await makePrincipal(client);
  const grant = (l: "read" | "write" | "admin") => makeGrant(client, { principalId: p.id, scopeId: api.scopes[l].id, environmentId: envId, lastUsedAt: daysAgo(1) });
  const g = { read: await grant("read"), write: await grant("write"), admin: await grant("admin") };
  const finding = await client.finding.create({ data: { grantId: g.admin.id, rule: "over_privileged", severity: "medium", riskScore: 50, evidence: {}, suggestion: "Reduce" } });
  return { finding, grants: g };
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = createDb(tdb.url, 4);
  // Staging: the two-person rule (production admin scopes) would hold the reduce as a proposal.
  envId = (await makeEnvironment(client, "staging")).id;
  api = await makeApi(client, envId);
  await endpoint("GET", "/reports", [[api.scopes.read.id, api.scopes.write.id]]);
  await endpoint("DELETE", "/reports/{id}", [[api.scopes.admin.id]]);
  reviewer = await makeReviewer(client);
});

afterAll(async () => {
  await client?.$disconnect();
  await tdb?.drop();
});

test("keeping read without write is refused, naming the endpoint and the missing scope; nothing changes", async () => {
  const { finding, grants } = await holder();
  const e = await reduceGrant(reviewer.actor, { findingId: finding.id, keepScopeIds: [api.scopes.read.id] }, client).then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe("bad_request");
  expect((e as AppError).field).toBe("keepScopeIds");
  expect((e as AppError).message).toContain(`keeping ${api.scopes.read.name} without ${api.scopes.write.name}`);
  expect((e as AppError).message).toContain("GET /reports requires");
  expect(await client.grant.count({ where: { id: { in: Object.values(grants).map((g) => g.id) }, status: "active" } })).toBe(3);
  expect(await client.finding.findUniqueOrThrow({ where: { id: finding.id } })).toMatchObject({ status: "open" });
});

test("keeping the whole set is a reduce like any other", async () => {
  const { finding, grants } = await holder();
  const r = await reduceGrant(reviewer.actor, { findingId: finding.id, keepScopeIds: [api.scopes.read.id, api.scopes.write.id] }, client);
  expect(r.kind).toBe("reduce");
  expect((await client.grant.findUniqueOrThrow({ where: { id: grants.admin.id } })).status).toBe("revoked");
});

test("a scope that is also enough on its own somewhere may be kept alone", async () => {
  await endpoint("GET", "/reports/summary", [[api.scopes.read.id]]);
  const { finding, grants } = await holder();
  await reduceGrant(reviewer.actor, { findingId: finding.id, keepScopeIds: [api.scopes.read.id] }, client);
  expect((await client.grant.findUniqueOrThrow({ where: { id: grants.write.id } })).status).toBe("revoked");
  expect((await client.grant.findUniqueOrThrow({ where: { id: grants.read.id } })).status).toBe("active");
});

test("the finding detail says which scopes are required together, before the reviewer picks", async () => {
  const { finding } = await holder();
  const d = await getFindingDetail(reviewer.actor, finding.id, client);
  const by = Object.fromEntries(d.scopesOnApi.map((x) => [x.name, x.requiredWith]));
  expect(by).toEqual({ [api.scopes.read.name]: [api.scopes.write.name], [api.scopes.write.name]: [api.scopes.read.name], [api.scopes.admin.name]: [] });
});
