/**
 * An OpenAPI 3.0 description for a test, in the order a real one is written:
 * version, info, one server, the security schemes, top-level security when given, paths.
 */
export function openApiDoc<S extends object, P extends object>(o: { openapi: string; title: string; version: string; server: string; securitySchemes: S; security?: unknown[]; paths: P }) {
  return {
    openapi: o.openapi,
    info: { title: o.title, version: o.version },
    servers: [{ url: o.server }],
    components: { securitySchemes: o.securitySchemes },
    ...(o.security ? { security: o.security } : {}),
    paths: o.paths,
  };
}
