-- Accounts hardening: failed-login throttling, refresh-token families with an absolute
-- lifetime, token versions that revoke access tokens at once, and TOTP secrets sealed at rest.

-- One row per failed login step: a wrong password or unknown e-mail, a wrong second factor,
-- a wrong current password on a sensitive change. Counted per account (by e-mail, whether or
-- not an account has it, so unknown e-mails are throttled alike) and per client address over
-- a sliding window; every node counts the same rows. A successful login clears the account's
-- rows (cleared_at) but they still count for their client address.
CREATE TABLE login_failures (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    account    citext      NOT NULL,
    client_key text        NOT NULL,
    step       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    cleared_at timestamptz,
    CONSTRAINT login_failures_pkey PRIMARY KEY (id),
    CONSTRAINT login_failures_step_check
        CHECK (step IN ('password', 'second_factor', 'current_password'))
);

CREATE INDEX login_failures_account_idx ON login_failures (account, created_at);
CREATE INDEX login_failures_client_key_idx ON login_failures (client_key, created_at);

-- A refresh-token family (one login) ends 30 days after it started however often it is
-- rotated; every token carries its family's start. Existing families start at their oldest
-- token.
ALTER TABLE refresh_tokens ADD COLUMN family_started_at timestamptz;
UPDATE refresh_tokens AS t SET family_started_at = f.started_at
FROM (SELECT family_id, min(created_at) AS started_at FROM refresh_tokens GROUP BY family_id) AS f
WHERE t.family_id = f.family_id;
ALTER TABLE refresh_tokens
    ALTER COLUMN family_started_at SET DEFAULT now(),
    ALTER COLUMN family_started_at SET NOT NULL;

-- Access tokens carry the version they were issued at (claim `ver`); bumping it (disabling
-- the account) makes every token issued before invalid on its next request.
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- TOTP secrets are sealed with XChaCha20-Poly1305 under a key the database never sees, the
-- user id bound in as associated data. The key lives outside the database, so SQL cannot
-- seal the existing plaintext secrets: enabled ones stay readable in `secret` until the
-- service first uses them with a key configured, then it seals them and clears `secret`.
-- Set-ups never finished are dropped (the user starts the set-up again).
ALTER TABLE totp_factors
    ADD COLUMN secret_sealed bytea,
    ALTER COLUMN secret DROP NOT NULL,
    -- version byte, 24-byte nonce, ciphertext of at least 16 bytes, 16-byte tag
    ADD CONSTRAINT totp_factors_sealed_length
        CHECK (secret_sealed IS NULL OR octet_length(secret_sealed) >= 1 + 24 + 16 + 16),
    ADD CONSTRAINT totp_factors_secret_present
        CHECK ((secret IS NULL) <> (secret_sealed IS NULL));
DELETE FROM totp_factors WHERE enabled_at IS NULL;
