import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Runs the program `npm run audit:verify` runs, without npm's start-up cost, with
 * DATABASE_URL and the audit key settings in `env`: from TypeScript (tsx), or with
 * `bundled` through the npm script's launcher (scripts/audit-verify.mjs, which
 * bundles it). Its exit code and everything it printed.
 */
export async function auditVerify(env: Record<string, string>, args: string[] = [], { bundled = false } = {}): Promise<{ code: number; out: string }> {
  const program = bundled ? ["scripts/audit-verify.mjs"] : ["--import", "tsx", "scripts/audit-verify.ts"];
  try {
    const r = await run(process.execPath, [...program, ...args], { env: { ...process.env, ...env }, cwd: process.cwd() });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}
