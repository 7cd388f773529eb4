import { isIP } from "node:net";
import { z } from "zod";

// The proxy's configuration, parsed once from the environment. A bad value stops
// start-up with a message naming the variable.
const hostPort = z
  .string()
  .regex(/^[^:]+:\d{1,5}$/, "must be host:port, e.g. 127.0.0.1:8080")
  .transform((v) => {
    const i = v.lastIndexOf(":");
    return { host: v.slice(0, i), port: Number(v.slice(i + 1)) };
  })
  // A port over 65535 passed the pattern and crashed listen() without naming the variable.
  .refine((v) => v.port <= 65_535, "port must be 0-65535");

const bool = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1");

const ms = (def: number) => z.coerce.number().int().min(1).max(3_600_000).default(def);

export const configSchema = z.object({
  PROXY_LISTEN: hostPort.default({ host: "127.0.0.1", port: 8080 }),
  PROXY_ADMIN_LISTEN: hostPort.default({ host: "127.0.0.1", port: 8081 }),
  PROXY_ADMIN_TOKEN: z.string({ error: "is required (the bearer token for the admin API)" }).min(16, "must be at least 16 characters"),
  PROXY_NAME: z.string().min(1).default("proxy"),
  PROXY_ENVIRONMENT: z.string().min(1).default("production"),
  /** Where acknowledged state is persisted (snapshot file; the journal sits beside it as <file>.journal). */
  PROXY_STATE_FILE: z.string().min(1).optional(),
  DASHBOARD_URL: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//i.test(v), "must be an http:// or https:// URL")
    .optional(),
  DASHBOARD_TOKEN: z.string().min(1).optional(),
  PROXY_FORWARD_API_KEY: bool.default(false),
  /** Refuse (400) paths holding %25, %2F, %5C or %2E, which a double-decoding upstream would resolve differently. */
  PROXY_REFUSE_ENCODED_SPECIALS: bool.default(true),
  /** At start, how long to wait for a fresh pull from the dashboard before serving the persisted state. */
  PROXY_START_PULL_WAIT_MS: ms(10_000),
  PROXY_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PROXY_ACCESS_LOG: bool.default(true),
  PROXY_UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(64),
  PROXY_CONNECT_TIMEOUT_MS: ms(5_000),
  PROXY_HEADERS_TIMEOUT_MS: ms(30_000),
  PROXY_BODY_TIMEOUT_MS: ms(30_000),
  PROXY_UPSTREAM_KEEPALIVE_MS: ms(4_000),
  PROXY_USAGE_FLUSH_MS: ms(5_000),
  PROXY_SYNC_INTERVAL_MS: ms(300_000),
  PROXY_SHUTDOWN_GRACE_MS: ms(10_000),
  /** Admin request bodies up to this size (a full snapshot with a million grants is ~150 MB). */
  PROXY_ADMIN_MAX_BODY_MB: z.coerce.number().int().min(1).max(4096).default(512),
  /** Journal entries before the journal is compacted into the snapshot file. */
  PROXY_COMPACT_EVERY: z.coerce.number().int().min(1).default(5_000),
  /** Distinct grant-day usage entries held while the dashboard is unreachable. */
  PROXY_USAGE_MAX_ENTRIES: z.coerce.number().int().min(100).default(1_000_000),
  PROXY_SHADOW_MAX_ENTRIES: z.coerce.number().int().min(10).default(10_000),
  /** Usage signals per credential (endpoints, client networks, per-minute counts) for the anomaly rules. */
  PROXY_SIGNALS: bool.default(true),
  /** Credentials and (credential, endpoint) pairs held per report window (see proxy/signals.ts). */
  PROXY_SIGNAL_MAX_CREDENTIALS: z.coerce.number().int().min(10).default(200_000),
  PROXY_SIGNAL_MAX_PAIRS: z.coerce.number().int().min(10).default(1_000_000),
  PROXY_SIGNAL_MAX_NETWORKS: z.coerce.number().int().min(1).max(64).default(4),
  /** Exact addresses of proxies in front of this one whose X-Forwarded-For names the client (comma-separated). */
  PROXY_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every((a) => isIP(a) !== 0), "must be a comma-separated list of IP addresses"),
});

export type ProxyConfig = z.infer<typeof configSchema>;
export type ProxyConfigInput = z.input<typeof configSchema>;

export function parseConfig(env: Record<string, string | undefined>): ProxyConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid proxy configuration:\n${lines.join("\n")}`);
  }
  if (parsed.data.DASHBOARD_URL && !parsed.data.DASHBOARD_TOKEN) {
    throw new Error("Invalid proxy configuration:\n  DASHBOARD_TOKEN: required when DASHBOARD_URL is set");
  }
  return parsed.data;
}
