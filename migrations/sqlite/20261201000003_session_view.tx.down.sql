DROP TRIGGER IF EXISTS organizations_clear_view_del;
--bun:split
DROP TRIGGER IF EXISTS organizations_clear_view;
--bun:split
DROP TRIGGER IF EXISTS user_organizations_clear_view_del;
--bun:split
DROP TRIGGER IF EXISTS user_organizations_clear_view_upd;
--bun:split
DROP TRIGGER IF EXISTS user_organizations_clear_view_ins;
--bun:split
DROP TRIGGER IF EXISTS roles_clear_view;
--bun:split
DROP TRIGGER IF EXISTS user_roles_clear_view_del;
--bun:split
DROP TRIGGER IF EXISTS user_roles_clear_view_upd;
--bun:split
DROP TRIGGER IF EXISTS user_roles_clear_view_ins;
--bun:split
ALTER TABLE users DROP COLUMN orgs_view;
--bun:split
ALTER TABLE users DROP COLUMN roles_view;
