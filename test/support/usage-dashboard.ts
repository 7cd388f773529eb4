import http from "node:http";
import type { Actor } from "@/lib/auth/actor";
import type { PrismaClient } from "@/lib/db";
import { ingestUsageReport } from "@/lib/usage/ingest";

// The dashboard's usage endpoint for tests that run a real proxy, backed by the real ingest (the proxy posts its
// reports here); shared because the usage tests each served it the same way. Anything but POST /api/v1/usage is a 503.
export function usageDashboard(actor: Actor, client: PrismaClient, onIngestError: (e: unknown) => void = () => {}): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      if (req.method !== "POST" || req.url !== "/api/v1/usage") return void res.writeHead(503).end();
      try {
        await ingestUsageReport(actor, JSON.parse(Buffer.concat(chunks).toString()), client);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch (e) {
        onIngestError(e);
        res.writeHead(500).end();
      }
    });
  });
}
