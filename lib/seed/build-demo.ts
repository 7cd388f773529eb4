import { createHash } from "node:crypto";
import { APIS, ENVIRONMENTS, NON_PROD_APIS, TEAMS, endpointsFor, type EnvName, type Level, type Sensitivity } from "./catalog";
import { PLANTED_PRINCIPALS, type GrantPlan, type PrincipalPlan, type UsagePlan } from "./planted-specs";
import { Prng } from "./prng";

/**
 * Builds the demo company as plain rows (no database): deterministic for a
 * given `now` (dates are relative to it so "90 days ago" stays true whenever
 * the seed runs) and a fixed PRNG seed.
 */
const DAY = 86_400_000;
const DOMAIN = "northwind.example";

export interface DemoRows {
  environments: { id: string; name: string; tier: EnvName; createdAt: Date }[];
  teams: { id: string; name: string; externalId: string; createdAt: Date }[];
  apis: { id: string; name: string; description: string; baseUrl: string; environmentId: string; teamId: string; createdAt: Date }[];
  scopes: { id: string; apiId: string; name: string; level: Level; description: string; createdAt: Date }[];
  endpoints: { id: string; apiId: string; method: string; pathTemplate: string; summary: string; sensitivity: Sensitivity; createdAt: Date }[];
  endpointScopes: { endpointId: string; scopeId: string }[];
  principals: {
    id: string; kind: "user" | "service_account" | "api_key"; displayName: string; email: string | null; externalId: string;
    teamId: string | null; managerId: string | null; homeEnvironmentId: string | null; status: "active" | "suspended" | "deprovisioned";
    statusChangedAt: Date; suspendedAt: Date | null; deprovisionedAt: Date | null; createdAt: Date;
  }[];
  credentials: { id: string; principalId: string; prefix: string; hash: string; createdAt: Date; rotatedAt: Date | null; expiresAt: Date | null; lastUsedAt: Date | null; revokedAt: Date | null }[];
  grants: {
    id: string; principalId: string; scopeId: string; environmentId: string; grantedById: string | null; grantedAt: Date;
    expiresAt: Date | null; lastUsedAt: Date | null; status: "active" | "revoked" | "expired"; revokedAt: Date | null;
  }[];
  usage: { grantId: string; day: Date; requestCount: number }[];
}

const FIRST = ["Aisha", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko", "Liam", "Maya", "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zara", "Anton", "Bianca", "Carlos", "Dana", "Emil", "Fatima", "Gustav", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Noor", "Oscar", "Priya", "Rafael", "Sofia", "Tomas", "Uma", "Viktor", "Wanda", "Yara", "Zoe"];
const LAST = ["Adeyemi", "Bauer", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ibrahim", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Novak", "Silva", "Costa", "Berg", "Lindqvist", "Horvat", "Kim", "Mensah", "Ortiz", "Patel", "Reyes", "Sato", "Torres", "Wagner"];
const SVC_ROLES = ["worker", "sync", "etl", "cron", "gateway", "indexer", "webhook", "importer"];
const PARTNERS = ["acme-logistics", "globex", "initech", "umbrella-retail", "stark-freight", "wayne-payments", "hooli-ads", "vandelay-import", "soylent-foods", "tyrell-analytics", "cyberdyne-ops", "wonka-supply", "oscorp-tax", "massive-dynamic", "aperture-crm", "gringotts-bank", "pied-piper", "dunder-paper", "sterling-cooper", "monarch-travel"];

/** Which APIs a team works on (their home surface). */
const TEAM_APIS: Record<string, string[]> = {
  Platform: ["admin", "identity"], Checkout: ["orders", "payments"], Payments: ["payments", "billing"],
  "Customer Experience": ["customers", "notifications"], Fulfillment: ["inventory", "shipping"], Finance: ["billing", "reports"],
  Identity: ["identity", "customers"], Data: ["search", "analytics"], Growth: ["notifications", "analytics"],
  Security: ["identity", "admin"], Support: ["customers", "orders"], SRE: ["admin", "search"],
};

export function buildDemo(now: Date, seed = 20_261_123): DemoRows {
  const rng = new Prng(seed);
  const dayStart = Math.floor(now.getTime() / DAY) * DAY;
  /** A moment `offset` whole days before today, at a random time of that day, never after `now`. */
  const at = (offset: number) => new Date(Math.min(now.getTime(), dayStart - offset * DAY + rng.int(0, DAY / 1000 - 1) * 1000));
  const dayOf = (offset: number) => new Date(dayStart - offset * DAY);
  const created = new Date(dayStart - 1000 * DAY);

  const rows: DemoRows = { environments: [], teams: [], apis: [], scopes: [], endpoints: [], endpointScopes: [], principals: [], credentials: [], grants: [], usage: [] };

  // ---- catalogue
  const envId = new Map<EnvName, string>();
  for (const e of ENVIRONMENTS) {
    const id = rng.uuid();
    envId.set(e.name, id);
    rows.environments.push({ id, name: e.name, tier: e.tier, createdAt: created });
  }
  const teamId = new Map<string, string>();
  for (const t of TEAMS) {
    const id = rng.uuid();
    teamId.set(t, id);
    rows.teams.push({ id, name: t, externalId: `grp-${t.toLowerCase().replace(/\s+/g, "-")}`, createdAt: created });
  }
  /** "production/orders:read" → scope id */
  const scopeKey = (env: EnvName, scope: string) => `${env}/${scope}`;
  const scopeByKey = new Map<string, { id: string; level: Level; api: string; env: EnvName }>();
  for (const env of ["production", "staging", "development"] as const) {
    for (const api of APIS) {
      if (env !== "production" && !NON_PROD_APIS.includes(api.name)) continue;
      const apiId = rng.uuid();
      const host = env === "production" ? `${api.name}.api.${DOMAIN}` : `${api.name}.${env}.api.${DOMAIN}`;
      rows.apis.push({ id: apiId, name: api.name, description: api.description, baseUrl: `https://${host}`, environmentId: envId.get(env)!, teamId: teamId.get(api.team)!, createdAt: created });
      const levels: Level[] = env === "production" ? (api.hasAdmin ? ["read", "write", "admin"] : ["read", "write"]) : ["read", "write", "admin"];
      const levelScope = new Map<Level, string>();
      for (const level of levels) {
        const id = rng.uuid();
        const name = `${api.name}:${level}`;
        levelScope.set(level, id);
        rows.scopes.push({ id, apiId, name, level, description: `${level[0].toUpperCase()}${level.slice(1)} access to the ${api.name} API`, createdAt: created });
        scopeByKey.set(scopeKey(env, name), { id, level, api: api.name, env });
      }
      const hasAdmin = levels.includes("admin");
      const resources = env === "production" ? api.resources : api.resources.slice(0, 1);
      for (const ep of endpointsFor({ ...api, hasAdmin }, resources)) {
        const id = rng.uuid();
        rows.endpoints.push({ id, apiId, method: ep.method, pathTemplate: ep.path, summary: `${ep.method} ${ep.path}`, sensitivity: ep.sensitivity, createdAt: created });
        rows.endpointScopes.push({ endpointId: id, scopeId: levelScope.get(ep.level)! });
      }
      if (env === "production") {
        for (const x of api.extras ?? []) {
          const sid = rng.uuid();
          rows.scopes.push({ id: sid, apiId, name: x.scope, level: x.level, description: `${x.method} ${x.path}`, createdAt: created });
          scopeByKey.set(scopeKey(env, x.scope), { id: sid, level: x.level, api: api.name, env });
          const eid = rng.uuid();
          rows.endpoints.push({ id: eid, apiId, method: x.method, pathTemplate: x.path, summary: `${x.method} ${x.path}`, sensitivity: x.sensitivity, createdAt: created });
          rows.endpointScopes.push({ endpointId: eid, scopeId: sid });
        }
      }
    }
  }
  const scopesIn = (env: EnvName) => [...scopeByKey.entries()].filter(([, s]) => s.env === env).map(([k, s]) => ({ name: k.split("/")[1], ...s }));

  // ---- principals
  const principalByExt = new Map<string, DemoRows["principals"][number]>();
  const addPrincipal = (p: Omit<DemoRows["principals"][number], "id" | "statusChangedAt" | "suspendedAt" | "deprovisionedAt" | "createdAt"> & { statusDaysAgo?: number; createdDaysAgo?: number }) => {
    const statusChangedAt = p.statusDaysAgo !== undefined ? at(p.statusDaysAgo) : at(p.createdDaysAgo ?? 700);
    const row = {
      id: rng.uuid(), kind: p.kind, displayName: p.displayName, email: p.email, externalId: p.externalId, teamId: p.teamId,
      managerId: p.managerId, homeEnvironmentId: p.homeEnvironmentId, status: p.status, statusChangedAt,
      suspendedAt: p.status === "suspended" ? statusChangedAt : null,
      deprovisionedAt: p.status === "deprovisioned" ? statusChangedAt : null,
      createdAt: at(p.createdDaysAgo ?? 700),
    };
    rows.principals.push(row);
    principalByExt.set(row.externalId, row);
    return row;
  };
  const email = (name: string) => `${name.toLowerCase().replace(/[^a-z]+/g, ".")}@${DOMAIN}`;

  const ceo = addPrincipal({ kind: "user", displayName: "Casey Chief", email: email("Casey Chief"), externalId: "emp-casey-chief", teamId: teamId.get("Platform")!, managerId: null, homeEnvironmentId: null, status: "active", createdDaysAgo: 2000 });
  const managers = new Map<string, string>();
  const managerNames: Record<string, string> = { Checkout: "Morgan Manager", Security: "Sasha Sentinel" };
  const names = rng.sample(FIRST.flatMap((f) => LAST.map((l) => `${f} ${l}`)), 400);
  let nameIdx = 0;
  for (const t of TEAMS) {
    const displayName = managerNames[t] ?? names[nameIdx++];
    const ext = t === "Checkout" ? "emp-morgan-manager" : `emp-${rng.hex(5)}`;
    const m = addPrincipal({ kind: "user", displayName, email: email(displayName), externalId: ext, teamId: teamId.get(t)!, managerId: ceo.id, homeEnvironmentId: null, status: "active", createdDaysAgo: rng.int(400, 1500) });
    managers.set(t, m.id);
  }
  const securityLead = principalByExt.get([...principalByExt.keys()].find((k) => principalByExt.get(k)!.displayName === "Sasha Sentinel")!)!;

  // Planted principals (and the demo sign-in users) are declared in planted-specs.ts.
  const plantedGrantPlans: { principalId: string; kind: PrincipalPlan["kind"]; plans: GrantPlan[] }[] = [];
  for (const spec of PLANTED_PRINCIPALS) {
    if (principalByExt.has(spec.externalId)) {
      plantedGrantPlans.push({ principalId: principalByExt.get(spec.externalId)!.id, kind: spec.kind, plans: spec.grants });
      continue;
    }
    const p = addPrincipal({
      kind: spec.kind, displayName: spec.displayName, email: spec.kind === "user" ? email(spec.displayName) : null, externalId: spec.externalId,
      teamId: teamId.get(spec.team)!, managerId: managers.get(spec.team) ?? null, homeEnvironmentId: spec.homeEnvironment ? envId.get(spec.homeEnvironment)! : null,
      status: spec.status ?? "active", statusDaysAgo: spec.statusDaysAgo, createdDaysAgo: 800,
    });
    plantedGrantPlans.push({ principalId: p.id, kind: spec.kind, plans: spec.grants });
    for (const c of spec.credentials ?? []) addCredential(p.id, p.kind, c);
  }

  function addCredential(principalId: string, kind: PrincipalPlan["kind"], c: { createdDaysAgo: number; rotatedDaysAgo?: number; expiresInDays?: number; lastUsedDaysAgo?: number; revokedDaysAgo?: number }) {
    const key = `${kind === "user" ? "tg_pat" : "tg_live"}_${rng.hex(24)}`;
    rows.credentials.push({
      id: rng.uuid(), principalId, prefix: key.slice(0, kind === "user" ? 11 : 12), hash: createHash("sha256").update(key).digest("hex"),
      createdAt: at(c.createdDaysAgo), rotatedAt: c.rotatedDaysAgo !== undefined ? at(c.rotatedDaysAgo) : null,
      expiresAt: c.expiresInDays !== undefined ? new Date(dayStart + c.expiresInDays * DAY + 12 * 3600_000) : null,
      lastUsedAt: c.lastUsedDaysAgo !== undefined ? at(c.lastUsedDaysAgo) : null,
      revokedAt: c.revokedDaysAgo !== undefined ? at(c.revokedDaysAgo) : null,
    });
  }
  /** A credential that is healthy today: rotated within 170 days, expiry (if any) in the future. */
  const freshCredential = (lastUsedDaysAgo?: number) => {
    const createdDaysAgo = rng.int(10, 700);
    const rotatedDaysAgo = createdDaysAgo > 170 ? rng.int(1, 170) : undefined;
    return { createdDaysAgo, rotatedDaysAgo, expiresInDays: rng.chance(0.5) ? rng.int(30, 365) : undefined, lastUsedDaysAgo };
  };

  // Random employees: most active; a few deprovisioned long ago whose access was cleaned up properly.
  const randomPlans: { principalId: string; kind: PrincipalPlan["kind"]; plans: GrantPlan[] }[] = [];
  const teamList = [...TEAMS];
  for (let i = 0; i < 290; i++) {
    const team = teamList[i % teamList.length];
    const displayName = names[nameIdx++];
    const departed = rng.chance(0.05);
    const p = addPrincipal({
      kind: "user", displayName, email: email(displayName), externalId: `emp-${rng.hex(5)}`, teamId: teamId.get(team)!, managerId: managers.get(team)!,
      homeEnvironmentId: null, status: departed ? "deprovisioned" : "active", statusDaysAgo: departed ? rng.int(120, 400) : undefined, createdDaysAgo: rng.int(200, 1500),
    });
    const home = TEAM_APIS[team];
    const want = rng.int(9, 21);
    const picks = new Set<string>();
    for (const api of home) {
      picks.add(scopeKey("production", `${api}:read`));
      if (rng.chance(0.55)) picks.add(scopeKey("production", `${api}:write`));
      if (NON_PROD_APIS.includes(api)) for (const env of ["staging", "development"] as const) if (rng.chance(0.6)) picks.add(scopeKey(env, `${api}:${rng.pick(["read", "write"])}`));
    }
    const prodReads = scopesIn("production").filter((s) => s.level === "read");
    while (picks.size < want) {
      const roll = rng.next();
      const s = roll < 0.6 ? rng.pick(prodReads) : roll < 0.85 ? rng.pick(scopesIn("production")) : rng.pick([...scopesIn("staging"), ...scopesIn("development")]);
      if (s.level === "admin" && !rng.chance(0.3)) continue;
      picks.add(scopeKey(s.env, s.name));
    }
    const deprovisionedDaysAgo = departed ? Math.round((dayStart - p.statusChangedAt.getTime()) / DAY) : undefined;
    randomPlans.push({ principalId: p.id, kind: "user", plans: [...picks].map((k) => randomGrantPlan(k, "user", deprovisionedDaysAgo)) });
    if (!departed && rng.chance(0.2)) addCredential(p.id, "user", freshCredential(rng.chance(0.6) ? rng.int(0, 20) : undefined));
    if (departed && rng.chance(0.3)) addCredential(p.id, "user", { createdDaysAgo: deprovisionedDaysAgo! + 100, revokedDaysAgo: deprovisionedDaysAgo, lastUsedDaysAgo: deprovisionedDaysAgo! + 2 });
  }

  // Service accounts: bound to an environment, grants only there (the planted cross-environment ones are the exception).
  for (let i = 0; i < 60; i++) {
    const api = APIS[i % APIS.length];
    const role = SVC_ROLES[Math.floor(i / APIS.length) % SVC_ROLES.length];
    const env: EnvName = NON_PROD_APIS.includes(api.name) && i % 5 === 3 ? rng.pick(["staging", "development"] as const) : "production";
    const p = addPrincipal({ kind: "service_account", displayName: `svc-${api.name}-${role}${env === "production" ? "" : `-${env.slice(0, 3)}`}`, email: null,
      externalId: `svc:${api.name}-${role}-${i}`, teamId: teamId.get(api.team)!, managerId: null, homeEnvironmentId: envId.get(env)!, status: "active", createdDaysAgo: rng.int(100, 1200) });
    const pool = scopesIn(env).filter((s) => s.level !== "admin");
    const picks = new Set<string>([scopeKey(env, `${api.name}:read`)]);
    if (env === "production" || NON_PROD_APIS.includes(api.name)) picks.add(scopeKey(env, `${api.name}:write`));
    const want = env === "production" ? rng.int(3, 12) : rng.int(2, 5);
    while (picks.size < Math.min(want, pool.length)) picks.add(scopeKey(env, rng.pick(pool).name));
    randomPlans.push({ principalId: p.id, kind: "service_account", plans: [...picks].filter((k) => scopeByKey.has(k)).map((k) => randomGrantPlan(k, "service_account")) });
    for (let c = rng.int(1, 2); c > 0; c--) addCredential(p.id, "service_account", freshCredential(rng.int(0, 2)));
  }
  // Partner API keys.
  for (let i = 0; i < 40; i++) {
    const partner = PARTNERS[i % PARTNERS.length];
    const env: EnvName = i < PARTNERS.length ? "production" : "staging";
    const p = addPrincipal({ kind: "api_key", displayName: `partner-${partner}${env === "staging" ? "-sandbox" : ""}`, email: null, externalId: `key:${partner}-${i}`,
      teamId: teamId.get(rng.pick(["Checkout", "Fulfillment", "Payments", "Growth"]))!, managerId: null, homeEnvironmentId: envId.get(env)!, status: "active", createdDaysAgo: rng.int(60, 900) });
    const pool = scopesIn(env).filter((s) => s.level === "read" || (s.level === "write" && ["orders", "shipping"].includes(s.api)));
    const picks = new Set<string>();
    const want = Math.min(pool.length, rng.int(2, 6));
    while (picks.size < want) picks.add(scopeKey(env, rng.pick(pool).name));
    randomPlans.push({ principalId: p.id, kind: "api_key", plans: [...picks].map((k) => randomGrantPlan(k, "api_key")) });
    addCredential(p.id, "api_key", freshCredential(rng.int(0, 5)));
  }

  /** A plausible grant for an ordinary principal: mostly used, some dormant or never used, a few revoked or expired. */
  function randomGrantPlan(key: string, kind: PrincipalPlan["kind"], deprovisionedDaysAgo?: number): GrantPlan {
    const [env, scope] = key.split("/") as [EnvName, string];
    if (deprovisionedDaysAgo !== undefined) {
      // Cleaned up at departure: revoked then, last used before that (or never).
      const last = rng.chance(0.7) ? deprovisionedDaysAgo + rng.int(1, 60) : undefined;
      return { env, scope, grantedDaysAgo: (last ?? deprovisionedDaysAgo) + rng.int(30, 400), usage: last === undefined ? { kind: "never" } : { kind: "last", daysAgo: last }, status: "revoked", revokedDaysAgo: deprovisionedDaysAgo };
    }
    const roll = rng.next();
    const service = kind !== "user";
    const pActive = service ? 0.8 : scopeByKey.get(key)!.level === "read" ? 0.5 : 0.35;
    let usage: UsagePlan;
    if (roll < pActive) usage = { kind: "active", lastDaysAgo: rng.int(0, service ? 1 : 6), frequency: service ? 0.95 : 0.2 + rng.next() * 0.6 };
    else if (roll < pActive + 0.15) usage = { kind: "last", daysAgo: rng.int(7, 89) };
    else if (roll < pActive + 0.3) usage = { kind: "last", daysAgo: rng.int(91, 420) };
    else usage = { kind: "never" };
    const lastOffset = usage.kind === "active" ? usage.lastDaysAgo ?? 0 : usage.kind === "last" ? usage.daysAgo : 0;
    const grantedDaysAgo = lastOffset + rng.int(20, 700);
    const statusRoll = rng.next();
    if (statusRoll < 0.05 && usage.kind !== "active") {
      const revokedDaysAgo = rng.int(1, Math.max(1, Math.min(lastOffset, 60)));
      return { env, scope, grantedDaysAgo, usage: usage.kind === "last" && usage.daysAgo <= revokedDaysAgo ? { kind: "never" } : usage, status: "revoked", revokedDaysAgo };
    }
    if (statusRoll < 0.07 && usage.kind !== "active") return { env, scope, grantedDaysAgo, usage: { kind: "never" }, status: "expired", expiresInDays: -rng.int(1, Math.max(1, grantedDaysAgo - 5)) };
    return { env, scope, grantedDaysAgo, usage, expiresInDays: rng.chance(0.1) ? rng.int(14, 365) : undefined };
  }

  // ---- grants and usage
  for (const { principalId, kind, plans } of [...plantedGrantPlans, ...randomPlans]) {
    for (const plan of plans) {
      const scope = scopeByKey.get(scopeKey(plan.env, plan.scope));
      if (!scope) throw new Error(`demo seed: unknown scope ${plan.env}/${plan.scope}`);
      const id = rng.uuid();
      const { lastUsedAt, days } = usageFor(plan, kind === "user" ? [1, 60] : [200, 4000]);
      rows.grants.push({
        id, principalId, scopeId: scope.id, environmentId: envId.get(plan.env)!, grantedById: securityLead.id, grantedAt: at(plan.grantedDaysAgo),
        expiresAt: plan.expiresInDays !== undefined ? new Date(dayStart + plan.expiresInDays * DAY + 9 * 3600_000) : null,
        lastUsedAt, status: plan.status ?? "active", revokedAt: plan.revokedDaysAgo !== undefined ? at(plan.revokedDaysAgo) : null,
      });
      for (const d of days) rows.usage.push({ grantId: id, day: dayOf(d.offset), requestCount: d.count });
    }
  }

  /** Daily usage rows (last 90 days only) and a lastUsedAt that agrees with them. */
  function usageFor(plan: GrantPlan, range: [number, number]): { lastUsedAt: Date | null; days: { offset: number; count: number }[] } {
    const u = plan.usage;
    if (u.kind === "never") return { lastUsedAt: null, days: [] };
    const oldest = Math.min(89, plan.grantedDaysAgo - 1);
    const days: { offset: number; count: number }[] = [];
    if (u.kind === "active") {
      const last = u.lastDaysAgo ?? 0;
      for (let d = last; d <= oldest; d++) if (d === last || rng.chance(u.frequency ?? 0.9)) days.push({ offset: d, count: rng.int(range[0], range[1]) });
      return { lastUsedAt: at(last), days };
    }
    if (u.daysAgo <= 89) {
      days.push({ offset: u.daysAgo, count: rng.int(range[0], Math.ceil(range[1] / 4)) });
      for (let k = rng.int(0, 3); k > 0 && u.daysAgo + 1 <= oldest; k--) {
        const d = rng.int(u.daysAgo + 1, oldest);
        if (!days.some((x) => x.offset === d)) days.push({ offset: d, count: rng.int(range[0], Math.ceil(range[1] / 4)) });
      }
    }
    return { lastUsedAt: at(u.daysAgo), days };
  }

  return rows;
}
