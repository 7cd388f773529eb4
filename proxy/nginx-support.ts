// Runs Debian's nginx as a real peer in tests and benchmarks: a generated
// config in a temp dir (-p prefix), `daemon off`, stopped with SIGQUIT/SIGKILL.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { nginxMainLines, nginxTempPaths } from "../proxy-nginx/generate";

export const NGINX = process.env.NGINX_PATH ?? "/usr/sbin/nginx";
export const nginxAvailable = () => existsSync(NGINX);

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/** `serverBlock` is the body of one `server { }` listening on `port`. */
export async function startNginx(port: number, serverBlock: string, extraHttp = ""): Promise<Nginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tollgate-nginx-"));
  for (const d of ["logs", "tmp"]) mkdirSync(path.join(dir, d));
  writeFileSync(
    path.join(dir, "nginx.conf"),
    `${nginxMainLines(dir, 1, process.getuid?.() === 0)}
events { worker_connections 4096; }
http {
  access_log off;
${nginxTempPaths(dir)}
  ${extraHttp}
  server {
    listen 127.0.0.1:${port};
    ${serverBlock}
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "logs/error.log")], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${err}`);
    const up = await new Promise<boolean>((r) => {
      const s = net.connect(port, "127.0.0.1", () => (s.destroy(), r(true)));
      s.on("error", () => r(false));
    });
    if (up) break;
    if (Date.now() > until) throw new Error(`nginx did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => (rmSync(dir, { recursive: true, force: true }), resolve());
        if (child.exitCode !== null) return done();
        child.once("exit", done);
        child.kill("SIGQUIT");
        setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 3000).unref();
      }),
  };
}

/**
 * The internal location through which nginx's `auth_request /_tollgate_auth` asks the
 * proxy's forward-auth endpoint (on its data port) about each request: no body, the
 * original URI and method in headers. Put it in the server block next to the protected locations.
 */
export const forwardAuthLocation = (proxyDataPort: number) => `
    location = /_tollgate_auth {
      internal;
      proxy_pass http://127.0.0.1:${proxyDataPort}/_tollgate/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }`;
