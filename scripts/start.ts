/**
 * `npm start`: runs Tollgate with one command.
 *
 * - No DATABASE_URL: starts the embedded Postgres (PGlite over the wire
 *   protocol) on TOLLGATE_DATA_DIR, in demo mode (local demo sign-in).
 * - DATABASE_URL set: uses that Postgres.
 * Then: applies migrations, seeds demo data the first time (embedded/demo
 * only), builds the app when the sources changed since the last build, and
 * serves the dashboard plus the enforcement proxy beside it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { formatEnvError, parseEnv } from "@/lib/config/env";
import { startEmbeddedDb, type EmbeddedDb } from "@/lib/db/embedded";
import { checkRuntimeRole, provisionRuntimeRole, roleOfUrl } from "@/lib/db/runtime-role";
import { ensureSigningKeyFile } from "@/lib/audit/signing";
import { buildFingerprint } from "./lib/build-fingerprint";
import { supervise, type Supervisor } from "./lib/supervise";

const startEnv = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOSTNAME: z.string().default("127.0.0.1"),
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgres:// or postgresql:// URL")
    .optional(),
  /** The tables' owner, for migrations; DATABASE_URL is then the runtime role (docs/SECURITY.md, "Database roles"). */
  DATABASE_OWNER_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgres:// or postgresql:// URL")
    .optional(),
  TOLLGATE_DATA_DIR: z.string().default(".data"),
  TOLLGATE_EMBEDDED_DB_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  TOLLGATE_PROXY: z.enum(["0", "1"]).default("1"),
  PROXY_LISTEN: z.string().default("127.0.0.1:8080"),
  PROXY_ADMIN_LISTEN: z.string().default("127.0.0.1:8081"),
});

const dev = process.argv.includes("--dev");
const supervisors: Supervisor[] = [];
let embedded: EmbeddedDb | undefined;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    // Async spawn on purpose: the embedded database lives in this process and
    // must keep answering while the child (migrate, build) talks to it.
    const child = spawn(cmd, args, { stdio: "inherit", env });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}`))));
    child.on("error", reject);
  });
}

function persistentSecret(dir: string, name: string): string {
  const file = path.join(dir, name);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const value = randomBytes(32).toString("hex");
  writeFileSync(file, value, { mode: 0o600 });
  return value;
}

function signalGroup(c: ChildProcess, signal: NodeJS.Signals) {
  try {
    if (c.pid) process.kill(-c.pid, signal);
  } catch {
    // already gone
  }
}

let shuttingDown = false;
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  // Children run in their own process groups (npx starts the real servers as
  // grandchildren), so the whole group is signalled, then killed if it lingers.
  await Promise.all(
    supervisors.map((s) =>
      s.stop(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once("exit", r));
        signalGroup(c, "SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        signalGroup(c, "SIGKILL");
      }),
    ),
  );
  await embedded?.stop().catch(() => undefined);
  process.exit(code);
}

async function main() {
  const parsed = startEnv.safeParse(process.env);
  if (!parsed.success) {
    console.error(`Invalid configuration:\n${formatEnvError(parsed.error)}`);
    process.exit(2);
  }
  const cfg = parsed.data;
  // The app's own settings (cron schedules, import limits, OIDC, SMTP…) are checked now too, before
  // any database starts; DATABASE_URL may still be the embedded one, decided below.
  const app = parseEnv({ ...process.env, DATABASE_URL: cfg.DATABASE_URL ?? "postgresql://embedded@127.0.0.1/tollgate" });
  if (!app.success) {
    console.error(`Invalid configuration:\n${formatEnvError(app.error)}`);
    process.exit(2);
  }
  const dataDir = path.resolve(cfg.TOLLGATE_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });

  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(cfg.PORT) };
  if (!cfg.DATABASE_URL) {
    console.log(`[tollgate] no DATABASE_URL: starting the embedded database in ${path.join(dataDir, "pglite")}`);
    embedded = await startEmbeddedDb({ dataDir: path.join(dataDir, "pglite"), port: cfg.TOLLGATE_EMBEDDED_DB_PORT });
    env.DATABASE_URL = embedded.url;
    env.TOLLGATE_DEMO ??= "1";
    // PGlite runs one backend; a small pool avoids queueing inside the multiplexer.
    env.DATABASE_POOL_SIZE ??= "5";
    // LISTEN/NOTIFY is never delivered through the embedded server (one shared
    // backend); the delivery worker is woken in-process and by its poll instead.
    env.TOLLGATE_OUTBOX_LISTEN ??= "0";
  }
  env.NEXTAUTH_URL ??= `http://localhost:${cfg.PORT}`;
  env.NEXTAUTH_SECRET ??= persistentSecret(dataDir, "nextauth-secret");
  env.PROXY_ADMIN_TOKEN ??= persistentSecret(dataDir, "proxy-admin-token");

  if (cfg.DATABASE_OWNER_URL && !cfg.DATABASE_URL) {
    console.error("[tollgate] DATABASE_OWNER_URL is set but DATABASE_URL is not: set both (owner for migrations, runtime role for the app)");
    process.exit(2);
  }
  console.log(`[tollgate] applying migrations${cfg.DATABASE_OWNER_URL ? " as the owner role (DATABASE_OWNER_URL)" : ""}`);
  await run("npx", ["prisma", "migrate", "deploy"], cfg.DATABASE_OWNER_URL ? { ...env, DATABASE_URL: cfg.DATABASE_OWNER_URL } : env);
  await checkDatabaseRoles(cfg.DATABASE_OWNER_URL, env);
  prepareAuditSigning(dataDir, env);

  if (env.TOLLGATE_DEMO === "1") {
    // Loaded only in demo mode: it pulls in the seed, which a production start never needs.
    const { prepareDemo } = await import("./lib/prepare-demo");
    const demo = await prepareDemo({ databaseUrl: env.DATABASE_URL!, dataDir, env, proxyAdminListen: cfg.PROXY_ADMIN_LISTEN });
    Object.assign(env, demo.env);
  }

  if (!dev) {
    const fingerprint = buildFingerprint();
    const stampFile = path.resolve(".next", "tollgate-build-stamp");
    const built = existsSync(stampFile) ? readFileSync(stampFile, "utf8") : "";
    if (built !== fingerprint) {
      console.log("[tollgate] building the dashboard (first start or sources changed)");
      await run("npx", ["next", "build"], { ...env, NODE_ENV: "production" });
      writeFileSync(stampFile, fingerprint);
    }
  }

  // The proxy and the dashboard are supervised separately: either one crashing is logged and
  // restarted with backoff, and neither takes the other down.
  if (cfg.TOLLGATE_PROXY === "1" && existsSync(path.resolve("proxy", "main.ts"))) {
    const proxyEnv = { ...env, PROXY_LISTEN: cfg.PROXY_LISTEN, PROXY_ADMIN_LISTEN: cfg.PROXY_ADMIN_LISTEN };
    supervisors.push(supervise("enforcement proxy", () => spawn("npx", ["tsx", "proxy/main.ts"], { stdio: "inherit", detached: true, env: proxyEnv })));
    console.log(`[tollgate] enforcement proxy: data plane http://${cfg.PROXY_LISTEN}, admin http://${cfg.PROXY_ADMIN_LISTEN}`);
  }

  const nextArgs = ["next", dev ? "dev" : "start", "-p", String(cfg.PORT), "-H", cfg.HOSTNAME];
  const nextEnv = dev ? env : { ...env, NODE_ENV: "production" as const };
  supervisors.push(supervise("dashboard", () => spawn("npx", nextArgs, { stdio: "inherit", detached: true, env: nextEnv })));
  console.log(`[tollgate] dashboard: http://localhost:${cfg.PORT}${env.TOLLGATE_DEMO === "1" ? "  (demo sign-in: admin@tollgate.test / tollgate-demo)" : ""}`);

  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
}

/**
 * The app must not run as a role that can rewrite the audit log
 * (docs/SECURITY.md, "Database roles"). With DATABASE_OWNER_URL, the runtime
 * role gets its grants on every table (after migrations, so new tables are
 * covered). Then the role DATABASE_URL connects as is checked: outside demo
 * mode a role that could disable the audit trigger stops the start.
 */
async function checkDatabaseRoles(ownerUrl: string | undefined, env: NodeJS.ProcessEnv) {
  const banner = (lines: string[]) => console.warn(["", "!".repeat(100), ...lines.map((l) => `!! ${l}`), "!".repeat(100), ""].join("\n"));
  if (embedded) {
    banner([
      "WARNING: the embedded database (PGlite) cannot keep database roles apart: every connection shares one",
      "superuser session, so the app could disable the audit log's append-only trigger. The hash chain and the",
      "signed checkpoints still detect tampering. For audit evidence that must hold against the people who run",
      "the system, use a real PostgreSQL with a runtime role (README, \"Database roles\").",
    ]);
    return;
  }
  if (ownerUrl) await provisionRuntimeRole(ownerUrl, roleOfUrl(env.DATABASE_URL!));
  const check = await checkRuntimeRole(env.DATABASE_URL!);
  if (check.problems.length === 0) {
    console.log(`[tollgate] database role ${check.role}: may only insert into the audit tables`);
    return;
  }
  const lines = [
    `The app's database role ${check.role} could rewrite the audit log:`,
    ...check.problems.map((p) => `  - ${p}`),
    "Run the app as a runtime role and migrations as the owner: DATABASE_URL=<runtime role>,",
    "DATABASE_OWNER_URL=<owner> (README, \"Database roles\").",
  ];
  if (env.TOLLGATE_DEMO === "1") {
    banner(["WARNING (demo mode, starting anyway):", ...lines]);
    return;
  }
  console.error(["[tollgate] refusing to start.", ...lines].join("\n"));
  process.exit(2);
}

/**
 * Demo mode generates the audit signing key into the data directory (mode
 * 0600) and writes its public half beside it; the checkpoint file goes to
 * <data dir>/audit-checkpoints unless TOLLGATE_AUDIT_CHECKPOINT_DIR says otherwise.
 */
function prepareAuditSigning(dataDir: string, env: NodeJS.ProcessEnv) {
  env.TOLLGATE_AUDIT_CHECKPOINT_DIR ??= path.join(dataDir, "audit-checkpoints");
  if (env.TOLLGATE_DEMO === "1" && !env.TOLLGATE_AUDIT_SIGNING_KEY && !env.TOLLGATE_AUDIT_SIGNING_KEY_FILE) {
    const keyFile = path.join(dataDir, "audit-signing-key.pem");
    const signer = ensureSigningKeyFile(keyFile);
    writeFileSync(path.join(dataDir, "audit-public-key.pem"), signer.publicKeyPem);
    env.TOLLGATE_AUDIT_SIGNING_KEY_FILE = keyFile;
    console.log(`[tollgate] audit checkpoints signed with ${signer.keyId} (public key: ${path.join(dataDir, "audit-public-key.pem")})`);
  } else if (!env.TOLLGATE_AUDIT_SIGNING_KEY && !env.TOLLGATE_AUDIT_SIGNING_KEY_FILE) {
    console.warn("[tollgate] WARNING: no audit signing key (TOLLGATE_AUDIT_SIGNING_KEY_FILE): no signed checkpoints, so truncating the audit log cannot be detected");
  }
}

main().catch(async (err) => {
  console.error(`[tollgate] start failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
});
