import { describe, expect, it } from "vitest";
import type { IncomingMessage } from "node:http";
import { SignalTable } from "./signals";
import { clientNetwork, networkOf } from "./network";

const T0 = Date.UTC(2026, 11, 6, 3, 0, 10);

describe("SignalTable", () => {
  it("keeps each credential's endpoints, networks and per-minute counts for one window", () => {
    const t = new SignalTable({ maxCredentials: 10, maxPairs: 100, maxNetworks: 2 });
    for (let i = 0; i < 5; i++) t.record("c1", "g1", "r1", "10.0.0.0/24", T0 + i);
    t.record("c1", "g2", "r2", "10.0.1.0/24", T0 + 60_000);
    t.record("c1", "g2", "r2", "10.0.2.0/24", T0 + 60_001); // over the network cap
    const [e] = t.take();
    expect(e).toEqual({
      credentialId: "c1",
      grantId: "g2",
      endpoints: ["r1", "r2"],
      networks: ["10.0.0.0/24", "10.0.1.0/24"],
      minutes: [
        { minute: "2026-12-06T03:00:00.000Z", count: 5 },
        { minute: "2026-12-06T03:01:00.000Z", count: 2 },
      ],
    });
    expect(t.take()).toEqual([]); // a window is reported once
  });

  it("drops what is over the credential and pair caps, and counts it", () => {
    const t = new SignalTable({ maxCredentials: 2, maxPairs: 3, maxNetworks: 4 });
    t.record("a", null, "r1", null, T0);
    t.record("a", null, "r2", null, T0);
    t.record("b", null, "r1", null, T0);
    t.record("b", null, "r2", null, T0); // 4th pair
    t.record("c", null, "r1", null, T0); // 3rd credential
    expect(t.dropped).toBe(2);
    expect(t.take().map((e) => [e.credentialId, e.endpoints, e.minutes[0].count])).toEqual([["a", ["r1", "r2"], 2], ["b", ["r1"], 2]]);
  });
});

describe("client network", () => {
  const req = (remoteAddress: string, xff?: string) => ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { "x-forwarded-for": xff } }) as unknown as IncomingMessage;

  it("is the /24 or /48 of the connection", () => {
    expect(networkOf("203.0.113.77")).toBe("203.0.113.0/24");
    expect(networkOf("::ffff:10.1.2.3")).toBe("10.1.2.0/24");
    expect(networkOf("2001:db8:1:2::5")).toBe("2001:db8:1::/48");
    expect(networkOf("2001:db8::1")).toBe("2001:db8:0::/48");
    expect(networkOf("not an address")).toBeNull();
  });

  it("believes X-Forwarded-For only from a trusted proxy, and takes its right-most untrusted hop", () => {
    const trusted = new Set(["10.9.9.9"]);
    expect(clientNetwork(req("198.51.100.4", "203.0.113.5"), trusted)).toBe("198.51.100.0/24");
    expect(clientNetwork(req("10.9.9.9", "1.2.3.4, 203.0.113.5"), trusted)).toBe("203.0.113.0/24");
    expect(clientNetwork(req("10.9.9.9", "203.0.113.5, 10.9.9.9"), trusted)).toBe("203.0.113.0/24");
    expect(clientNetwork(req("10.9.9.9"), trusted)).toBe("10.9.9.0/24");
    expect(clientNetwork(req("10.9.9.9", "203.0.113.5"), new Set())).toBe("10.9.9.0/24");
  });
});
