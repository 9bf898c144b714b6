ALTER TABLE sessions DROP COLUMN refresh_lease_expires;
--bun:split
ALTER TABLE sessions DROP COLUMN refresh_lease_owner;
