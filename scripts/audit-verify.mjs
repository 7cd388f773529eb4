// `npm run audit:verify` (the program is scripts/audit-verify.ts; see there for its options).
//
// Plain node, not tsx: on a busy 2-core machine tsx's start-up (its CLI spawning a second node, then
// compiling and loading ~100 TypeScript modules through module hooks) cost 7-13 s of the 30 s that
// verifying a million events may take. So the program is bundled once with esbuild (the copy tsx
// itself depends on) into node_modules/.cache, rebuilt whenever one of its source files is newer than
// the bundle, and run from there. npm packages stay external and load from node_modules as usual.
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "node_modules", ".cache", "tollgate", "audit-verify");
const manifest = path.join(outDir, "inputs.json");
const bundle = path.join(outDir, "audit-verify.mjs");

function stale() {
  if (!existsSync(bundle) || !existsSync(manifest)) return true;
  const built = statSync(bundle).mtimeMs;
  const inputs = JSON.parse(readFileSync(manifest, "utf8"));
  return [fileURLToPath(import.meta.url), ...inputs.map((f) => path.join(root, f))].some((f) => !existsSync(f) || statSync(f).mtimeMs > built);
}

async function rebuild() {
  const esbuild = createRequire(createRequire(import.meta.url).resolve("tsx/package.json"))("esbuild");
  const tmp = `${outDir}.tmp-${process.pid}`;
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { "audit-verify": "scripts/audit-verify.ts", "chain-worker": "lib/audit/chain-worker.ts" },
    outdir: tmp,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    metafile: true,
    logLevel: "error",
  });
  writeFileSync(path.join(tmp, "inputs.json"), JSON.stringify(Object.keys(result.metafile.inputs).filter((f) => !f.startsWith("node_modules/"))));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(path.dirname(outDir), { recursive: true });
  try {
    renameSync(tmp, outDir);
    return bundle;
  } catch {
    // Another run renamed its build into place first: use ours for this run.
    return path.join(tmp, "audit-verify.mjs");
  }
}

const entry = stale() ? await rebuild() : bundle;
await import(pathToFileURL(entry).href);
