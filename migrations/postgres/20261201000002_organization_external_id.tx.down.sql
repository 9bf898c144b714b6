ALTER TABLE organizations DROP COLUMN IF EXISTS external_id;
