-- Issue 17, defect 1: an endpoint's security requirements are alternatives (OR) of scope sets
-- (AND), as in OpenAPI. Until now an "EndpointScope" row meant "any one of these scopes".
--
-- A row now belongs to one requirement (alternative) of its endpoint, named by "requirementId":
-- the rows sharing (endpointId, requirementId) are required together, different requirementIds
-- are alternatives. The column's database default gives every row inserted without one a fresh
-- id, i.e. a single-scope alternative: that is exactly the old "any one of" meaning, so
--   * existing rows (filled below by the volatile default, one id per row) keep today's behaviour,
--   * a writer that does not know about sets (seed data, shadow endpoints, another import path)
--     can never silently turn two scopes into an AND, nor an AND into an OR.

-- AlterTable: gen_random_uuid() is evaluated per existing row (volatile default => table rewrite).
ALTER TABLE "EndpointScope" ADD COLUMN "requirementId" UUID NOT NULL DEFAULT gen_random_uuid();

-- The same scope may appear in two alternatives ({a, b} or {a, c}).
ALTER TABLE "EndpointScope" DROP CONSTRAINT "EndpointScope_pkey";
ALTER TABLE "EndpointScope" ADD CONSTRAINT "EndpointScope_pkey" PRIMARY KEY ("endpointId", "requirementId", "scopeId");

-- Removing one member of a set must never widen it: when a scope is deleted (ON DELETE CASCADE)
-- or a single row goes, {a, b} would silently become {a}, and every holder of a would gain the
-- endpoint. So whenever rows go, the rest of their alternative goes with them; an endpoint left
-- with no alternative is protected with no scope (the proxy refuses it), the safe direction.
CREATE FUNCTION "EndpointScope_drop_broken_sets"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A statement trigger fires for every DELETE, also one that removed nothing (as the DELETE
  -- below does once the sets are gone): stop there, or it would recurse without end.
  IF NOT EXISTS (SELECT 1 FROM gone) THEN
    RETURN NULL;
  END IF;
  DELETE FROM "EndpointScope" es
  USING (SELECT DISTINCT "endpointId", "requirementId" FROM gone) g
  WHERE es."endpointId" = g."endpointId" AND es."requirementId" = g."requirementId";
  RETURN NULL;
END $$;

CREATE TRIGGER "EndpointScope_drop_broken_sets"
AFTER DELETE ON "EndpointScope"
REFERENCING OLD TABLE AS gone
FOR EACH STATEMENT EXECUTE FUNCTION "EndpointScope_drop_broken_sets"();
