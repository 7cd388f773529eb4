import { expect, test } from "vitest";
import { words } from "@/components/format";

test("enum labels replace every underscore, not only the first", () => {
  expect(words("privileged_service_account")).toBe("privileged service account");
  expect(words("owner_fallback")).toBe("owner fallback");
  expect(words("dormant")).toBe("dormant");
});
