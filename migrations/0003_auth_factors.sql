-- Accounts, finished: phone and verified contacts, one-time codes by e-mail/SMS, TOTP second
-- factor with recovery codes, the short-lived tokens between password and second factor,
-- drivers' vehicles, and the transactional outbox that later delivers e-mails and SMS.
-- Constraint names are part of the API: marketplace::accounts maps them to problem codes.

ALTER TABLE users
    ADD COLUMN phone             text,
    ADD COLUMN email_verified_at timestamptz,
    ADD COLUMN phone_verified_at timestamptz,
    ADD CONSTRAINT users_phone_key UNIQUE (phone),
    -- E.164: a plus, a non-zero country digit, at most 15 digits in all
    ADD CONSTRAINT users_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    ADD CONSTRAINT users_phone_verified_needs_phone
        CHECK (phone_verified_at IS NULL OR phone IS NOT NULL);

-- One row per code sent (or, for an unknown destination, pretended to be sent: user_id is
-- NULL and the code was never delivered, so the answer cannot reveal which accounts exist).
-- Only a salted SHA-256 of the code is kept. The rows also serve as the rate-limit log.
CREATE TABLE otp_challenges (
    id            uuid        NOT NULL,
    user_id       uuid,
    purpose       text        NOT NULL,
    channel       text        NOT NULL,
    destination   text        NOT NULL,
    -- who asked: the client IP, or a fixed key when the server did not say
    client_key    text        NOT NULL,
    code_salt     bytea       NOT NULL,
    code_hash     bytea       NOT NULL,
    attempts      integer     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    consumed_at   timestamptz,
    -- set when a newer request for the same destination replaced this one
    superseded_at timestamptz,
    CONSTRAINT otp_challenges_pkey PRIMARY KEY (id),
    CONSTRAINT otp_challenges_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT otp_challenges_purpose_check CHECK (purpose IN ('login', 'verify')),
    CONSTRAINT otp_challenges_channel_check CHECK (channel IN ('email', 'sms')),
    CONSTRAINT otp_challenges_salt_length CHECK (octet_length(code_salt) = 16),
    CONSTRAINT otp_challenges_hash_length CHECK (octet_length(code_hash) = 32),
    CONSTRAINT otp_challenges_attempts_range CHECK (attempts BETWEEN 0 AND 5),
    CONSTRAINT otp_challenges_expiry_check CHECK (expires_at > created_at)
);

-- the two rate-limit windows and "latest challenge for this destination"
CREATE INDEX otp_challenges_destination_idx ON otp_challenges (channel, destination, created_at);
CREATE INDEX otp_challenges_client_key_idx ON otp_challenges (client_key, created_at);
CREATE INDEX otp_challenges_user_id_idx ON otp_challenges (user_id);

-- The TOTP (RFC 6238) factor of a user. A row with enabled_at NULL is a set-up waiting for
-- its first valid code. last_step is the last accepted time step: a code is never accepted
-- twice, nor one older than the last.
CREATE TABLE totp_factors (
    user_id    uuid        NOT NULL,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    enabled_at timestamptz,
    last_step  bigint,
    CONSTRAINT totp_factors_pkey PRIMARY KEY (user_id),
    CONSTRAINT totp_factors_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT totp_factors_secret_length CHECK (octet_length(secret) >= 16)
);

-- One-time recovery codes, stored as SHA-256 (they carry 50 random bits each, and are
-- useless without the password).
CREATE TABLE recovery_codes (
    id         uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    code_hash  bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT recovery_codes_pkey PRIMARY KEY (id),
    CONSTRAINT recovery_codes_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT recovery_codes_user_code_key UNIQUE (user_id, code_hash),
    CONSTRAINT recovery_codes_hash_length CHECK (octet_length(code_hash) = 32)
);

-- Issued when the first factor passed and the second is still due. Single use, short-lived,
-- at most 5 wrong second factors; only the SHA-256 of the opaque token is kept.
CREATE TABLE mfa_login_tokens (
    id         uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    token_hash bytea       NOT NULL,
    attempts   integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT mfa_login_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT mfa_login_tokens_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT mfa_login_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT mfa_login_tokens_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT mfa_login_tokens_attempts_range CHECK (attempts BETWEEN 0 AND 5),
    CONSTRAINT mfa_login_tokens_expiry_check CHECK (expires_at > created_at)
);

CREATE INDEX mfa_login_tokens_user_id_idx ON mfa_login_tokens (user_id);

-- A driver's cars: what they can plug in decides which chargers suit them.
CREATE TABLE vehicles (
    id              uuid             NOT NULL,
    user_id         uuid             NOT NULL,
    make            text             NOT NULL,
    model           text             NOT NULL,
    year            integer,
    battery_kwh     double precision NOT NULL,
    connector_types text[]           NOT NULL,
    nickname        text,
    is_default      boolean          NOT NULL DEFAULT false,
    created_at      timestamptz      NOT NULL DEFAULT now(),
    updated_at      timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT vehicles_pkey PRIMARY KEY (id),
    CONSTRAINT vehicles_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT vehicles_make_length CHECK (char_length(make) BETWEEN 1 AND 60),
    CONSTRAINT vehicles_model_length CHECK (char_length(model) BETWEEN 1 AND 60),
    CONSTRAINT vehicles_year_range CHECK (year IS NULL OR year BETWEEN 1990 AND 2100),
    CONSTRAINT vehicles_battery_kwh_range CHECK (battery_kwh > 0 AND battery_kwh <= 250),
    CONSTRAINT vehicles_connector_types_check CHECK (
        cardinality(connector_types) >= 1
        AND connector_types <@ ARRAY['CCS1', 'CCS2', 'CHAdeMO', 'Type1', 'Type2', 'NACS', 'Schuko']
    ),
    CONSTRAINT vehicles_nickname_length CHECK (char_length(nickname) BETWEEN 1 AND 60)
);

CREATE INDEX vehicles_user_id_idx ON vehicles (user_id);
-- at most one default vehicle per driver
CREATE UNIQUE INDEX vehicles_one_default_key ON vehicles (user_id) WHERE is_default;

-- Transactional outbox: a message is written in the same transaction as the change that
-- causes it, so it is sent if and only if that change committed. The notifications
-- capability (not here yet) picks unsent rows, hands them to the e-mail/SMS/push provider and
-- sets sent_at. Bodies may hold one-time codes: this table is as sensitive as a mailbox.
CREATE TABLE outbox_messages (
    id         uuid        NOT NULL,
    channel    text        NOT NULL,
    recipient  text        NOT NULL,
    subject    text,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    CONSTRAINT outbox_messages_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_messages_channel_check CHECK (channel IN ('email', 'sms', 'push'))
);

CREATE INDEX outbox_messages_unsent_idx ON outbox_messages (created_at) WHERE sent_at IS NULL;
