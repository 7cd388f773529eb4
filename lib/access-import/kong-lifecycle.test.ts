import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { systemActor, type Actor } from "@/lib/auth/actor";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "@/test/support/use-test-database";
import { applyAccessImport, planAccessImport, type AccessImportInput } from "./index";

// Plan -> apply -> no-op re-import -> stale plan (409) -> removed from source,
// and bad input that changes nothing, for the Kong format.

const FIXTURE = readFileSync(path.resolve("test/fixtures/kong/acceptance.yml"), "utf8");
const VARS = { UPSTREAM_URL: "http://upstream.test:8080", DECK_DAVE_KEY: "dave-secret-from-env" };
const PLAINTEXT = ["alice-secret-key-1", "bob-secret-key-1", "carol-secret-key-1", "dave-secret-from-env"];
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const admin: Actor = systemActor("test");

const ctx = useTestDatabase(4);

beforeAll(async () => {
  await ctx.client.environment.create({ data: { name: "production", tier: "production" } });
});

const input = (text: string, extra: Partial<AccessImportInput> = {}): AccessImportInput => ({
  format: "kong",
  environment: "production",
  file: Buffer.from(text),
  filename: "kong.yml",
  vars: VARS,
  ...extra,
});
/** The parts of the fixture the edits below touch; the rest of the document is carried through as is. */
interface KongDoc {
  _format_version: string;
  consumers: { username: string; keyauth_credentials?: { key: string }[]; acls?: { group: string }[] }[];
  keyauth_credentials: { consumer: string; key: string }[];
  acls: { consumer: string; group: string }[];
  services: { plugins: { config: Record<string, unknown> }[] }[];
}
const edit = (fn: (doc: KongDoc) => void) => {
  const doc = parseYaml(FIXTURE) as KongDoc;
  fn(doc);
  return toYaml(doc);
};
async function counts() {
  const [principals, credentials, apis, endpoints, grants, findings, audit, imported] = await Promise.all([
    ctx.client.principal.count(),
    ctx.client.credential.count(),
    ctx.client.api.count(),
    ctx.client.endpoint.count(),
    ctx.client.grant.count(),
    ctx.client.finding.count(),
    ctx.client.auditEvent.count(),
    ctx.client.importedObject.count(),
  ]);
  return { principals, credentials, apis, endpoints, grants, findings, audit, imported };
}
async function refused(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe("Kong import: plan, apply, re-import, stale plan, removed from source", () => {
  let firstPlanHash = "";

  it("plans creates per kind with a risk summary, and never shows a key", async () => {
    const before = await counts();
    const plan = await planAccessImport(admin, input(FIXTURE), { client: ctx.client });
    expect(await counts()).toEqual(before); // a plan writes nothing
    expect(plan.counts.principal).toEqual({ create: 4, update: 0, gone: 0, unchanged: 0 });
    expect(plan.counts.credential.create).toBe(4);
    expect(plan.counts.api.create).toBe(6); // orders, admin, catalog, catalog /catalog/legacy, status, reports
    expect(plan.samples.principal.create.map((c) => c.label).sort()).toEqual(["alice", "bob", "carol", "dave"]);
    expect(plan.risk.publicEndpoints.map((e) => `${e.method} ${e.path}`)).toContain("GET /status/…");
    expect(plan.risk.publicEndpoints.every((e) => e.api === "status")).toBe(true);
    expect(plan.risk.adminKeys).toEqual([{ principal: "dave", credential: `kong_${sha(VARS.DECK_DAVE_KEY).slice(0, 8)}`, scopes: ["admin: acl:admins"] }]);
    expect(plan.risk.keysWithoutExpiry).toBe(4);
    expect(plan.risk.consumersWithoutOwner).toBe(4);
    expect(plan.risk.blockedEndpoints).toBe(6); // every method of /catalog/legacy
    expect(plan.notImported.map((n) => n.message)).toContain("plugin rate-limiting on route reports-route: not imported");
    const json = JSON.stringify(plan);
    for (const k of PLAINTEXT) expect(json).not.toContain(k);
    firstPlanHash = plan.planHash;
  });

  it("applies exactly the plan: hashed keys, grants per Kong's ACL semantics, one audit event without keys", async () => {
    const result = await applyAccessImport(admin, input(FIXTURE, { expectedPlanHash: firstPlanHash }), { client: ctx.client });
    expect(result.applied).toBe(true);
    expect(result.written.principal.created).toBe(4);
    const creds = await ctx.client.credential.findMany({ include: { principal: true } });
    expect(creds.map((c) => [c.principal.displayName, c.hash]).sort()).toEqual(
      [
        ["alice", sha(PLAINTEXT[0])],
        ["bob", sha(PLAINTEXT[1])],
        ["carol", sha(PLAINTEXT[2])],
        ["dave", sha(PLAINTEXT[3])],
      ].sort(),
    );
    // Who holds which scope: allow lists by group, the deny list for everyone not in it (carol has no group).
    const grants = await ctx.client.grant.findMany({ include: { principal: true, scope: { include: { api: true } } } });
    const held = (who: string) => grants.filter((g) => g.principal.displayName === who).map((g) => `${g.scope.api.name}:${g.scope.name}`).sort();
    expect(held("alice")).toEqual(["catalog /catalog:kong:not-in:blocked", "orders:acl:gold", "reports:kong:consumers"]);
    expect(held("bob")).toEqual(["orders:acl:silver", "reports:kong:consumers"]);
    expect(held("carol")).toEqual(["catalog /catalog:kong:not-in:blocked", "reports:kong:consumers"]);
    expect(held("dave")).toEqual(["admin:acl:admins", "catalog /catalog:kong:not-in:blocked", "reports:kong:consumers"]);
    const status = await ctx.client.endpoint.findMany({ where: { api: { name: "status" } } });
    expect(status.length).toBeGreaterThan(0);
    expect(status.every((e) => e.public)).toBe(true);
    const api = await ctx.client.api.findFirstOrThrow({ where: { name: "admin" } });
    expect(api.proxyPrefix).toBe("/admin");
    expect(api.keyLocation).toEqual({ names: ["apikey", "x-admin-key"], header: true, query: true });
    const audit = await ctx.client.auditEvent.findMany({ where: { action: "inventory.access_import" } });
    expect(audit).toHaveLength(1);
    const big = (_k: string, v: unknown) => (typeof v === "bigint" ? String(v) : v);
    const everything = JSON.stringify(await ctx.client.auditEvent.findMany(), big) + JSON.stringify(await ctx.client.importedObject.findMany()) + JSON.stringify(await ctx.client.api.findMany()) + JSON.stringify(await ctx.client.endpoint.findMany()) + JSON.stringify(creds);
    for (const k of PLAINTEXT) expect(everything).not.toContain(k);
  });

  it("re-importing the same file is a no-op: an empty plan, nothing written", async () => {
    const before = await counts();
    const plan = await planAccessImport(admin, input(FIXTURE), { client: ctx.client });
    expect(plan.empty).toBe(true);
    const result = await applyAccessImport(admin, input(FIXTURE, { expectedPlanHash: plan.planHash }), { client: ctx.client });
    expect(result.applied).toBe(false);
    expect(await counts()).toEqual(before);
  });

  it("writes an acl allow list as single-scope alternatives (any one group); an AND set made in Tollgate is reverted", async () => {
    const orders = await ctx.client.api.findFirstOrThrow({ where: { proxyPrefix: "/orders" }, select: { id: true } });
    const endpoint = await ctx.client.endpoint.findFirstOrThrow({ where: { apiId: orders.id, method: "GET" }, select: { id: true, scopes: { select: { requirementId: true, scopeId: true, scope: { select: { name: true } } } } } });
    // allow: [gold, silver] -> two rows, each its own alternative.
    expect(endpoint.scopes.map((s) => s.scope.name).sort()).toEqual(["acl:gold", "acl:silver"]);
    expect(new Set(endpoint.scopes.map((s) => s.requirementId)).size).toBe(2);

    // Someone makes it "gold AND silver" in Tollgate: the plan compares canonical requirements and sees it.
    await ctx.client.$executeRaw`UPDATE "EndpointScope" SET "requirementId" = ${endpoint.scopes[0].requirementId}::uuid WHERE "endpointId" = ${endpoint.id}::uuid`;
    const plan = await planAccessImport(admin, input(FIXTURE), { client: ctx.client });
    expect(plan.counts.endpoint.update).toBe(1);
    // A proxy in the environment, so the apply writes the routes it would send (nothing delivers them here).
    const env = await ctx.client.environment.findUniqueOrThrow({ where: { name: "production" } });
    const proxy = await ctx.client.proxy.create({ data: { name: "lifecycle-edge", adminUrl: "http://127.0.0.1:9", adminToken: "t".repeat(32), environmentId: env.id } });
    expect(plan.samples.endpoint.update[0]).toMatchObject({ objectId: endpoint.id, fields: ["scopes"] });
    const result = await applyAccessImport(admin, input(FIXTURE, { expectedPlanHash: plan.planHash }), { client: ctx.client });
    expect(result.applied).toBe(true);
    const after = await ctx.client.endpointScope.findMany({ where: { endpointId: endpoint.id }, select: { requirementId: true } });
    expect(after).toHaveLength(2);
    expect(new Set(after.map((s) => s.requirementId)).size).toBe(2);
    // The route it sends the proxies uses requirements, one single-scope alternative per group.
    const outbox = await ctx.client.outboxItem.findMany({ where: { proxyId: proxy.id } });
    expect(outbox).toHaveLength(1);
    const routes = (outbox[0].payload as { ops: { kind: string; value: Record<string, unknown> }[] }).ops.filter((o) => o.kind === "route");
    expect(routes.map((o) => o.value.id)).toEqual([endpoint.id]);
    expect(routes[0].value).not.toHaveProperty("scopeIds");
    expect(routes[0].value.requirements).toEqual(endpoint.scopes.map((x) => x.scopeId).sort().map((id) => [id]));
    await ctx.client.outboxItem.deleteMany({ where: { proxyId: proxy.id } });
    await ctx.client.proxy.delete({ where: { id: proxy.id } });
    expect((await planAccessImport(admin, input(FIXTURE), { client: ctx.client })).empty).toBe(true);
  });

  it("refuses a plan that went stale (409) and writes nothing", async () => {
    const withErin = edit((d) => d.consumers.push({ username: "erin", keyauth_credentials: [{ key: "erin-secret-key" }], acls: [{ group: "gold" }] }));
    const plan = await planAccessImport(admin, input(withErin), { client: ctx.client });
    expect(plan.counts.principal.create).toBe(1);
    // Someone renames an imported consumer in Tollgate between plan and apply.
    const alice = await ctx.client.principal.findFirstOrThrow({ where: { displayName: "alice" } });
    await ctx.client.principal.update({ where: { id: alice.id }, data: { displayName: "alice (renamed)" } });
    const before = await counts();
    const e = await refused(applyAccessImport(admin, input(withErin, { expectedPlanHash: plan.planHash }), { client: ctx.client }));
    expect(e.status).toBe(409);
    expect(await counts()).toEqual(before);
    expect(await ctx.client.principal.count({ where: { displayName: "erin" } })).toBe(0);
    // The fresh plan shows the rename being put back, and applies.
    const again = await planAccessImport(admin, input(FIXTURE), { client: ctx.client });
    expect(again.counts.principal.update).toBe(1);
    await applyAccessImport(admin, input(FIXTURE, { expectedPlanHash: again.planHash }), { client: ctx.client });
    expect(await ctx.client.principal.count({ where: { displayName: "alice" } })).toBe(1);
  });

  it("marks what disappeared from the source as gone and raises findings, deleting nothing", async () => {
    const withoutCarol = edit((d) => {
      d.consumers = d.consumers.filter((c) => c.username !== "carol");
      d.keyauth_credentials = d.keyauth_credentials.filter((k) => k.consumer !== "carol");
      d.acls = d.acls.filter((a) => !(a.consumer === "bob" && a.group === "blocked"));
    });
    const plan = await planAccessImport(admin, input(withoutCarol), { client: ctx.client });
    expect(plan.counts.principal.gone).toBe(1);
    expect(plan.counts.credential.gone).toBe(1);
    expect(plan.samples.principal.gone.map((g) => g.label)).toEqual(["carol"]);
    expect(plan.counts.grant.create).toBe(1); // bob left "blocked": the deny list now lets him through
    const before = await counts();
    const result = await applyAccessImport(admin, input(withoutCarol, { expectedPlanHash: plan.planHash }), { client: ctx.client });
    // carol's two active grants are gone from the source; bob's new grant was given at the gateway (its deny list
    // changed), after this source's first import: granted outside review (issue 22).
    expect(result.findingsOpened).toBe(3);
    expect(result.outsideReview.findingsOpened).toBe(1);
    const after = await counts();
    expect(after.principals).toBe(before.principals);
    expect(after.credentials).toBe(before.credentials);
    const carol = await ctx.client.principal.findFirstOrThrow({ where: { displayName: "carol" }, include: { grants: { include: { findings: true } } } });
    expect(carol.grants.every((g) => g.status === "active" && g.findings.some((f) => f.rule === "gone_from_source" && f.status === "open"))).toBe(true);
    const gone = await ctx.client.importedObject.findMany({ where: { goneAt: { not: null } } });
    expect(gone.map((g) => g.kind).sort()).toEqual(["credential", "grant", "grant", "principal"]);
    // Re-importing the same file again: no-op, no second finding.
    const again = await applyAccessImport(admin, input(withoutCarol), { client: ctx.client });
    expect(again.applied).toBe(false);
    expect((await counts()).findings).toBe(after.findings);
  });
});

describe("Kong import: bad input is refused with file/line/pointer and changes nothing", () => {
  const cases: [string, string, RegExp, Partial<AccessImportInput>?][] = [
    ["invalid YAML", "_format_version: '3.0'\nconsumers:\n  - username: a\n   bad: [", /kong\.yml: invalid YAML at line \d+, column \d+/],
    ["unknown _format_version", edit((d) => (d._format_version = "4.2")), /\/_format_version: unknown _format_version "4\.2"/],
    ["an ACL naming a consumer that does not exist", edit((d) => d.acls.push({ consumer: "mallory", group: "gold" })), /\/acls\/2\/consumer: consumer "mallory" does not exist/],
    ["a key given twice", edit((d) => d.keyauth_credentials.push({ consumer: "dave", key: "alice-secret-key-1" })), /\/keyauth_credentials\/2\/key: duplicate key: the same key is already given at \/consumers\/0\/keyauth_credentials\/0\/key/],
    ["a YAML alias bomb", "_format_version: '3.0'\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n", /kong\.yml: YAML expands to more than 10000 nodes .*alias bomb/],
    ["a self-referencing alias", "_format_version: '3.0'\nconsumers: &c [*c]\n", /kong\.yml: YAML alias \*c at line 2, column \d+ refers to a node that contains it \(a cycle\)/],
    ["a file over the size limit", FIXTURE, /over the limit of 1024 bytes/],
    ["a duplicate map key", "_format_version: '3.0'\n_format_version: '1.1'\n", /kong\.yml: invalid YAML at line 2, column 1: Map keys must be unique/],
    ["an unresolved placeholder", FIXTURE, /unresolved environment placeholder\(s\): DECK_DAVE_KEY at \/consumers\/3\/keyauth_credentials\/0\/key/, { vars: { UPSTREAM_URL: "http://u.test" } }],
    ["an acl with both allow and deny", edit((d) => (d.services[0].plugins[1].config.deny = ["x"])), /\/services\/0\/plugins\/1\/config: exactly one of config.allow or config.deny/],
  ];
  it.each(cases)("%s", async (_name, text, message, extra) => {
    const before = await counts();
    const opts = _name === "a file over the size limit" ? { client: ctx.client, maxBytes: 1024 } : { client: ctx.client };
    const e = await refused(applyAccessImport(admin, input(text, extra), opts));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(message);
    for (const k of PLAINTEXT) expect(e.message).not.toContain(k);
    expect(await counts()).toEqual(before);
  });

  it("a literal $SERVICE_KEY never becomes a key", async () => {
    const text = edit((d) => d.consumers.push({ username: "svc", keyauth_credentials: [{ key: "$SERVICE_KEY" }] }));
    const e = await refused(planAccessImport(admin, input(text), { client: ctx.client }));
    expect(e.message).toMatch(/SERVICE_KEY at \/consumers\/4\/keyauth_credentials\/0\/key/);
    expect(await ctx.client.credential.count({ where: { hash: sha("$SERVICE_KEY") } })).toBe(0);
  });

  it("an ACL group no route uses is a warning, not an error", async () => {
    const text = edit((d) => d.acls.push({ consumer: "alice", group: "platinum" }));
    const plan = await planAccessImport(admin, input(text), { client: ctx.client });
    expect(plan.warnings.map((w) => w.message)).toContain("ACL group platinum of consumer alice is used by no route's acl plugin");
  });

  it("non-admin roles are refused (403) before anything is read", async () => {
    for (const role of ["reviewer", "manager", "auditor"] as const) {
      const actor: Actor = { kind: "user", userId: "00000000-0000-4000-8000-000000000001", email: `${role}@x.test`, name: role, roles: [role], principalId: null };
      expect((await refused(planAccessImport(actor, input(FIXTURE), { client: ctx.client }))).status).toBe(403);
      expect((await refused(applyAccessImport(actor, input(FIXTURE), { client: ctx.client }))).status).toBe(403);
    }
  });
});
