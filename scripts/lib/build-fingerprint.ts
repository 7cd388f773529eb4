import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

// What the production build depends on. A change in any of these files means
// `npm start` must rebuild; otherwise it reuses .next/ and starts in seconds.
const INPUTS = ["app", "components", "lib", "public", "package.json", "next.config.ts", "tsconfig.json", "postcss.config.mjs", "instrumentation.ts"];

function walk(p: string, out: string[]) {
  let st;
  try {
    st = statSync(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    if (p.endsWith(`${path.sep}generated`) || p.endsWith("node_modules")) return;
    for (const name of readdirSync(p).sort()) walk(path.join(p, name), out);
  } else out.push(p);
}

export function buildFingerprint(root = process.cwd()): string {
  const files: string[] = [];
  for (const input of INPUTS) walk(path.join(root, input), files);
  const h = createHash("sha256");
  for (const f of files) {
    if (/\.test\.tsx?$/.test(f)) continue;
    h.update(path.relative(root, f));
    h.update(readFileSync(f));
  }
  h.update(readFileSync(path.join(root, "prisma", "schema.prisma")));
  return h.digest("hex");
}
