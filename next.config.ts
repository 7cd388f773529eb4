import type { NextConfig } from "next";

// Security headers (docs/SECURITY.md). Next's inline bootstrap scripts and
// styles need 'unsafe-inline' unless every page is rendered with a nonce, which
// would make every page dynamic; we accept 'unsafe-inline' and keep
// 'unsafe-eval' out of production (dev tooling needs it).
const dev = process.env.NODE_ENV === "development";
const csp = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ""}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  `connect-src 'self'${dev ? " ws: wss:" : ""}`,
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");
const securityHeaders = [
  { key: "Content-Security-Policy", value: csp },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];
// HSTS only when the request arrived over TLS (a TLS-terminating proxy says so in X-Forwarded-Proto).
const hsts = { key: "Strict-Transport-Security", value: "max-age=31536000; includeSubDomains" };

const nextConfig: NextConfig = {
  async headers() {
    return [
      { source: "/:path*", headers: securityHeaders },
      { source: "/:path*", has: [{ type: "header", key: "x-forwarded-proto", value: "https" }], headers: [hsts] },
    ];
  },
  // The proxy/ folder is a separate service; keep it (and benchmarks) out of the app bundle.
  // pdfkit reads its standard-font metrics from its own folder at run time, so it cannot be bundled.
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "pg-boss", "pino", "@electric-sql/pglite", "@electric-sql/pglite-socket", "pdfkit"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
