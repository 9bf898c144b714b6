-- What GET /session shows of a session's user (name, email, image, and the
-- roles and organizations snapshot of users.roles_view/orgs_view), copied
-- onto each session row as one JSON object, so the hot read is one index
-- lookup of one row: no join. NULL means "not computed" (the user's
-- snapshot is cleared, or the session predates this column): readers then
-- read the user row. The users row stays the source of truth; a trigger
-- copies every change of it to its sessions in the same transaction, so the
-- copy is never staler than the row it copies. Lock order is always the user
-- row, then its sessions (no transaction locks a session, then its user).
ALTER TABLE sessions ADD COLUMN user_view text;
--bun:split
CREATE FUNCTION authbff_user_view(u users) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN u.roles_view IS NULL OR u.orgs_view IS NULL THEN NULL
        ELSE json_build_object('n', u.name, 'e', coalesce(u.email, ''), 'i', u.image,
            'r', u.roles_view::json, 'o', u.orgs_view::json)::text END
$$;
--bun:split
-- A new session copies its user's view. FOR SHARE waits for a concurrent
-- change of the user to commit and reads its result; that change, once it
-- has the row, sees this session committed and updates it in turn.
CREATE FUNCTION authbff_session_user_view() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.user_view := (SELECT authbff_user_view(u) FROM users u WHERE u.id = NEW.user_id FOR SHARE);
    RETURN NEW;
END $$;
--bun:split
CREATE TRIGGER sessions_user_view BEFORE INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION authbff_session_user_view();
--bun:split
CREATE FUNCTION authbff_copy_user_view() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET user_view = authbff_user_view(NEW)
    WHERE user_id = NEW.id AND user_view IS DISTINCT FROM authbff_user_view(NEW);
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER users_copy_view AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
        OR OLD.image IS DISTINCT FROM NEW.image OR OLD.roles_view IS DISTINCT FROM NEW.roles_view
        OR OLD.orgs_view IS DISTINCT FROM NEW.orgs_view)
    EXECUTE FUNCTION authbff_copy_user_view();
--bun:split
-- Live sessions get their copy now; expired ones are never read again.
UPDATE sessions s SET user_view = authbff_user_view(u) FROM users u
WHERE u.id = s.user_id AND s.expires > now() AND u.roles_view IS NOT NULL AND u.orgs_view IS NOT NULL;
