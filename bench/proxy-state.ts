// The proxy benchmarks' enforcement state, defined once: bench/proxy.ts streams it
// to a running proxy as an NDJSON snapshot, bench/proxy-decide.ts builds it in
// process. Deterministic, so every run and both benchmarks hold the same state.
import { createHash } from "node:crypto";

export const CREDENTIALS = Number(process.env.BENCH_CREDENTIALS ?? 200_000);
export const GRANTS = Number(process.env.BENCH_GRANTS ?? 1_000_000);
export const APIS = 20;
export const RESOURCES_PER_API = 50; // x2 templates (collection + item) = 100 per API, 2,000 total
const SCOPES_PER_API = 10;
const SCOPES = APIS * SCOPES_PER_API;
const CREDS_PER_PRINCIPAL = 2;
const PRINCIPALS = CREDENTIALS / CREDS_PER_PRINCIPAL;
export const GRANTS_PER_PRINCIPAL = GRANTS / PRINCIPALS; // 10: distinct scopes per principal

// Deterministic ids: a uuid-shaped hex of (kind, n).
export const uuid = (kind: number, n: number) => {
  const h = n.toString(16).padStart(12, "0");
  return `${kind.toString(16).padStart(8, "0")}-0000-4000-8000-${h}`;
};
const key = (c: number) => `tg_bench_${c}`;
const principalOf = (c: number) => Math.floor(c / CREDS_PER_PRINCIPAL);
const scopeOfGrant = (p: number, j: number) => (p + j * (SCOPES / GRANTS_PER_PRINCIPAL)) % SCOPES;
const grantId = (p: number, j: number) => uuid(5, p * GRANTS_PER_PRINCIPAL + j);

export type StateRecord =
  | { kind: "api"; value: { id: string; name: string; prefix: string; upstream: string } }
  | { kind: "route"; value: { id: string; apiId: string; method: string; pathTemplate: string; requirements: string[][]; public: boolean } }
  | { kind: "credential"; value: { id: string; principalId: string; hash: string; expiresAt: null } }
  | { kind: "grant"; value: { id: string; principalId: string; scopeId: string; expiresAt: null } };

/** The whole state as snapshot records, in snapshot order (APIs, routes, credentials, grants). */
export function* stateRecords(upstreamUrl: string): Generator<StateRecord> {
  for (let a = 0; a < APIS; a++) yield { kind: "api", value: { id: uuid(1, a), name: `api${a}`, prefix: `/api${a}`, upstream: upstreamUrl } };
  for (let a = 0; a < APIS; a++) {
    for (let r = 0; r < RESOURCES_PER_API; r++) {
      // One single-scope alternative per route, as an OpenAPI `security: [{ oauth: [s] }]` imports.
      const requirements = [[uuid(2, a * SCOPES_PER_API + (r % SCOPES_PER_API))]];
      const n = a * RESOURCES_PER_API + r;
      yield { kind: "route", value: { id: uuid(3, n * 2), apiId: uuid(1, a), method: "GET", pathTemplate: `/res${r}`, requirements, public: false } };
      yield { kind: "route", value: { id: uuid(3, n * 2 + 1), apiId: uuid(1, a), method: "GET", pathTemplate: `/res${r}/{id}`, requirements, public: false } };
    }
  }
  for (let c = 0; c < CREDENTIALS; c++) {
    yield { kind: "credential", value: { id: uuid(4, c), principalId: uuid(6, principalOf(c)), hash: createHash("sha256").update(key(c)).digest("hex"), expiresAt: null } };
  }
  for (let p = 0; p < PRINCIPALS; p++) {
    for (let j = 0; j < GRANTS_PER_PRINCIPAL; j++) {
      yield { kind: "grant", value: { id: grantId(p, j), principalId: uuid(6, p), scopeId: uuid(2, scopeOfGrant(p, j)), expiresAt: null } };
    }
  }
}

/**
 * An allowed request for credential c using its principal's j-th grant; `id` is the path's item id. Also the ids a
 * dashboard holding the same inventory knows it by (bench/signals-e2e.ts): its credential, principal and route
 * (the item template `/res{r}/{id}`, which is the endpoint id).
 */
export function allowedRequest(c: number, j: number, id: number) {
  const s = scopeOfGrant(principalOf(c), j);
  const a = Math.floor(s / SCOPES_PER_API);
  const r = (s % SCOPES_PER_API) + SCOPES_PER_API * (id % (RESOURCES_PER_API / SCOPES_PER_API));
  return {
    path: `/api${a}/res${r}/${id}`,
    key: key(c),
    grant: grantId(principalOf(c), j),
    credential: uuid(4, c),
    principal: principalOf(c),
    route: uuid(3, (a * RESOURCES_PER_API + r) * 2 + 1),
  };
}

/** The i-th request of the benchmarks' traffic (distinct credentials for i < CREDENTIALS: 7919 is prime). */
export const benchRequest = (i: number) => allowedRequest((i * 7919) % CREDENTIALS, i % GRANTS_PER_PRINCIPAL, i);

/** The benchmarks' traffic: `n` (default 1,000) distinct allowed (key, path) pairs spread over the whole state. */
export const benchRequests = (n = 1000) => Array.from({ length: n }, (_, i) => benchRequest(i));

/**
 * Streams the snapshot as NDJSON (PUT /admin/v1/snapshot, application/x-ndjson): the proxy validates and indexes it
 * line by line, never holding a 200 MB body. Shared here because every bench that pushes the state streams it alike.
 */
export async function* snapshotBody(upstreamUrl: string, idempotencyKey = "bench-snapshot"): AsyncGenerator<string> {
  let buf = JSON.stringify({ idempotencyKey }) + "\n";
  for (const r of stateRecords(upstreamUrl)) {
    buf += `{"kind":"${r.kind}","value":${JSON.stringify(r.value)}}\n`;
    if (buf.length > 1 << 20) {
      yield buf;
      buf = "";
    }
  }
  yield buf;
}
