-- SCIM userName is case-insensitive (RFC 7643 §4.1.1: caseExact false), so
-- uniqueness is enforced on its lower-case form.
CREATE UNIQUE INDEX "Principal_userName_lower_key" ON "Principal" (lower("userName")) WHERE "userName" IS NOT NULL;
