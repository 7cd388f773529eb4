/**
 * `npm run bench [name…]`: runs the benchmarks one after another (never in
 * parallel: they compare side by side on a 2-core machine, and a second
 * benchmark running at the same time would skew the ratios).
 * Each prints its figures; copy them, with the command, into docs/BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// proxy-nginx runs inside proxy (its nginx phase), so not again on its own here; `npm run bench proxy-nginx` still runs it alone.
const ALL = ["inventory", "proxy", "soak-nginx", "signals-e2e", "review", "reports", "export", "discovery", "contention", "audit", "access-import", "access", "pages"];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length ? wanted : ALL.filter((n) => existsSync(`bench/${n}.ts`));

let failed = 0;
for (const name of names) {
  if (!existsSync(`bench/${name}.ts`)) {
    console.error(`[bench] no benchmark named ${name} (bench/${name}.ts)`);
    failed++;
    continue;
  }
  console.log(`\n[bench] ===== ${name} =====`);
  const r = spawnSync("npx", ["tsx", `bench/${name}.ts`], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
