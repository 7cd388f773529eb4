import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The proxy/ folder is a separate service; keep it (and benchmarks) out of the app bundle.
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "pg-boss", "pino", "@electric-sql/pglite", "@electric-sql/pglite-socket"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
