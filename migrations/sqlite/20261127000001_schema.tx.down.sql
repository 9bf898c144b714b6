DROP TABLE IF EXISTS login_flows;
--bun:split
DROP TABLE IF EXISTS user_organizations;
--bun:split
DROP TABLE IF EXISTS user_roles;
--bun:split
DROP TABLE IF EXISTS roles;
--bun:split
DROP TABLE IF EXISTS verification_tokens;
--bun:split
DROP TABLE IF EXISTS sessions;
--bun:split
DROP TABLE IF EXISTS organizations;
--bun:split
DROP TABLE IF EXISTS accounts;
--bun:split
DROP TABLE IF EXISTS users;
