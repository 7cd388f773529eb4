-- Issue 15 (inventory API): grants and keys changed or revoked directly (by an admin or an
-- inventory:write service token, outside a review) are AccessChange rows too, so their outbox
-- rows record enforcement like any other change. Additive enum values only.
ALTER TYPE "AccessChangeKind" ADD VALUE IF NOT EXISTS 'revoke_grant';
ALTER TYPE "AccessChangeKind" ADD VALUE IF NOT EXISTS 'change_grant';
ALTER TYPE "AccessChangeKind" ADD VALUE IF NOT EXISTS 'change_key';
