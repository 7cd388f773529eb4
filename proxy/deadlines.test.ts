import { afterEach, expect, test } from "vitest";
import { UpstreamDeadlines, type Watched } from "./deadlines";

const made: UpstreamDeadlines[] = [];
afterEach(() => made.splice(0).forEach((d) => d.close()));

function deadlines(headersMs: number, bodyMs: number) {
  const d = new UpstreamDeadlines(headersMs, bodyMs);
  made.push(d);
  return d;
}

function exchange(log: string[], name: string): Watched {
  return { prevWatched: null, nextWatched: null, watched: false, since: 0, headersReceived: false, expire: (code) => log.push(`${name}:${code}`) };
}

test("links and unlinks in any order; unlinked exchanges point at nothing", () => {
  const d = deadlines(1000, 1000);
  const log: string[] = [];
  const xs = Array.from({ length: 50 }, (_, i) => exchange(log, String(i)));
  xs.forEach((x) => d.watch(x));
  d.watch(xs[0]); // watching twice does not link twice
  expect(d.size).toBe(50);
  for (const i of [49, 0, 25, ...Array.from({ length: 50 }, (_, k) => k)]) d.done(xs[i]);
  expect(d.size).toBe(0);
  for (const x of xs) expect([x.prevWatched, x.nextWatched, x.watched]).toEqual([null, null, false]);
  d.sweep(performance.now() + 10_000);
  expect(log).toEqual([]);
});

test("expires each exchange once, by the timeout of its phase, and only once it is due", () => {
  const d = deadlines(1000, 300);
  const log: string[] = [];
  const [waiting, streaming, quick] = ["waiting", "streaming", "quick"].map((n) => exchange(log, n));
  d.watch(waiting);
  d.watch(streaming);
  d.watch(quick);
  const t0 = waiting.since;
  streaming.headersReceived = true;
  d.done(quick);
  d.sweep(t0 + 299);
  expect(log).toEqual([]);
  d.sweep(t0 + 301);
  expect(log).toEqual(["streaming:UND_ERR_BODY_TIMEOUT"]);
  d.sweep(t0 + 1001);
  d.sweep(t0 + 5000);
  expect(log).toEqual(["streaming:UND_ERR_BODY_TIMEOUT", "waiting:UND_ERR_HEADERS_TIMEOUT"]);
  expect(d.size).toBe(0);
});

test("progress and backpressure move the deadline", () => {
  const d = deadlines(1000, 300);
  const log: string[] = [];
  const x = exchange(log, "x");
  d.watch(x, true); // still uploading: no headers clock yet
  d.sweep(performance.now() + 1e9);
  expect(log).toEqual([]);
  d.resume(x);
  x.headersReceived = true;
  d.hold(x); // the client is not reading
  d.sweep(performance.now() + 1e9);
  expect(log).toEqual([]);
  d.resume(x);
  d.sweep(x.since + 301);
  expect(log).toEqual(["x:UND_ERR_BODY_TIMEOUT"]);
});
