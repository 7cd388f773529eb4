import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import pino from "pino";
import { afterAll, expect, test } from "vitest";
import { snapshotNdjson } from "@/lib/enforcement/snapshot";
import { Core } from "./core";
import { NdjsonError, readNdjsonSnapshot } from "./ndjson-snapshot";
import { EnforcementState } from "./state";
import { sha, world } from "./test-support";

// A pushed full replacement is applied as its difference with the served state
// (state-diff.ts): the result must be exactly the snapshot, durable, and the
// served state object is changed in place rather than built a second time.

const log = pino({ level: "silent" });
const dir = mkdtempSync(path.join(os.tmpdir(), "tollgate-state-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Snapshot = ReturnType<typeof world>["snapshot"];
const sorted = (s: EnforcementState) => [...s.values()].map((v) => JSON.stringify(v)).sort();
const body = (s: Snapshot, key: string) => [...snapshotNdjson({ revision: 1, environment: "production", ...s, skipped: [] }, key)].join("");
const readable = (lines: Iterable<string>) => Readable.from([[...lines].join("")]);

test("a replacement applied as a difference equals the snapshot, survives a restart, and keeps the same state object", async () => {
  const file = path.join(dir, "a.ndjson");
  const w = world("http://127.0.0.1:9");
  const core = new Core("production", file, 1000, log);
  await core.replace("first", "h1", { idempotencyKey: "first", ...w.snapshot });
  const served = core.state!;

  // Second snapshot: a grant gone, one with a new expiry, a credential added, a route's requirement changed,
  // a second API taking over the first one's prefix while the first moves (a prefix swap).
  const second = randomUUID();
  const newKey = "tg_live_new_" + randomUUID();
  const next: Snapshot = {
    apis: [
      { id: w.ids.api, name: "orders", prefix: "/orders-v1", upstream: "http://127.0.0.1:9" },
      { id: second, name: "orders2", prefix: "/orders", upstream: "http://127.0.0.1:10/" },
    ],
    routes: w.snapshot.routes.map((r) => (r.id === w.ids.rExport ? { ...r, requirements: [[w.ids.readScope, w.ids.writeScope]] } : r)),
    credentials: [...w.snapshot.credentials, { id: randomUUID(), principalId: w.ids.bob, hash: sha(newKey), expiresAt: null }],
    grants: w.snapshot.grants.filter((g) => g.id !== w.ids.aliceWrite).map((g) => (g.id === w.ids.aliceRead ? { ...g, expiresAt: new Date(Date.now() + 3_600_000).toISOString() } : g)),
  };
  const secondBody = body(next, "second");
  const streamed = await readNdjsonSnapshot(readable([secondBody]), { maxBytes: 1e7, hashPrefix: "t\n", against: core.state });
  expect(streamed.state).toBeNull();
  const r = await core.replaceByDiff("second", streamed.hash, streamed.diff!);
  expect(r).toEqual({ revision: 2, applied: true });
  expect(core.state).toBe(served);
  expect(sorted(core.state!)).toEqual(sorted(EnforcementState.fromSnapshot(next)));
  expect(core.state!.apiFor("/orders/x", ["orders", "x"])?.api.id).toBe(second);
  expect(core.state!.grantsById.has(w.ids.aliceWrite)).toBe(false);
  // The same key again is a replay, not a second change.
  const again = await readNdjsonSnapshot(readable([secondBody]), { maxBytes: 1e7, hashPrefix: "t\n", against: core.state });
  expect(await core.replaceByDiff("second", again.hash, again.diff!)).toEqual({ revision: 2, applied: false });
  // Identical content: nothing to change, still one revision.
  const same = await readNdjsonSnapshot(readable([body(next, "third")]), { maxBytes: 1e7, hashPrefix: "t\n", against: core.state });
  expect(same.diff!.ops()).toEqual([]);
  await core.close();

  const reloaded = new Core("production", file, 1000, log);
  await reloaded.loadPersisted();
  expect(reloaded.revision).toBe(2);
  expect(sorted(reloaded.state!)).toEqual(sorted(EnforcementState.fromSnapshot(next)));
  await reloaded.close();
});

test("a streamed replacement read as a difference is checked like a fresh state: digest, prefixes, routes, grant ids", async () => {
  const w = world("http://127.0.0.1:9");
  const core = new Core("production", undefined, 1000, log);
  await core.replace("first", "h1", { idempotencyKey: "first", ...w.snapshot });
  const lines = [...snapshotNdjson({ revision: 1, environment: "production", ...w.snapshot, skipped: [] }, "k")];
  const read = (ls: string[]) => readNdjsonSnapshot(readable(ls), { maxBytes: 1e7, hashPrefix: "t\n", against: core.state }).then(() => "ok", (e: unknown) => (e instanceof NdjsonError ? e.message : String(e)));
  // Same counts and valid lines, one grant moved to another scope: only the digest tells.
  const tampered = lines.map((l) => l.replace(`"id":"${w.ids.aliceWrite}","principalId":"${w.ids.alice}","scopeId":"${w.ids.writeScope}"`, `"id":"${w.ids.aliceWrite}","principalId":"${w.ids.alice}","scopeId":"${w.ids.readScope}"`));
  expect(tampered).not.toEqual(lines);
  expect(await read(tampered)).toMatch(/do not match the digest/);
  expect(await read(lines)).toBe("ok");
  const noDigest = (ls: string[]) => [JSON.stringify({ idempotencyKey: "k" }) + "\n", ...ls];
  const api = (id: string, prefix: string) => JSON.stringify({ kind: "api", value: { id, name: "x", prefix, upstream: "http://127.0.0.1:9" } }) + "\n";
  expect(await read(noDigest([api(randomUUID(), "/a"), api(randomUUID(), "/a")]))).toBe("line 3: prefix /a is used by another api");
  expect(await read(noDigest([JSON.stringify({ kind: "route", value: { id: randomUUID(), apiId: w.ids.api, method: "GET", pathTemplate: "/x", requirements: [], public: true } }) + "\n"]))).toBe("line 2: unknown api");
  expect(core.revision).toBe(1);
  await core.close();
});
