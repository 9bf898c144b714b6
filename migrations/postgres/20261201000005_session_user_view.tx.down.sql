DROP TRIGGER IF EXISTS users_copy_view ON users;
--bun:split
DROP FUNCTION IF EXISTS authbff_copy_user_view();
--bun:split
DROP TRIGGER IF EXISTS sessions_user_view ON sessions;
--bun:split
DROP FUNCTION IF EXISTS authbff_session_user_view();
--bun:split
DROP FUNCTION IF EXISTS authbff_user_view(users);
--bun:split
ALTER TABLE sessions DROP COLUMN IF EXISTS user_view;
