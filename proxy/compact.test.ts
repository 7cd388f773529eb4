import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeUuid, encodeUuid, GrantTable, Interner, SlotIndex } from "./compact";
import { EnforcementState } from "./state";
import type { GrantValue, Op } from "./schemas";

// A small deterministic PRNG so a failure reproduces.
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

describe("uuid words", () => {
  it("round-trips exactly, keeping upper-case digits, and refuses non-uuids", () => {
    const w = new Uint32Array(5);
    const samples = [randomUUID(), randomUUID().toUpperCase(), "aBcDeF01-2345-6789-AbCd-EF0123456789", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"];
    for (const s of samples) {
      expect(encodeUuid(s, w, 0)).toBe(true);
      expect(decodeUuid(w, 0)).toBe(s);
    }
    const lower = new Uint32Array(5);
    const upper = new Uint32Array(5);
    encodeUuid("abcdef01-2345-6789-abcd-ef0123456789", lower, 0);
    encodeUuid("ABCDEF01-2345-6789-ABCD-EF0123456789", upper, 0);
    expect([...lower.slice(0, 4)]).toEqual([...upper.slice(0, 4)]);
    expect(lower[4]).not.toBe(upper[4]);
    for (const bad of ["", "not-a-uuid", randomUUID() + "0", randomUUID().replace(/-/g, "x"), "g" + randomUUID().slice(1)]) expect(encodeUuid(bad, w, 0)).toBe(false);
  });
});

describe("SlotIndex", () => {
  it("agrees with a Map through many inserts and removals, including colliding probe runs", () => {
    const W = 2;
    const keys = new Uint32Array(4000 * W);
    const idx = new SlotIndex(W, keys);
    const model = new Map<string, number>();
    const next = rng(7);
    const q = new Uint32Array(W);
    const live = new Set<number>();
    for (let step = 0; step < 40_000; step++) {
      const slot = next(4000);
      if (live.has(slot)) {
        idx.remove(slot);
        model.delete(`${keys[slot * 2]},${keys[slot * 2 + 1]}`);
        live.delete(slot);
      } else {
        // Few distinct keys per slot range keeps probe runs long; keys stay unique per live slot.
        keys[slot * 2] = slot % 13;
        keys[slot * 2 + 1] = slot;
        idx.insert(slot);
        model.set(`${slot % 13},${slot}`, slot);
        live.add(slot);
      }
      if (step % 997 === 0) {
        for (let s = 0; s < 4000; s++) {
          q[0] = s % 13;
          q[1] = s;
          expect(idx.find(q)).toBe(model.get(`${s % 13},${s}`) ?? -1);
        }
      }
    }
    expect(idx.size).toBe(model.size);
  });
});

describe("Interner", () => {
  it("maps strings to indexes both ways and frees a counted index with its last reference", () => {
    const i = new Interner(true);
    const a = i.acquire("a");
    expect(i.acquire("a")).toBe(a);
    const b = i.acquire("b");
    expect(i.string(a)).toBe("a");
    expect(i.lookup("b")).toBe(b);
    i.release(a);
    expect(i.lookup("a")).toBe(a);
    i.release(a);
    expect(i.lookup("a")).toBe(-1);
    expect(i.acquire("c")).toBe(a); // reused
    expect(i.size).toBe(2);
  });
});

describe("GrantTable", () => {
  it("keeps insertion order across removals and slot reuse", () => {
    const t = new GrantTable();
    const ids = Array.from({ length: 3000 }, () => randomUUID());
    const slots = ids.map((id, n) => t.add(id, n % 50, n % 7, n));
    for (let n = 0; n < 3000; n += 3) t.remove(slots[n]);
    const extra = randomUUID();
    t.add(extra, 1, 1, Infinity);
    const order = [...t.slots()].map((s) => t.idOf(s));
    expect(order).toEqual([...ids.filter((_, n) => n % 3 !== 0), extra]);
    expect(t.size).toBe(2001);
    expect(t.slotOf(ids[0])).toBe(-1);
    expect(t.row(t.slotOf(ids[1]))).toEqual({ id: ids[1], principal: 1, scope: 1, expiresAt: 1 });
  });

  it("names a reused slot by its new grant, not the cached id of the removed one", () => {
    const t = new GrantTable();
    const first = randomUUID();
    const slot = t.add(first, 1, 1, Infinity);
    expect(t.usedIdOf(slot)).toBe(first); // now cached
    t.remove(slot);
    const second = randomUUID();
    expect(t.add(second, 2, 2, Infinity)).toBe(slot);
    expect(t.usedIdOf(slot)).toBe(second);
    expect(t.idOf(slot)).toBe(second);
    // Upper-case hex survives the cache as it does the encoding.
    const upper = randomUUID().toUpperCase();
    const s2 = t.add(upper, 3, 3, Infinity);
    expect([t.usedIdOf(s2), t.usedIdOf(s2)]).toEqual([upper, upper]);
  });
});

// The object-based state this replaced, reduced to its grant semantics: the
// model the compact state must agree with.
class GrantModel {
  byId = new Map<string, GrantValue>();
  enforced = new Map<string, string>(); // principal|scope -> grant id
  upsert(g: GrantValue) {
    this.remove(g.id);
    this.byId.set(g.id, g);
    this.enforced.set(`${g.principalId}|${g.scopeId}`, g.id);
  }
  remove(id: string) {
    const g = this.byId.get(id);
    if (!g) return;
    this.byId.delete(id);
    const k = `${g.principalId}|${g.scopeId}`;
    if (this.enforced.get(k) === id) this.enforced.delete(k);
  }
}

describe("EnforcementState with compact grants", () => {
  const principals = Array.from({ length: 20 }, () => randomUUID());
  const scopes = Array.from({ length: 6 }, () => randomUUID());
  const grantIds = Array.from({ length: 300 }, () => randomUUID());

  it("agrees with the object model through random upserts and deletes, and survives snapshot → state → snapshot", () => {
    const st = new EnforcementState();
    const model = new GrantModel();
    const next = rng(42);
    for (let step = 0; step < 5000; step++) {
      const id = grantIds[next(grantIds.length)];
      let op: Op;
      if (next(3) === 0) {
        op = { op: "delete", kind: "grant", id };
        model.remove(id);
      } else {
        const value: GrantValue = {
          id,
          principalId: principals[next(principals.length)],
          scopeId: scopes[next(scopes.length)],
          expiresAt: next(4) === 0 ? new Date(1_800_000_000_000 + next(1000) * 1000).toISOString() : null,
        };
        op = { op: "upsert", kind: "grant", value };
        model.upsert(value);
      }
      st.applyOps([op]);
      if (step % 250 === 0 || step === 4999) {
        expect(st.counts().grants).toBe(model.byId.size);
        for (const p of principals) {
          for (const s of scopes) {
            const want = model.enforced.get(`${p}|${s}`);
            expect(st.grantFor(p, s)?.id).toBe(want);
          }
        }
        for (const gid of grantIds) {
          const g = model.byId.get(gid);
          expect(st.grantsById.get(gid)).toEqual(g ? { ...g, expiresAt: g.expiresAt === null ? null : Date.parse(g.expiresAt) } : undefined);
        }
      }
    }
    const wire = [...st.values()];
    expect(wire.filter((v) => v.kind === "grant").map((v) => v.value)).toEqual([...model.byId.values()]);
    // Reloading the serialised state gives the same snapshot, and enforces what
    // the object model enforces after the same reload. (Both differ from before the
    // reload only for a pair whose enforced grant was deleted while an earlier grant
    // for the same pair was kept: the earlier one is enforced again after a reload.)
    const again = new EnforcementState();
    again.applyOps(wire.map((w) => ({ op: "upsert", ...w }) as Op));
    expect([...again.values()]).toEqual(wire);
    const reloaded = new GrantModel();
    for (const g of model.byId.values()) reloaded.upsert(g);
    for (const p of principals) for (const s of scopes) expect(again.grantFor(p, s)?.id).toBe(reloaded.enforced.get(`${p}|${s}`));
  });

  it("refuses a batch with a non-uuid grant id as a whole", () => {
    const st = new EnforcementState();
    const good = { id: randomUUID(), principalId: principals[0], scopeId: scopes[0], expiresAt: null };
    expect(() => st.validate([{ op: "upsert", kind: "grant", value: good }, { op: "upsert", kind: "grant", value: { ...good, id: "grant-1" } }])).toThrow(/uuid/);
    expect(st.counts().grants).toBe(0);
  });

  it("frees a principal's index once its last grant and credential are gone", () => {
    const st = new EnforcementState();
    const p = randomUUID();
    const g = randomUUID();
    const c = randomUUID();
    st.applyOps([
      { op: "upsert", kind: "grant", value: { id: g, principalId: p, scopeId: scopes[0], expiresAt: null } },
      { op: "upsert", kind: "credential", value: { id: c, principalId: p, hash: "a".repeat(64), expiresAt: null } },
    ]);
    const cred = st.credentialByHash("a".repeat(64))!;
    expect(st.grantSlot(cred.principal, scopes[0])).toBeGreaterThanOrEqual(0);
    st.applyOps([{ op: "delete", kind: "grant", id: g }]);
    expect(st.grantSlot(cred.principal, scopes[0])).toBe(-1);
    expect(st.grantFor(p, scopes[0])).toBeUndefined();
    st.applyOps([{ op: "delete", kind: "credential", id: c }]);
    // The index is free for the next principal, which must not inherit anything.
    const q = randomUUID();
    st.applyOps([{ op: "upsert", kind: "credential", value: { id: randomUUID(), principalId: q, hash: "b".repeat(64), expiresAt: null } }]);
    const qc = st.credentialByHash("b".repeat(64))!;
    expect(qc.principal).toBe(cred.principal);
    expect(st.grantSlot(qc.principal, scopes[0])).toBe(-1);
  });
});
