// Runs the nginx data plane for tests and benchmarks: Debian's nginx with the
// generated config (generate.ts) plus the controller (controller.ts) as real
// processes. Not a test file itself.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { request } from "undici";
import { spawnUnderTsx } from "../proxy/test-support";
import { NGINX } from "../proxy/nginx-support";
import { controlSocket, writeNginxPlane } from "./generate";

export const LUA_MODULE = "/usr/lib/nginx/modules/ngx_http_lua_module.so";

/** Why the nginx data plane cannot run here, or null when it can. */
export function nginxPlaneMissing(): string | null {
  if (!existsSync(NGINX)) return `nginx is not installed (${NGINX}); apt-get install nginx-light`;
  if (!existsSync(LUA_MODULE)) return `the nginx Lua module is not installed (${LUA_MODULE}); apt-get install libnginx-mod-http-lua lua-cjson`;
  if (!["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/local/lib"].some((d) => existsSync(`${d}/lua/5.1/cjson.so`))) return "lua-cjson is not installed; apt-get install lua-cjson";
  return null;
}

async function waitFor(what: string, ok: () => Promise<boolean>, alive: () => string | null, ms = 180_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const dead = alive();
    if (dead !== null) throw new Error(`${what} exited: ${dead}`);
    if (await ok()) return;
    if (Date.now() > until) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((r) => {
    const s = net.connect(port, "127.0.0.1", () => (s.destroy(), r(true)));
    s.on("error", () => r(false));
  });

export interface NginxPlane {
  dir: string;
  dataUrl: string;
  adminUrl: string;
  nginxPids(): number[];
  startNginx(): Promise<void>;
  /** kill -9 of the master and its workers (what a crash or OOM kill does). */
  killNginx(): Promise<void>;
  /** `nginx -s reload`. */
  reload(): Promise<void>;
  startController(): Promise<void>;
  stopController(signal?: NodeJS.Signals): Promise<void>;
  /** The running controller's pid (memory samples), or null. */
  controllerPid(): number | null;
  output(): string;
  stop(): Promise<void>;
}

export async function spawnNginxPlane(env: Record<string, string>, ports: { data: number; admin: number }, workers = 1, dir = mkdtempSync(path.join(os.tmpdir(), "tollgate-nginx-plane-"))): Promise<NginxPlane> {
  const conf = writeNginxPlane({ prefix: dir, listen: { host: "127.0.0.1", port: ports.data }, workers, stateDictMb: env.NGINX_STATE_DICT_MB ? Number(env.NGINX_STATE_DICT_MB) : undefined, userRoot: process.getuid?.() === 0, refuseEncodedSpecials: env.PROXY_REFUSE_ENCODED_SPECIALS !== "false", exposeWorker: true });
  const root = path.resolve(import.meta.dirname, "..");
  let nginx: ChildProcess | null = null;
  let controller: ChildProcess | null = null;
  let out = "";
  const nginxArgs = ["-p", dir, "-c", conf, "-e", path.join(dir, "logs/error.log")];

  const plane: NginxPlane = {
    dir,
    dataUrl: `http://127.0.0.1:${ports.data}`,
    adminUrl: `http://127.0.0.1:${ports.admin}`,
    nginxPids: () => {
      const master = Number(readFileSync(path.join(dir, "nginx.pid"), "utf8"));
      const kids = readFileSync(`/proc/${master}/task/${master}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      return [master, ...kids];
    },
    async startNginx() {
      const child = spawn(NGINX, nginxArgs, { stdio: ["ignore", "ignore", "pipe"] });
      nginx = child;
      child.stderr!.on("data", (d) => (out += d));
      await waitFor("nginx", async () => (await portOpen(ports.data)) && existsSync(controlSocket(dir)), () => (child.exitCode !== null ? out : null), 10_000);
    },
    async killNginx() {
      const pids = plane.nginxPids();
      const exited = new Promise((r) => nginx!.once("exit", r));
      for (const pid of pids) process.kill(pid, "SIGKILL");
      await exited;
      // Workers are re-parented when the master dies first; wait until none is left holding the port.
      for (const pid of pids.slice(1)) while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")) await new Promise((r) => setTimeout(r, 20));
      rmSync(controlSocket(dir), { force: true });
    },
    async reload() {
      const before = plane.nginxPids().slice(1);
      await new Promise<void>((resolve, reject) => {
        const c = spawn(NGINX, [...nginxArgs, "-s", "reload"], { stdio: "ignore" });
        c.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`nginx -s reload exited ${code}`))));
      });
      // The reload is done when every worker is a new one.
      await waitFor("nginx reload", async () => plane.nginxPids().slice(1).every((p) => !before.includes(p)), () => null, 10_000);
    },
    async startController() {
      const child = spawnUnderTsx(root, "proxy-nginx/controller.ts", {
        PROXY_ADMIN_LISTEN: `127.0.0.1:${ports.admin}`,
        NGINX_CONTROL_SOCKET: controlSocket(dir),
        NGINX_SYNC_CHECK_MS: "50",
        ...env,
      });
      controller = child;
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (out += d));
      await waitFor(
        "controller",
        async () => {
          try {
            const r = await request(`${plane.adminUrl}/metrics`);
            await r.body.dump();
            return true;
          } catch {
            return false;
          }
        },
        () => (child.exitCode !== null ? out : null),
      );
    },
    stopController: (signal = "SIGTERM") =>
      new Promise<void>((resolve) => {
        const c = controller;
        if (!c || c.exitCode !== null) return resolve();
        c.once("exit", () => resolve());
        c.kill(signal);
      }),
    controllerPid: () => {
      const c = controller as ChildProcess | null;
      return c && c.exitCode === null ? (c.pid ?? null) : null;
    },
    output: () => out + (existsSync(path.join(dir, "logs/error.log")) ? readFileSync(path.join(dir, "logs/error.log"), "utf8") : ""),
    async stop() {
      await plane.stopController("SIGKILL");
      const n = nginx as ChildProcess | null;
      if (n && n.exitCode === null) {
        const exited = new Promise((r) => n.once("exit", r));
        n.kill("SIGQUIT");
        setTimeout(() => n.exitCode === null && n.kill("SIGKILL"), 3000).unref();
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await plane.startNginx();
  await plane.startController();
  return plane;
}
