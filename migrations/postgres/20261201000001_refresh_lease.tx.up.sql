-- The refresh lease: which refresh attempt may call the IdP for this session,
-- and until when. It is taken and released in short transactions, so no row
-- lock or connection is held while the IdP answers; an expired lease is free.
ALTER TABLE sessions ADD COLUMN refresh_lease_owner text;
--bun:split
ALTER TABLE sessions ADD COLUMN refresh_lease_expires timestamptz;
