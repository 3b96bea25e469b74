-- Accounts: users, rotating refresh tokens, and the shared server secret.
-- Constraint names are part of the API: marketplace::accounts maps them to problem codes.

-- citext makes the unique email index case-insensitive even for rows written outside the
-- service (which lowercases anyway). It is a trusted extension, so a database owner may create it.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id            uuid        NOT NULL,
    email         citext      NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL,
    display_name  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled      boolean     NOT NULL DEFAULT false,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_role_check CHECK (role IN ('driver', 'host', 'operator', 'admin')),
    CONSTRAINT users_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 100),
    -- only PHC strings ("$argon2id$...") are stored, never a plain password
    CONSTRAINT users_password_hash_phc CHECK (password_hash LIKE '$%')
);

-- One row per issued refresh token. Only the SHA-256 of the opaque token is kept, so a
-- leaked table cannot be replayed. A family is one login; every refresh adds a row to it.
CREATE TABLE refresh_tokens (
    id          uuid        NOT NULL,
    family_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    token_hash  bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    -- set when the token was exchanged for a new pair; presenting it again is reuse
    used_at     timestamptz,
    -- set on logout, on reuse detection, or when the user is disabled
    revoked_at  timestamptz,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_token_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT refresh_tokens_expiry_check CHECK (expires_at > created_at)
);

CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);

-- Generated secrets (e.g. the JWT signing key) shared by every node and kept across restarts
-- when none is configured.
CREATE TABLE server_secrets (
    name       text        NOT NULL,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT server_secrets_pkey PRIMARY KEY (name),
    CONSTRAINT server_secrets_value_length CHECK (octet_length(value) >= 32)
);
