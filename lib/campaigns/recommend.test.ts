import { describe, expect, test } from "vitest";
import { acceptedJustification, isRisky, recommend } from "./recommend";

describe("the certification recommendation", () => {
  test("keep with no open findings; revoke when a finding says the grant is unneeded, naming every such rule in words", () => {
    expect(recommend([])).toEqual({ decision: "keep", because: "no open findings" });
    expect(recommend([{ rule: "dormant" }, { rule: "never_used" }, { rule: "dormant" }])).toEqual({ decision: "revoke", because: "dormant, never used" });
    expect(recommend([{ rule: "gone_from_source" }])?.because).toBe("gone from source");
  });

  test("reduce for an over-privileged scope, revoke when it is also dormant, none when a person must judge", () => {
    expect(recommend([{ rule: "over_privileged" }])?.decision).toBe("reduce");
    expect(recommend([{ rule: "over_privileged" }, { rule: "orphaned" }])?.decision).toBe("revoke");
    expect(recommend([{ rule: "stale_credential" }])).toBeNull();
    expect(recommend([{ rule: "privileged_service" }])).toBeNull();
  });

  test("an item with findings is risky; an accepted recommendation is recorded in words", () => {
    expect(isRisky([])).toBe(false);
    expect(isRisky([{ rule: "dormant" }])).toBe(true);
    expect(acceptedJustification({ decision: "revoke", because: "dormant" })).toBe("Accepted the recommendation to revoke (dormant)");
  });
});
