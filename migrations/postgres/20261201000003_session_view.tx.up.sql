-- The session read's snapshot: each user's roles and organizations, as the
-- JSON arrays GET /session renders, written whenever they are synced, so the
-- hot path reads one session row and its user by primary key instead of
-- aggregating four tables. NULL means "not computed": readers then aggregate
-- the normalised tables, which stay the source of truth.
ALTER TABLE users ADD COLUMN roles_view text, ADD COLUMN orgs_view text;
--bun:split
-- Writers that change memberships without recomputing the snapshot (an
-- operator's SQL, the import) must not leave it stale: a role or membership
-- added, removed or re-pointed, a role renamed, or an organization renamed,
-- re-keyed or removed clears the snapshots it touches. Clearing always
-- updates the user row, even when the snapshot is already clear, so the
-- change is announced to the session caches (users_announce below). A sync
-- that only refreshes synced_at or updated_at clears nothing.
CREATE FUNCTION authbff_clear_roles_view() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE users SET roles_view = NULL WHERE id = OLD.user_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE users SET roles_view = NULL WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER user_roles_clear_view AFTER INSERT OR DELETE ON user_roles
    FOR EACH ROW EXECUTE FUNCTION authbff_clear_roles_view();
--bun:split
CREATE TRIGGER user_roles_clear_view_upd AFTER UPDATE ON user_roles
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.role_id IS DISTINCT FROM NEW.role_id)
    EXECUTE FUNCTION authbff_clear_roles_view();
--bun:split
CREATE FUNCTION authbff_clear_role_holders_view() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET roles_view = NULL WHERE id IN (SELECT user_id FROM user_roles WHERE role_id = OLD.id);
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER roles_clear_view AFTER UPDATE ON roles
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.source IS DISTINCT FROM NEW.source)
    EXECUTE FUNCTION authbff_clear_role_holders_view();
--bun:split
CREATE FUNCTION authbff_clear_orgs_view() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE users SET orgs_view = NULL WHERE id = OLD.user_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE users SET orgs_view = NULL WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER user_organizations_clear_view AFTER INSERT OR DELETE ON user_organizations
    FOR EACH ROW EXECUTE FUNCTION authbff_clear_orgs_view();
--bun:split
CREATE TRIGGER user_organizations_clear_view_upd AFTER UPDATE ON user_organizations
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.organization_id IS DISTINCT FROM NEW.organization_id)
    EXECUTE FUNCTION authbff_clear_orgs_view();
--bun:split
-- An organization's change clears its members' snapshots. A sync locks its
-- organizations before any user row, so this update of other members' rows
-- cannot deadlock with a concurrent sync (see UserStore.SyncIdentity).
CREATE FUNCTION authbff_clear_org_members_view() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET orgs_view = NULL
    WHERE id IN (SELECT user_id FROM user_organizations WHERE organization_id = OLD.id);
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER organizations_clear_view AFTER UPDATE ON organizations
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.alias IS DISTINCT FROM NEW.alias
        OR OLD.name IS DISTINCT FROM NEW.name OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
        OR OLD.external_id IS DISTINCT FROM NEW.external_id)
    EXECUTE FUNCTION authbff_clear_org_members_view();
--bun:split
CREATE TRIGGER organizations_clear_view_del BEFORE DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION authbff_clear_org_members_view();
--bun:split
-- Session read caches on every replica: each committed change that alters
-- what GET /session shows is announced on channel authbff_sessions, as
-- 's:<session id>' or 'u:<user id>'. Deleting an already expired session
-- is not announced (readers check expiry on every read), nor is a change of
-- tokens or of the refresh lease.
CREATE FUNCTION authbff_announce_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.expires > now() AND OLD.absolute_expires > now() THEN
            PERFORM pg_notify('authbff_sessions', 's:' || OLD.id);
        END IF;
    ELSIF NEW.expires IS DISTINCT FROM OLD.expires OR NEW.absolute_expires IS DISTINCT FROM OLD.absolute_expires
        OR NEW.active_organization_id IS DISTINCT FROM OLD.active_organization_id
        OR NEW.token_hash IS DISTINCT FROM OLD.token_hash OR NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        PERFORM pg_notify('authbff_sessions', 's:' || OLD.id);
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER sessions_announce AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION authbff_announce_session();
--bun:split
CREATE FUNCTION authbff_announce_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('authbff_sessions', 'u:' || OLD.id);
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER users_announce AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION authbff_announce_user();
