-- The session read's snapshot (see the PostgreSQL migration): roles and
-- organizations as the JSON arrays GET /session renders; NULL means "not
-- computed", and readers then aggregate the normalised tables. SQLite serves
-- one process, so no change is announced; triggers only clear snapshots that
-- another writer made stale.
ALTER TABLE users ADD COLUMN roles_view text;
--bun:split
ALTER TABLE users ADD COLUMN orgs_view text;
--bun:split
CREATE TRIGGER user_roles_clear_view_ins AFTER INSERT ON user_roles BEGIN
    UPDATE users SET roles_view = NULL WHERE id = NEW.user_id;
END;
--bun:split
CREATE TRIGGER user_roles_clear_view_upd AFTER UPDATE ON user_roles
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.role_id IS NOT NEW.role_id
BEGIN
    UPDATE users SET roles_view = NULL WHERE id IN (OLD.user_id, NEW.user_id);
END;
--bun:split
CREATE TRIGGER user_roles_clear_view_del AFTER DELETE ON user_roles BEGIN
    UPDATE users SET roles_view = NULL WHERE id = OLD.user_id;
END;
--bun:split
CREATE TRIGGER roles_clear_view AFTER UPDATE ON roles
WHEN OLD.name IS NOT NEW.name OR OLD.source IS NOT NEW.source
BEGIN
    UPDATE users SET roles_view = NULL WHERE id IN (SELECT user_id FROM user_roles WHERE role_id = OLD.id);
END;
--bun:split
CREATE TRIGGER user_organizations_clear_view_ins AFTER INSERT ON user_organizations BEGIN
    UPDATE users SET orgs_view = NULL WHERE id = NEW.user_id;
END;
--bun:split
CREATE TRIGGER user_organizations_clear_view_upd AFTER UPDATE ON user_organizations
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.organization_id IS NOT NEW.organization_id
BEGIN
    UPDATE users SET orgs_view = NULL WHERE id IN (OLD.user_id, NEW.user_id);
END;
--bun:split
CREATE TRIGGER user_organizations_clear_view_del AFTER DELETE ON user_organizations BEGIN
    UPDATE users SET orgs_view = NULL WHERE id = OLD.user_id;
END;
--bun:split
CREATE TRIGGER organizations_clear_view AFTER UPDATE ON organizations
WHEN OLD.id IS NOT NEW.id OR OLD.alias IS NOT NEW.alias OR OLD.name IS NOT NEW.name OR OLD.tenant_id IS NOT NEW.tenant_id
    OR OLD.external_id IS NOT NEW.external_id
BEGIN
    UPDATE users SET orgs_view = NULL
    WHERE id IN (SELECT user_id FROM user_organizations WHERE organization_id = OLD.id);
END;
--bun:split
CREATE TRIGGER organizations_clear_view_del BEFORE DELETE ON organizations BEGIN
    UPDATE users SET orgs_view = NULL
    WHERE id IN (SELECT user_id FROM user_organizations WHERE organization_id = OLD.id);
END;
