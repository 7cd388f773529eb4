import { describe, expect, test } from "vitest";
import { requestAccessFormFields } from "./forms";

describe("request form fields", () => {
  const form = (until: string) => {
    const f = new FormData();
    f.append("scopeIds", "a");
    f.append("scopeIds", "b");
    f.append("until", until);
    return f;
  };

  test("the end date typed in the UTC field is read as UTC, whatever the server's time zone", () => {
    const f = requestAccessFormFields(form("2030-01-02T03:04"));
    expect(f).toMatchObject({ scopeIds: ["a", "b"], until: "2030-01-02T03:04Z" });
    expect(new Date(f.until as string).toISOString()).toBe("2030-01-02T03:04:00.000Z");
  });

  test("a date that names its zone, or is not a date, is passed on unchanged for the use case to judge", () => {
    expect(requestAccessFormFields(form("2030-01-02T03:04+02:00")).until).toBe("2030-01-02T03:04+02:00");
    expect(requestAccessFormFields(form("tomorrow")).until).toBe("tomorrow");
  });
});
