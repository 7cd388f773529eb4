import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { z } from "zod";
import { formatEnvError } from "@/lib/config/env";

test("npm start refuses a bad variable and names it, before touching any database", () => {
  const r = spawnSync("npx", ["tsx", "scripts/start.ts"], {
    env: { ...process.env, PORT: "not-a-port", DATABASE_URL: "mysql://nope" },
    encoding: "utf8",
    timeout: 60_000,
  });
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
