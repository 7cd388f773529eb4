import { createHash, type Hash } from "node:crypto";
import type pg from "pg";
import type { Tx } from "@/lib/db";
import { badRequest } from "@/lib/errors";
import { anyOf, canonicalRequirements } from "@/proxy/requirements";
import { KINDS, type DesiredApi, type DesiredCredential, type DesiredEndpoint, type DesiredPrincipal, type DesiredScope, type DesiredState, type Kind, type Note } from "./desired";
import { planGrants, type GrantPlan } from "./grant-plan";
import { loadLiveState, loadLiveStateBeside, type LiveState, type Mapped } from "./live";
import { PARAM_CHUNK } from "./params";
import { phaseTimer } from "./phases";

// The plan: desired state (from the file) against what this source put into
// the database last time, as it is now. It lists creates, updates and things
// gone from the source per kind, with counts, the first rows of each and a risk
// summary; its hash covers the file's content and every live row it was
// computed from, so apply can tell (409) that anything changed in between.
// Nothing in a plan holds a plaintext key: credentials appear by display prefix.

export const SAMPLE_ROWS = 10;
/** Keys reaching admin-level scopes listed in a plan (all are counted): a gateway can hold 100,000 such keys. */
export const RISK_LIST_ROWS = 100;

export interface Change {
  ext: string;
  /** Null: created by the apply. */
  objectId: string | null;
  label: string;
  fields: string[];
}
export interface Gone {
  ext: string;
  objectId: string;
  label: string;
}

export interface KindDiff {
  create: Change[];
  update: Change[];
  gone: Gone[];
  unchanged: number;
}

export interface AccessPlan {
  source: { name: string; format: string; environment: string; fileSha256: string };
  counts: Record<Kind, { create: number; update: number; gone: number; unchanged: number }>;
  samples: Record<Kind, { create: Change[]; update: Change[]; gone: Gone[] }>;
  risk: {
    publicEndpoints: { api: string; method: string; path: string; summary: string | null }[];
    blockedEndpoints: number;
    /** The first RISK_LIST_ROWS, in file order; adminKeyCount counts them all. */
    adminKeys: { principal: string; credential: string; scopes: string[] }[];
    adminKeyCount: number;
    consumersWithoutOwner: number;
    keysWithoutExpiry: number;
  };
  conflicts: Note[];
  notImported: Note[];
  warnings: Note[];
  empty: boolean;
  planHash: string;
}

/** The full diff (every row), kept server-side for apply; the plan shows counts and samples. */
export interface FullPlan {
  plan: AccessPlan;
  /** Every kind but grants row by row; grants are in `grants` (and the transaction's diff table). */
  diff: Record<Kind, KindDiff>;
  grants: GrantPlan;
  desired: DesiredState;
  live: LiveState;
  sourceId: string | null;
  environmentId: string;
}

/** A transaction: the grant diff lives in a temporary table of it. */
type Client = Tx;
const iso = (d: Date | null) => (d ? d.toISOString() : null);
/** Key order does not count (jsonb stores object keys in its own order). */
const canonical = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(",")}]` : v !== null && typeof v === "object" ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}` : JSON.stringify(v ?? null);
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

export async function computePlan(
  client: Client,
  input: { sourceName: string; format: string; environment: { id: string; name: string }; fileSha256: string; desired: DesiredState; stageTable: string; sidePool?: pg.Pool | null },
): Promise<FullPlan> {
  const { desired } = input;
  const t = phaseTimer("plan: ");
  const source = await client.accessImportSource.findUnique({ where: { name: input.sourceName } });
  if (source && source.environmentId !== input.environment.id) {
    throw badRequest(`source ${input.sourceName} imports into another environment; use another --source name`, "source");
  }
  const principalName = new Map(desired.principals.map((p) => [p.ext, p.displayName]));
  const apiName = new Map(desired.apis.map((a) => [a.ext, a.name]));
  const scopeLabel = new Map(desired.scopes.map((s) => [s.ext, `${apiName.get(s.apiExt)}: ${s.name}`]));
  // Grants: SQL over the import's staging table (grant-plan.ts), never rows in memory; seconds at a million grants,
  // so they are started first and the rest of the plan is done while the database works on them: the live rows of
  // the other kinds are read on a second connection in this transaction's snapshot (real PostgreSQL), then diffed and
  // hashed here, handing the event loop back between chunks so the grants' statements go out. A handler is attached
  // now, so a failure before the await below is not an unhandled rejection; it is still thrown there.
  const startGrants = () => {
    const planning = planGrants(client, input.stageTable, source?.id ?? null, {
      principalName,
      scopeLabel,
      adminScopeExts: desired.scopes.filter((s) => s.level === "admin").map((s) => s.ext),
    }, SAMPLE_ROWS);
    planning.catch(() => undefined);
    return planning;
  };
  // Only one statement at a time on the transaction: without a second connection the live rows come first.
  let grantPlanning: Promise<GrantPlan>;
  let live: LiveState | null = null;
  if (source && input.sidePool) {
    const [{ snapshot }] = await client.$queryRaw<{ snapshot: string }[]>`SELECT pg_export_snapshot() AS snapshot`;
    grantPlanning = startGrants();
    live = await loadLiveStateBeside(input.sidePool, snapshot, source.id);
    if (!live) {
      // The transaction is free again once the grants' SQL is done; a failure there is the error to report, not the
      // "transaction aborted" the next statement would get.
      await grantPlanning;
      live = await loadLiveState(client, source.id);
    }
  } else {
    live = await loadLiveState(client, source?.id ?? null);
    grantPlanning = startGrants();
  }
  t.lap("load the source's live rows");
  const conflicts: Note[] = [];
  const idOf = (kind: Kind, ext: string): string | null => {
    const m = live[kind].get(ext);
    return m?.row ? m.objectId : null;
  };

  const principals = await diffKind(live.principal, desired.principals, (d: DesiredPrincipal) => d.displayName, (d, row, m) => {
    const f: string[] = [];
    if (row.displayName !== d.displayName) f.push("displayName");
    if (!same(m.attributes ?? { tags: [] }, { tags: d.tags })) f.push("tags");
    return f;
  });
  const credentials = await diffKind(live.credential, desired.credentials, (d: DesiredCredential) => `${d.prefix} (${principalName.get(d.principalExt)})`, (d, row) => {
    if (row.revokedAt) {
      conflicts.push({ where: d.prefix, message: `key ${d.prefix} of ${principalName.get(d.principalExt)} was revoked in Tollgate but is still in the source: left revoked` });
      return [];
    }
    const f: string[] = [];
    if (row.principalId !== idOf("principal", d.principalExt)) f.push("principal");
    if (iso(row.expiresAt) !== d.expiresAt) f.push("expiresAt");
    return f;
  });
  const apis = await diffKind(live.api, desired.apis, (d: DesiredApi) => `${d.name} (${d.proxyPrefix})`, (d, row) => {
    const f: string[] = [];
    if (row.name !== d.name) f.push("name");
    if (row.baseUrl !== d.baseUrl) f.push("baseUrl");
    if (row.proxyPrefix !== d.proxyPrefix) f.push("proxyPrefix");
    if (!same(row.keyLocation ?? null, d.keyLocation)) f.push("keyLocation");
    if (row.description !== d.description) f.push("description");
    return f;
  });
  const scopes = await diffKind(live.scope, desired.scopes, (d: DesiredScope) => `${apiName.get(d.apiExt)}: ${d.name}`, (d, row) => {
    const f: string[] = [];
    if (row.apiId !== idOf("api", d.apiExt)) f.push("api");
    if (row.name !== d.name) f.push("name");
    if (row.level !== d.level) f.push("level");
    if (row.description !== d.description) f.push("description");
    if (row.deprecatedAt) f.push("deprecatedAt");
    return f;
  });
  const endpoints = await diffKind(live.endpoint, desired.endpoints, (d: DesiredEndpoint) => `${apiName.get(d.apiExt)}: ${d.method} ${d.pathTemplate}`, (d, row) => {
    const f: string[] = [];
    if (row.apiId !== idOf("api", d.apiExt) || row.method !== d.method || row.pathTemplate !== d.pathTemplate) f.push("route");
    if (row.public !== d.public) f.push("public");
    if (row.summary !== d.summary) f.push("summary");
    if (row.deprecatedAt) f.push("deprecatedAt");
    // The source says "any one of these scopes" (single-scope alternatives); the
    // row's alternatives, canonical, must say exactly that (an AND set added in
    // Tollgate is a change the import reverts).
    const want = d.scopeExts.map((s) => idOf("scope", s));
    if (want.some((s) => s === null) || JSON.stringify(canonicalRequirements(row.requirements)) !== JSON.stringify(anyOf(want as string[]))) f.push("scopes");
    return f;
  });
  t.lap("diff");
  // Everything of the plan hash but the grants' digest, which comes last.
  const hash = await hashRows(input.sourceName, input.environment.id, desired, live);
  t.lap("plan hash");
  const grantPlan = await grantPlanning;
  conflicts.push(...grantPlan.conflicts);
  const grants: KindDiff = { create: [], update: [], gone: [], unchanged: grantPlan.counts.unchanged };
  const diff: Record<Kind, KindDiff> = { principal: principals, credential: credentials, api: apis, scope: scopes, endpoint: endpoints, grant: grants };

  t.lap("grants (SQL), the rest of the wait");
  await refuseCollisions(client, input.environment.id, source?.id ?? null, diff, desired);

  const counts = {} as AccessPlan["counts"];
  const samples = {} as AccessPlan["samples"];
  for (const k of KINDS) {
    const d = diff[k];
    counts[k] = { create: d.create.length, update: d.update.length, gone: d.gone.length, unchanged: d.unchanged };
    samples[k] = { create: d.create.slice(0, SAMPLE_ROWS), update: d.update.slice(0, SAMPLE_ROWS), gone: d.gone.slice(0, SAMPLE_ROWS) };
  }
  counts.grant = grantPlan.counts;
  samples.grant = grantPlan.samples;
  const empty = KINDS.every((k) => counts[k].create + counts[k].update + counts[k].gone === 0);

  const plan: AccessPlan = {
    source: { name: input.sourceName, format: input.format, environment: input.environment.name, fileSha256: input.fileSha256 },
    counts,
    samples,
    risk: riskSummary(desired, live, apiName, principalName, grantPlan.adminScopes),
    conflicts,
    notImported: desired.notImported,
    warnings: desired.warnings,
    empty,
    planHash: "",
  };
  t.lap("collisions and risk summary");
  hash.update(`grants ${grantPlan.digest}\n`);
  plan.planHash = hash.digest("hex");
  return { plan, diff, grants: grantPlan, desired, live, sourceId: source?.id ?? null, environmentId: input.environment.id };
}

async function diffKind<D extends { ext: string }, R>(
  mapped: Map<string, Mapped<R>>,
  desired: D[],
  label: (d: D) => string,
  changed: (d: D, row: R, m: Mapped<R>) => string[],
): Promise<KindDiff> {
  const out: KindDiff = { create: [], update: [], gone: [], unchanged: 0 };
  const wanted = new Set<string>();
  let n = 0;
  for (const d of desired) {
    if (++n % YIELD_ROWS === 0) await yieldToIo();
    wanted.add(d.ext);
    const m = mapped.get(d.ext);
    if (!m || !m.row) {
      out.create.push({ ext: d.ext, objectId: null, label: label(d), fields: [] });
      continue;
    }
    const fields = changed(d, m.row, m);
    if (m.goneAt) fields.push("back in source");
    if (fields.length) out.update.push({ ext: d.ext, objectId: m.objectId, label: label(d), fields });
    else out.unchanged++;
  }
  for (const m of mapped.values()) {
    if (++n % YIELD_ROWS === 0) await yieldToIo();
    if (wanted.has(m.ext) || m.goneAt || !m.row) continue;
    out.gone.push({ ext: m.ext, objectId: m.objectId, label: labelOfGone(m) });
  }
  return out;
}

function labelOfGone(m: Mapped<unknown>): string {
  const r = m.row as Record<string, unknown>;
  return String(r.displayName ?? r.prefix ?? r.name ?? (r.method ? `${r.method} ${r.pathTemplate}` : m.ext.split("|").slice(-2).join(" -> ")));
}

/** Rows the file would create that already exist in Tollgate outside this source: refused, naming them. */
async function refuseCollisions(client: Client, environmentId: string, sourceId: string | null, diff: Record<Kind, KindDiff>, desired: DesiredState): Promise<void> {
  const newCreds = new Set(diff.credential.create.map((c) => c.ext));
  const hashes = desired.credentials.filter((c) => newCreds.has(c.ext)).map((c) => c.hash);
  // In chunks: one array of 100,000 hashes grew the query compiler's WebAssembly memory by 52 MB for the life of
  // the process (it never shrinks), a tenth of the importer's memory budget.
  for (let from = 0; from < hashes.length; from += PARAM_CHUNK) {
    const taken = await client.$queryRaw<{ hash: string }[]>`SELECT hash FROM "Credential" WHERE hash = ANY(${hashes.slice(from, from + PARAM_CHUNK)}::text[]) LIMIT 5`;
    if (taken.length) {
      const prefixes = taken.map((t) => `kong_${t.hash.slice(0, 8)}`).join(", ");
      throw badRequest(`key(s) ${prefixes} already belong to a Tollgate principal outside this import source; nothing was imported`, "file");
    }
  }
  const mine = new Set(diff.api.update.map((a) => a.objectId).filter(Boolean) as string[]);
  const names = desired.apis.map((a) => a.name);
  const prefixes = desired.apis.map((a) => a.proxyPrefix).filter((p): p is string => p !== null);
  const clash = await client.$queryRaw<{ id: string; name: string; proxyPrefix: string | null }[]>`
    SELECT a.id::text AS id, a.name, a."proxyPrefix" FROM "Api" a
    WHERE a."environmentId" = ${environmentId}::uuid AND (a.name = ANY(${names}::text[]) OR a."proxyPrefix" = ANY(${prefixes}::text[]))
      AND NOT EXISTS (SELECT 1 FROM "ImportedObject" o WHERE o."objectId" = a.id AND o.kind = 'api' AND o."sourceId" = ${sourceId}::uuid)`;
  const foreign = clash.filter((c) => !mine.has(c.id));
  if (foreign.length) {
    const list = foreign.slice(0, 5).map((c) => `${c.name}${c.proxyPrefix ? ` (${c.proxyPrefix})` : ""}`).join(", ");
    throw badRequest(`API name or path already used in this environment outside this import source: ${list}; nothing was imported`, "file");
  }
}

function riskSummary(desired: DesiredState, live: LiveState, apiName: Map<string, string>, principalName: Map<string, string>, adminGrants: Map<string, string[]>): AccessPlan["risk"] {
  const apiPrefix = new Map(desired.apis.map((a) => [a.ext, a.proxyPrefix ?? ""]));
  const adminScopes = new Map(desired.scopes.filter((s) => s.level === "admin").map((s) => [s.ext, `${apiName.get(s.apiExt)}: ${s.name}`]));
  const adminByPrincipal = new Map<string, string[]>();
  for (const [principalExt, scopeExts] of adminGrants) adminByPrincipal.set(principalExt, scopeExts.map((s) => adminScopes.get(s)!));
  const owned = (ext: string) => {
    const row = live.principal.get(ext)?.row;
    return !!row && (row.teamId !== null || row.managerId !== null);
  };
  const adminKeys = desired.credentials.filter((c) => adminByPrincipal.has(c.principalExt));
  return {
    publicEndpoints: desired.endpoints
      .filter((e) => e.public)
      .map((e) => ({ api: apiName.get(e.apiExt) ?? e.apiExt, method: e.method, path: `${apiPrefix.get(e.apiExt)}${e.pathTemplate === "/{path*}" ? "/…" : e.pathTemplate}`, summary: e.summary })),
    blockedEndpoints: desired.endpoints.filter((e) => !e.public && e.scopeExts.length === 0).length,
    adminKeys: adminKeys
      .slice(0, RISK_LIST_ROWS)
      .map((c) => ({ principal: principalName.get(c.principalExt) ?? c.principalExt, credential: c.prefix, scopes: adminByPrincipal.get(c.principalExt)! })),
    adminKeyCount: adminKeys.length,
    consumersWithoutOwner: desired.principals.filter((p) => !owned(p.ext)).length,
    keysWithoutExpiry: desired.credentials.filter((c) => c.expiresAt === null).length,
  };
}

/**
 * The plan hash's SHA-256 over the source, the desired state and every live row read, sorted (any change to either
 * changes it); the caller adds the grants' digest last (`grants <digest>\n`) and finishes it.
 */
async function hashRows(sourceName: string, environmentId: string, desired: DesiredState, live: LiveState): Promise<Hash> {
  const h = createHash("sha256");
  h.update(JSON.stringify({ v: 1, sourceName, environmentId }));
  // The same bytes in the same order as one update per row, handed to the hash a thousand rows at a time
  // (one native call per row cost more than the hashing at 150,000 rows).
  let batch: string[] = [];
  const flush = async () => {
    h.update(batch.join(""));
    batch = [];
    await yieldToIo();
  };
  for (const k of KINDS) {
    const list = (desired as unknown as Record<string, { ext: string }[]>)[k === "principal" ? "principals" : `${k}s`];
    for (const d of [...list].sort((a, b) => (a.ext < b.ext ? -1 : 1))) if (batch.push(JSON.stringify(d) + "\n") === 1000) await flush();
    const rows = [...live[k].values()].sort((a, b) => (a.ext < b.ext ? -1 : 1));
    for (const m of rows) if (batch.push(JSON.stringify(m) + "\n") === 1000) await flush();
  }
  h.update(batch.join(""));
  return h;
}

/** Rows between two turns of the event loop in the plan's own loops (so the grants' statements go out meanwhile). */
const YIELD_ROWS = 2_000;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));
