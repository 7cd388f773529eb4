import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP upstream for proxy tests and the e2e stack: answers every
 * request with JSON describing what it received (method, path, the principal
 * header the proxy adds, whether a raw key leaked through), echoing bodies.
 */
export interface Upstream {
  url: string;
  port: number;
  requests: number;
  close(): Promise<void>;
}

export async function startUpstream(port = 0): Promise<Upstream> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          ok: true,
          method: req.method,
          path: req.url,
          principal: req.headers["x-tollgate-principal"] ?? null,
          sawApiKey: Boolean(req.headers["x-api-key"] || req.headers.authorization),
          headerNames: Object.keys(req.headers),
          body,
        }),
      );
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
