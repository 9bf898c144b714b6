DROP TRIGGER IF EXISTS users_announce ON users;
--bun:split
DROP FUNCTION IF EXISTS authbff_announce_user();
--bun:split
DROP TRIGGER IF EXISTS sessions_announce ON sessions;
--bun:split
DROP FUNCTION IF EXISTS authbff_announce_session();
--bun:split
DROP TRIGGER IF EXISTS organizations_clear_view_del ON organizations;
--bun:split
DROP TRIGGER IF EXISTS organizations_clear_view ON organizations;
--bun:split
DROP FUNCTION IF EXISTS authbff_clear_org_members_view();
--bun:split
DROP TRIGGER IF EXISTS user_organizations_clear_view_upd ON user_organizations;
--bun:split
DROP TRIGGER IF EXISTS user_organizations_clear_view ON user_organizations;
--bun:split
DROP FUNCTION IF EXISTS authbff_clear_orgs_view();
--bun:split
DROP TRIGGER IF EXISTS roles_clear_view ON roles;
--bun:split
DROP FUNCTION IF EXISTS authbff_clear_role_holders_view();
--bun:split
DROP TRIGGER IF EXISTS user_roles_clear_view_upd ON user_roles;
--bun:split
DROP TRIGGER IF EXISTS user_roles_clear_view ON user_roles;
--bun:split
DROP FUNCTION IF EXISTS authbff_clear_roles_view();
--bun:split
ALTER TABLE users DROP COLUMN IF EXISTS orgs_view, DROP COLUMN IF EXISTS roles_view;
