// Fills a PostgreSQL database the way a NextAuth v5 / Auth.js app with
// @auth/pg-adapter does: the adapter's documented schema (schema.sql of
// packages/adapter-pg in the Auth.js repository), then users, Keycloak
// accounts and database sessions written by the adapter's own methods.
// Session tokens are made as Auth.js makes them (its default
// generateSessionToken is crypto.randomUUID()).
//
// DATABASE_URL=postgres://… node seed.mjs  → one JSON line on stdout:
// {"sessions":[{"token","userId","email","expires"}], "expiredToken": "…"}
import { randomUUID } from "node:crypto";
import pg from "pg";
import PostgresAdapter from "@auth/pg-adapter";

const schema = `
CREATE TABLE users
(
  id SERIAL,
  name VARCHAR(255),
  email VARCHAR(255) UNIQUE,
  "emailVerified" TIMESTAMPTZ,
  image TEXT,

  PRIMARY KEY (id)
);

CREATE TABLE accounts
(
  id SERIAL,
  "userId" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
  type VARCHAR(255) NOT NULL,
  provider VARCHAR(255) NOT NULL,
  "providerAccountId" VARCHAR(255) NOT NULL,
  refresh_token TEXT,
  access_token TEXT,
  expires_at BIGINT,
  id_token TEXT,
  scope TEXT,
  session_state TEXT,
  token_type TEXT,

  PRIMARY KEY (id),
  UNIQUE (provider, "providerAccountId")
);

CREATE TABLE sessions
(
  id SERIAL,
  "userId" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) UNIQUE NOT NULL,

  PRIMARY KEY (id)
);

CREATE TABLE verification_token
(
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,

  PRIMARY KEY (identifier, token)
);
`;

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
try {
  await pool.query(schema);
  const adapter = PostgresAdapter(pool);
  const day = 24 * 60 * 60 * 1000;
  const out = { sessions: [] };
  for (const [name, sub] of [["Alice Adapter", "kc-sub-alice"], ["Bob Adapter", "kc-sub-bob"]]) {
    const email = name.split(" ")[0].toLowerCase() + "@pg-adapter.example";
    const user = await adapter.createUser({ id: randomUUID(), name, email, emailVerified: new Date(), image: null });
    await adapter.linkAccount({
      userId: user.id, type: "oidc", provider: "keycloak", providerAccountId: sub,
      access_token: "access-" + sub, refresh_token: "refresh-" + sub, id_token: "id-" + sub,
      expires_at: Math.floor(Date.now() / 1000) + 300, scope: "openid email profile",
      session_state: "kc-sid-" + sub, token_type: "bearer",
    });
    const expires = new Date(Date.now() + 30 * day);
    const session = await adapter.createSession({ sessionToken: randomUUID(), userId: user.id, expires });
    const check = await adapter.getSessionAndUser(session.sessionToken);
    if (!check || check.user.email !== email) throw new Error("the adapter does not read back its own session");
    out.sessions.push({ token: session.sessionToken, userId: String(user.id), email, expires: expires.toISOString() });
    if (sub === "kc-sub-alice") {
      const old = await adapter.createSession({ sessionToken: randomUUID(), userId: user.id, expires: new Date(Date.now() - day) });
      out.expiredToken = old.sessionToken;
    }
  }
  console.log(JSON.stringify(out));
} finally {
  await pool.end();
}
