import { describe, expect, it } from "vitest";
import { createWebhookInput } from "./admin";
import { webhookBody } from "./deliver";
import type { WebhookPayload } from "./events";
import { signatureHeader, verifySignature } from "./signature";

const firstError = (input: unknown) => {
  const r = createWebhookInput.safeParse(input);
  return r.success ? null : `${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`;
};
const ok = { name: "soc", url: "https://hooks.example.com/t", events: ["anomaly"] };

describe("webhook registration", () => {
  it("accepts https anywhere and plain http only to loopback", () => {
    expect(firstError(ok)).toBeNull();
    expect(firstError({ ...ok, url: "http://127.0.0.1:9999/hook" })).toBeNull();
    expect(firstError({ ...ok, url: "http://[::1]:9999/hook" })).toBeNull();
    expect(firstError({ ...ok, url: "http://localhost/hook" })).toBeNull();
    expect(firstError({ ...ok, url: "http://hooks.example.com/t" })).toBe("url: must use https:// (plain http:// only to 127.0.0.1, [::1] or localhost)");
    expect(firstError({ ...ok, url: "ftp://example.com/x" })).toBe("url: must use https://");
    expect(firstError({ ...ok, url: "https://user:pw@example.com/x" })).toBe("url: must not carry a user name or password");
    expect(firstError({ ...ok, url: "not a url" })).toBe("url: must be a URL like https://hooks.example.com/tollgate");
  });

  it("names the field of every other mistake", () => {
    expect(firstError({ ...ok, events: [] })).toBe("events: choose at least one event");
    expect(firstError({ ...ok, events: ["everything"] })).toBe("events.0: must be finding.opened, decision.enforced, campaign.overdue or anomaly");
    expect(firstError({ ...ok, name: "" })).toBe("name: is required");
    expect(firstError({ ...ok, format: "teams" })).toBe("format: must be tollgate or slack");
  });
});

describe("webhook signature", () => {
  const body = JSON.stringify({ hello: "world" });
  it("verifies its own header, and nothing altered or stale", () => {
    const now = 1_800_000_000;
    const h = signatureHeader("whsec_x", body, now);
    expect(h).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature("whsec_x", body, h, now + 10)).toBe(true);
    expect(verifySignature("whsec_y", body, h, now)).toBe(false);
    expect(verifySignature("whsec_x", body + " ", h, now)).toBe(false);
    expect(verifySignature("whsec_x", body, h, now + 301)).toBe(false);
    expect(verifySignature("whsec_x", body, h.replace("t=1800000000", "t=1800000100"), now)).toBe(false);
  });
});

describe("webhook payloads", () => {
  const p: WebhookPayload = { id: "anomaly:f1", type: "anomaly", createdAt: "2026-12-06T00:00:00.000Z", summary: "critical reactivated: job on orders", data: { findingId: "f1" } };
  it("sends the event as is, or a Slack incoming-webhook text", () => {
    expect(JSON.parse(webhookBody({ format: "tollgate" }, p))).toEqual(p);
    expect(JSON.parse(webhookBody({ format: "slack" }, p))).toEqual({ text: "[Tollgate] critical reactivated: job on orders" });
  });
});
