import pino from "pino";
import { describe, expect, it } from "vitest";
import { Metrics } from "./metrics";
import { UsageAggregator, type UsageReport } from "./usage";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

// The aggregator against a real HTTP endpoint standing in for the dashboard's
// ingestion route: what it delivers, split by UTC day.
async function collect(run: (u: UsageAggregator) => void, metrics = new Metrics()): Promise<UsageReport[]> {
  const reports: UsageReport[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      reports.push(JSON.parse(body));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const u = new UsageAggregator(
    { proxyName: "p", environment: "production", dashboardUrl: url, dashboardToken: "t", flushMs: 60_000, maxEntries: 100, maxShadow: 10 },
    metrics,
    pino({ level: "silent" }),
  );
  run(u);
  await u.flush();
  await new Promise((r) => server.close(r));
  return reports;
}

describe("UsageAggregator", () => {
  it("counts a grant per UTC day, also when traffic crosses midnight", async () => {
    const g = "11111111-1111-4111-8111-111111111111";
    const beforeMidnight = Date.UTC(2026, 11, 1, 23, 59, 58);
    const afterMidnight = Date.UTC(2026, 11, 2, 0, 0, 1);
    const reports = await collect((u) => {
      u.recordAllowed(g, "c1", beforeMidnight);
      u.recordAllowed(g, "c1", beforeMidnight + 1);
      u.recordAllowed(g, "c1", afterMidnight);
    });
    const grants = reports.flatMap((r) => r.grants).sort((a, b) => a.day.localeCompare(b.day));
    expect(grants).toEqual([
      { grantId: g, day: "2026-12-01", count: 2, lastUsedAt: new Date(beforeMidnight + 1).toISOString() },
      { grantId: g, day: "2026-12-02", count: 1, lastUsedAt: new Date(afterMidnight).toISOString() },
    ]);
    expect(reports.flatMap((r) => r.credentials)).toEqual([{ credentialId: "c1", lastUsedAt: new Date(afterMidnight).toISOString() }]);
  });

  it("takes a count of requests at once (the nginx controller's drained counts) as that many single requests", async () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const one = await collect((u) => {
      for (let i = 0; i < 7; i++) u.recordRequest("g", "c", "r", now);
      for (let i = 0; i < 3; i++) u.recordShadow("api", "GET", "/x/{param}", "abcd", now);
    });
    const many = await collect((u) => {
      u.recordRequest("g", "c", "r", now, 4);
      u.recordRequest("g", "c", "r", now, 3);
      u.recordShadow("api", "GET", "/x/{param}", "abcd", now, 3);
    });
    const strip = (rs: UsageReport[]) => rs.map(({ grants, credentials, routes, shadow }) => ({ grants, credentials, routes, shadow }));
    expect(strip(many)).toEqual(strip(one));
    expect(many.flatMap((r) => r.grants)).toEqual([{ grantId: "g", day: "2026-12-02", count: 7, lastUsedAt: new Date(now).toISOString() }]);
    expect(many.flatMap((r) => r.shadow).map((o) => o.count)).toEqual([3]);
  });

  it("stops adding grant-days at the cap and counts what it dropped", async () => {
    const metrics = new Metrics();
    const now = Date.UTC(2026, 11, 2, 12);
    const reports = await collect((u) => {
      for (let i = 0; i < 150; i++) u.recordAllowed(`g${i}`, null, now);
      u.recordAllowed("g0", null, now + 1); // an entry it holds still counts
    }, metrics);
    const grants = reports.flatMap((r) => r.grants);
    expect(grants).toHaveLength(100);
    expect(grants.find((g) => g.grantId === "g0")?.count).toBe(2);
    expect(metrics.usageDropped).toBe(50);
  });

  it("counts allowed requests per route and UTC day (the dashboard's per-endpoint traffic)", async () => {
    const route = "22222222-2222-4222-8222-222222222222";
    const beforeMidnight = Date.UTC(2026, 11, 1, 23, 59, 59);
    const afterMidnight = Date.UTC(2026, 11, 2, 0, 0, 2);
    const reports = await collect((u) => {
      u.recordRoute(route, beforeMidnight);
      u.recordRoute(route, afterMidnight);
      u.recordRoute(route, afterMidnight + 5);
    });
    expect(reports.flatMap((r) => r.routes).sort((a, b) => a.day.localeCompare(b.day))).toEqual([
      { routeId: route, day: "2026-12-01", count: 1, lastUsedAt: new Date(beforeMidnight).toISOString() },
      { routeId: route, day: "2026-12-02", count: 2, lastUsedAt: new Date(afterMidnight + 5).toISOString() },
    ]);
  });
});
