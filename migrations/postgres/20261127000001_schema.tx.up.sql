CREATE TABLE users (
    id             uuid PRIMARY KEY,
    name           text NOT NULL DEFAULT '',
    email          text,
    email_verified timestamptz,
    image          text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
--bun:split
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL;
--bun:split
CREATE TABLE accounts (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type                text NOT NULL,
    provider            text NOT NULL,
    provider_account_id text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_account_id)
);
--bun:split
CREATE INDEX accounts_user_id_idx ON accounts (user_id);
--bun:split
CREATE TABLE organizations (
    id         text PRIMARY KEY,
    alias      text NOT NULL UNIQUE,
    name       text NOT NULL DEFAULT '',
    tenant_id  text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
--bun:split
CREATE TABLE sessions (
    id                       uuid PRIMARY KEY,
    token_hash               text NOT NULL,
    user_id                  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires                  timestamptz NOT NULL,
    absolute_expires         timestamptz NOT NULL,
    active_organization_id   text REFERENCES organizations (id) ON DELETE SET NULL,
    provider                 text NOT NULL DEFAULT '',
    provider_session_id      text,
    access_token             bytea,
    refresh_token            bytea,
    id_token                 bytea,
    access_token_expires_at  timestamptz,
    refresh_token_expires_at timestamptz,
    scope                    text NOT NULL DEFAULT '',
    ip_address               text NOT NULL DEFAULT '',
    user_agent               text NOT NULL DEFAULT '',
    last_seen_at             timestamptz NOT NULL DEFAULT now(),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
--bun:split
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
--bun:split
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
--bun:split
CREATE INDEX sessions_expires_idx ON sessions (expires);
--bun:split
CREATE INDEX sessions_absolute_expires_idx ON sessions (absolute_expires);
--bun:split
CREATE INDEX sessions_provider_session_id_idx ON sessions (provider_session_id);
--bun:split
CREATE TABLE verification_tokens (
    identifier text NOT NULL,
    token_hash text NOT NULL,
    expires    timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (identifier, token_hash)
);
--bun:split
CREATE INDEX verification_tokens_expires_idx ON verification_tokens (expires);
--bun:split
CREATE TABLE roles (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    source     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, source)
);
--bun:split
CREATE TABLE user_roles (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    bigint NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    synced_at  timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role_id)
);
--bun:split
CREATE INDEX user_roles_role_id_idx ON user_roles (role_id);
--bun:split
CREATE TABLE user_organizations (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    synced_at       timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, organization_id)
);
--bun:split
CREATE INDEX user_organizations_organization_id_idx ON user_organizations (organization_id);
--bun:split
CREATE TABLE login_flows (
    state           text PRIMARY KEY,
    nonce           text NOT NULL,
    pkce_verifier   text NOT NULL,
    provider        text NOT NULL,
    issuer          text NOT NULL DEFAULT '',
    redirect_uri    text NOT NULL DEFAULT '',
    callback_url    text NOT NULL DEFAULT '',
    browser_binding text NOT NULL,
    expires         timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
--bun:split
CREATE INDEX login_flows_expires_idx ON login_flows (expires);
