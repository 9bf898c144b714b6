-- What GET /session shows of a session's user, copied onto each session row
-- as one JSON object (see the PostgreSQL migration): the read is one row, no
-- join. NULL means "not computed", and readers then read the user row.
-- Triggers keep the copy equal to the user row in the same transaction.
ALTER TABLE sessions ADD COLUMN user_view text;
--bun:split
CREATE TRIGGER sessions_user_view AFTER INSERT ON sessions BEGIN
    UPDATE sessions SET user_view = (
        SELECT CASE WHEN u.roles_view IS NULL OR u.orgs_view IS NULL THEN NULL
            ELSE json_object('n', u.name, 'e', coalesce(u.email, ''), 'i', u.image,
                'r', json(u.roles_view), 'o', json(u.orgs_view)) END
        FROM users u WHERE u.id = NEW.user_id)
    WHERE id = NEW.id;
END;
--bun:split
CREATE TRIGGER users_copy_view AFTER UPDATE ON users
WHEN OLD.name IS NOT NEW.name OR OLD.email IS NOT NEW.email OR OLD.image IS NOT NEW.image
    OR OLD.roles_view IS NOT NEW.roles_view OR OLD.orgs_view IS NOT NEW.orgs_view
BEGIN
    UPDATE sessions SET user_view = CASE WHEN NEW.roles_view IS NULL OR NEW.orgs_view IS NULL THEN NULL
        ELSE json_object('n', NEW.name, 'e', coalesce(NEW.email, ''), 'i', NEW.image,
            'r', json(NEW.roles_view), 'o', json(NEW.orgs_view)) END
    WHERE user_id = NEW.id;
END;
--bun:split
UPDATE sessions SET user_view = (
    SELECT json_object('n', u.name, 'e', coalesce(u.email, ''), 'i', u.image,
        'r', json(u.roles_view), 'o', json(u.orgs_view))
    FROM users u WHERE u.id = sessions.user_id AND u.roles_view IS NOT NULL AND u.orgs_view IS NOT NULL);
