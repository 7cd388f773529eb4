/**
 * `npm run bench digest`: what the content digests of drift repair and of a
 * verified pull cost at a million grants, on each side (docs/BENCHMARKS.md,
 * "State digests"). The dashboard side (lib/enforcement/digest.ts) hashes the
 * snapshot it streams; the proxy side (proxy/digest.ts) hashes the state it built.
 */
import { randomUUID } from "node:crypto";
import { digestSnapshot } from "@/lib/enforcement/digest";
import { digestState } from "@/proxy/digest";
import { EnforcementState } from "@/proxy/state";

const N = Number(process.env.DIGEST_GRANTS ?? 1_000_000);
const principals = Array.from({ length: N / 10 }, () => randomUUID());
const scopes = Array.from({ length: 50 }, () => randomUUID());
const grants = Array.from({ length: N }, (_, i) => ({ id: randomUUID(), principalId: principals[i % principals.length], scopeId: scopes[i % scopes.length], expiresAt: null as string | null }));
const snapshot = { apis: [], routes: [], credentials: [], grants };
const state = new EnforcementState();
for (let i = 0; i < N; i += 10_000) state.applyOps(grants.slice(i, i + 10_000).map((value) => ({ op: "upsert" as const, kind: "grant" as const, value })));

const asOf = Date.now();
for (let round = 1; round <= 3; round++) {
  let t = performance.now();
  const dash = digestSnapshot(snapshot, asOf);
  const dashMs = performance.now() - t;
  t = performance.now();
  const prox = await digestState(state, asOf);
  const proxMs = performance.now() - t;
  if (dash.grant.digest !== prox.grant.digest) throw new Error("the two sides disagree");
  console.log(`round ${round}: ${N} grants — dashboard ${Math.round(dashMs)} ms, proxy ${Math.round(proxMs)} ms (event loop yielded every 5,000 entries), digests equal`);
}
