-- Every session token hash `authbff import nextauth` has ever imported (see
-- the PostgreSQL migration): a rerun with --merge never brings back a
-- session that was imported and then ended in authbff.
CREATE TABLE imported_sessions (
    token_hash  text PRIMARY KEY,
    imported_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
