-- Issue 15 (set-based access import): a schema for the per-import staging tables.
-- An import streams its grants into an UNLOGGED table of its own here (COPY), computes
-- the plan as SQL against it and drops it afterwards. Prisma manages only "public", so
-- these short-lived tables never show as drift. The runtime role (docs/SECURITY.md) has
-- no CREATE on "public"; it may create tables here, and the schema holds nothing else.
CREATE SCHEMA IF NOT EXISTS "access_import_stage";
GRANT USAGE, CREATE ON SCHEMA "access_import_stage" TO PUBLIC;
