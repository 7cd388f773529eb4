/**
 * `npm test`: the whole suite.
 *  1. vitest: unit and integration tests (each file makes its own database).
 *  2. Playwright: builds the app, starts the e2e stack (fresh seeded database,
 *     real proxy, real upstream, real OIDC provider, `next start`) and drives
 *     real Chromium against it.
 * Ends with one plain summary line: "tests: N passed, N failed".
 *
 * Flags: --unit (vitest only), --e2e (Playwright only); other args go to Playwright.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

const argv = process.argv.slice(2);
const onlyUnit = argv.includes("--unit");
const onlyE2e = argv.includes("--e2e");
const passThrough = argv.filter((a) => a !== "--unit" && a !== "--e2e");

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: "inherit", env });
    child.on("exit", (code) => resolve(code ?? 1));
    child.on("error", () => resolve(1));
  });
}

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

function vitestTally(file: string): Tally | null {
  if (!existsSync(file)) return null;
  const r = JSON.parse(readFileSync(file, "utf8"));
  return { passed: r.numPassedTests ?? 0, failed: (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0), skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0) };
}

function playwrightTally(file: string): Tally | null {
  if (!existsSync(file)) return null;
  const s = JSON.parse(readFileSync(file, "utf8")).stats ?? {};
  return { passed: (s.expected ?? 0) + (s.flaky ?? 0), failed: s.unexpected ?? 0, skipped: s.skipped ?? 0 };
}

async function main() {
  mkdirSync("test-results", { recursive: true });
  const total: Tally = { passed: 0, failed: 0, skipped: 0 };
  let exit = 0;
  const add = (t: Tally | null, code: number, what: string) => {
    if (t) {
      total.passed += t.passed;
      total.failed += t.failed;
      total.skipped += t.skipped;
    }
    if (code !== 0) {
      exit = 1;
      if (!t || t.failed === 0) {
        total.failed += 1; // the runner itself failed (e.g. build or set-up error)
        console.error(`[test] ${what} failed with exit code ${code}`);
      }
    }
  };

  if (!onlyE2e) {
    rmSync("test-results/vitest.json", { force: true });
    const code = await run("npx", ["vitest", "run", "--reporter=default", "--reporter=json", "--outputFile.json=test-results/vitest.json"]);
    add(vitestTally("test-results/vitest.json"), code, "vitest");
  }

  if (!onlyUnit) {
    rmSync("test-results/playwright.json", { force: true });
    const code = await run("npx", ["tsx", "e2e/support/run-e2e.ts", ...passThrough]);
    add(playwrightTally("test-results/playwright.json"), code, "playwright");
  }

  console.log(`\ntests: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`);
  process.exit(exit);
}

void main();
