import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { z } from "zod";
import { formatEnvError, parseEnv } from "@/lib/config/env";

/** `npm start` (scripts/start.ts) with these variables on top of ours. */
const start = (env: Record<string, string>) => spawnSync("npx", ["tsx", "scripts/start.ts"], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });

test("npm start refuses a bad variable and names it, before touching any database", () => {
  const r = start({ PORT: "not-a-port", DATABASE_URL: "mysql://nope" });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/PORT:/);
  expect(r.stderr).toMatch(/DATABASE_URL: must be a postgres/);
});

test("env errors list every offending variable by name", () => {
  const schema = z.object({ A: z.coerce.number(), B: z.string().url() });
  const parsed = schema.safeParse({ A: "x", B: "nope" });
  expect(parsed.success).toBe(false);
  const msg = formatEnvError(parsed.error!);
  expect(msg).toContain("A:");
  expect(msg).toContain("B:");
});

test("SMTP_URL must be smtp(s):// and needs SMTP_FROM", () => {
  const base = { DATABASE_URL: "postgresql://x@127.0.0.1/x" };
  expect(parseEnv({ ...base }).success).toBe(true);
  expect(parseEnv({ ...base, SMTP_URL: "smtp://mail.example.test:25", SMTP_FROM: "tollgate@example.test" }).success).toBe(true);
  const noFrom = parseEnv({ ...base, SMTP_URL: "smtps://u:p@mail.example.test:465" });
  expect(noFrom.success).toBe(false);
  expect(formatEnvError(noFrom.error!)).toContain("SMTP_FROM: is required when SMTP_URL is set");
  const badUrl = parseEnv({ ...base, SMTP_URL: "http://mail.example.test", SMTP_FROM: "tollgate@example.test" });
  expect(formatEnvError(badUrl.error!)).toContain("SMTP_URL: must be an smtp:// or smtps:// URL");
});

test("malformed TOLLGATE_*_CRON values are refused with the rest of the configuration, naming the variable", () => {
  const base = { DATABASE_URL: "postgresql://x@127.0.0.1/x" };
  const ok = parseEnv({ ...base, TOLLGATE_ANALYSIS_CRON: "5 * * * *", TOLLGATE_RECONCILE_CRON: "*/2 * * * *", TOLLGATE_CAMPAIGN_CRON: "0 9 * * 1" });
  expect(ok.success).toBe(true);
  expect(parseEnv(base).data).toMatchObject({ TOLLGATE_ANALYSIS_CRON: "17 * * * *", TOLLGATE_RECONCILE_CRON: "* * * * *", TOLLGATE_CAMPAIGN_CRON: "*/15 * * * *" });
  for (const [name, value] of [
    ["TOLLGATE_ANALYSIS_CRON", "61 * * * *"],
    ["TOLLGATE_RECONCILE_CRON", "every minute"],
    ["TOLLGATE_CAMPAIGN_CRON", "* * *"],
    ["TOLLGATE_CAMPAIGN_CRON", " "],
  ]) {
    const bad = parseEnv({ ...base, [name]: value });
    expect(bad.success, `${name}=${value}`).toBe(false);
    expect(formatEnvError(bad.error!)).toMatch(new RegExp(`${name}: .* is not a cron expression`));
  }
  expect(formatEnvError(parseEnv({ ...base, TOLLGATE_OPENAPI_MAX_NODES: "lots" }).error!)).toContain("TOLLGATE_OPENAPI_MAX_NODES:");
});

test("npm start refuses a malformed cron before starting anything", () => {
  const r = start({ DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none", TOLLGATE_RECONCILE_CRON: "61 * * * *" });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/TOLLGATE_RECONCILE_CRON: "61 \* \* \* \*" is not a cron expression/);
});
