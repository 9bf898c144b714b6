DROP TRIGGER IF EXISTS users_copy_view;
--bun:split
DROP TRIGGER IF EXISTS sessions_user_view;
--bun:split
ALTER TABLE sessions DROP COLUMN user_view;
