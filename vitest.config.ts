import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": import.meta.dirname } },
  test: {
    include: ["lib/**/*.test.ts", "proxy/**/*.test.ts", "proxy-nginx/**/*.test.ts", "test/**/*.test.ts", "scripts/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2-core machines: files run in parallel, but not so many that Postgres and the proxies starve.
    maxWorkers: 2,
  },
});
