-- Every session token hash `authbff import nextauth` has ever imported. A
-- rerun with --merge skips these, so a session that was imported and then
-- ended in authbff (signed out, revoked, back-channel logout) is never
-- brought back from the NextAuth database it came from.
CREATE TABLE imported_sessions (
    token_hash  text PRIMARY KEY,
    imported_at timestamptz NOT NULL DEFAULT now()
);
