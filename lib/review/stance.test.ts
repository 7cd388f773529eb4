import { describe, expect, test } from "vitest";
import type { Actor } from "@/lib/auth/actor";
import { defaultReduce, KEEP_NONE, reduceChoiceError, REMOVES_NOTHING } from "./reduce-plan";
import { confirmStance, findingStance, queueStance } from "./stance";

const user = (roles: ("admin" | "reviewer" | "manager" | "auditor")[], id = "u1", principalId: string | null = "p-me"): Actor => ({ kind: "user", userId: id, email: `${id}@x.test`, name: id, roles, principalId });
const someone = { id: "p-other", kind: "user", managerId: null };

describe("who may decide in the queue (issue 19, point 5)", () => {
  test("only reviewers decide; admins, managers and auditors read, and are told why (separation of duties)", () => {
    expect(queueStance(user(["reviewer"]))).toEqual({ canDecide: true, canRunAnalysis: true, readOnlyReason: null });
    for (const [role, runs] of [["admin", true], ["manager", false], ["auditor", false]] as const) {
      const s = queueStance(user([role]));
      expect(s.canDecide).toBe(false);
      expect(s.canRunAnalysis).toBe(runs);
      expect(s.readOnlyReason).toMatch(/^Read-only\. .*separation of duties/);
    }
    // A second role that decides wins: an admin who is also a reviewer decides.
    expect(queueStance(user(["admin", "reviewer"])).canDecide).toBe(true);
    expect(queueStance({ kind: "service", tokenId: "t", name: "ci", scopes: ["findings:read", "findings:decide"] }).canDecide).toBe(false);
  });

  test("a reviewer is told up front when the grant is theirs or a credential they own", () => {
    expect(findingStance(user(["reviewer"]), someone)).toEqual({ canDecide: true, reason: null });
    expect(findingStance(user(["reviewer"]), { id: "p-me", kind: "user", managerId: null })).toEqual({ canDecide: false, reason: "Separation of duties: you cannot decide on a grant you hold" });
    expect(findingStance(user(["reviewer"]), { id: "sa", kind: "service_account", managerId: "p-me" }).reason).toBe("Separation of duties: you cannot decide on a credential you own");
    // A person they manage is not theirs to refuse here (the queue's rule is about holding and owning).
    expect(findingStance(user(["reviewer"]), { id: "p-report", kind: "user", managerId: "p-me" }).canDecide).toBe(true);
    expect(findingStance(user(["auditor"]), someone).reason).toMatch(/Auditors/);
  });
});

describe("two-person rule as each person meets a proposal (point 4)", () => {
  const proposal = { deciderId: "u1", enforcement: "proposed" };
  test("the proposer waits for someone else instead of being offered a Confirm they would be refused", () => {
    expect(confirmStance(user(["reviewer"], "u1"), someone, proposal)).toEqual({ mayConfirm: false, waiting: "You proposed this: waiting for another reviewer to confirm it." });
  });
  test("another reviewer may confirm; an admin, or a reviewer holding the grant, waits", () => {
    expect(confirmStance(user(["reviewer"], "u2", "p-2"), someone, proposal)).toEqual({ mayConfirm: true, waiting: null });
    expect(confirmStance(user(["admin"], "u3", "p-3"), someone, proposal).mayConfirm).toBe(false);
    expect(confirmStance(user(["reviewer"], "u4", "p-other"), someone, proposal).mayConfirm).toBe(false);
  });
  test("a decision that is not a proposal has nothing to confirm", () => {
    expect(confirmStance(user(["reviewer"], "u2"), someone, { deciderId: "u1", enforcement: "applied" })).toEqual({ mayConfirm: false, waiting: null });
  });
});

describe("reduce is offered only when it removes something (point 3)", () => {
  const s = (id: string, used: boolean) => ({ scopeId: id, usedInWindow: used });
  test("the default keeps what was used", () => {
    expect(defaultReduce([s("read", true), s("write", false)])).toEqual({ keepScopeIds: ["read"], removes: 1, offered: true });
    expect(defaultReduce([s("read", true), s("write", true)]).offered).toBe(false); // removes nothing
    expect(defaultReduce([s("read", false), s("write", false)]).offered).toBe(false); // removes everything: a revoke
    expect(defaultReduce([s("read", true)]).offered).toBe(false);
  });
  test("a chosen set that keeps nothing or everything is not a reduce, with the lib's own sentence", () => {
    const scopes = [s("read", true), s("write", false)];
    expect(reduceChoiceError(scopes, [])).toBe(KEEP_NONE);
    expect(reduceChoiceError(scopes, ["read", "write"])).toBe(REMOVES_NOTHING);
    expect(reduceChoiceError(scopes, ["read", "elsewhere"])).toBeNull();
  });
});
