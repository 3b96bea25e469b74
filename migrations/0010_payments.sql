-- Payments (issue 7): the payment provider's customers, saved cards, payments by card or
-- wallet, refunds, the provider's webhook events (deduplicated by id), hosts' payout accounts
-- and payouts. Money itself is counted by the ledger (0009); these tables are what the
-- provider did and why. Constraint names are part of the API: marketplace::payments maps them.

-- A user's customer at a provider (`stripe`, `local`): where cards are attached.
CREATE TABLE payment_customers (
    user_id               uuid        NOT NULL,
    provider              text        NOT NULL,
    provider_customer_id  text        NOT NULL,
    created_at            timestamptz NOT NULL,
    CONSTRAINT payment_customers_pkey PRIMARY KEY (user_id, provider),
    CONSTRAINT payment_customers_provider_id_key UNIQUE (provider, provider_customer_id),
    CONSTRAINT payment_customers_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

-- Saved cards: brand and last four digits only, never the number. A removed card is kept
-- (payments name it) with `removed_at` set.
CREATE TABLE payment_methods (
    id                  uuid        NOT NULL,
    user_id             uuid        NOT NULL,
    provider            text        NOT NULL,
    provider_method_id  text        NOT NULL,
    brand               text        NOT NULL,
    last4               text        NOT NULL,
    exp_month           smallint    NOT NULL,
    exp_year            smallint    NOT NULL,
    is_default          boolean     NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL,
    removed_at          timestamptz,
    CONSTRAINT payment_methods_pkey PRIMARY KEY (id),
    CONSTRAINT payment_methods_provider_id_key UNIQUE (provider, provider_method_id),
    CONSTRAINT payment_methods_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT payment_methods_last4_check CHECK (last4 ~ '^[0-9]{4}$'),
    CONSTRAINT payment_methods_exp_month_check CHECK (exp_month BETWEEN 1 AND 12),
    CONSTRAINT payment_methods_default_check CHECK (NOT (is_default AND removed_at IS NOT NULL))
);
-- at most one default card per user, under any concurrency
CREATE UNIQUE INDEX payment_methods_default_key ON payment_methods (user_id) WHERE is_default;
CREATE INDEX payment_methods_user_idx ON payment_methods (user_id, created_at DESC)
    WHERE removed_at IS NULL;

-- A payment: of a booking, a charging session, or a wallet top-up; by card (a provider's
-- payment, Stripe's PaymentIntent) or by wallet (a ledger hold or capture).
CREATE TABLE payments (
    id                     uuid        NOT NULL,
    user_id                uuid        NOT NULL,
    purpose                text        NOT NULL,
    booking_id             uuid,
    session_id             uuid,
    method                 text        NOT NULL,
    -- `wallet` for wallet payments, else the card provider's name
    provider               text        NOT NULL,
    payment_method_id      uuid,
    provider_payment_id    text,
    amount_minor           bigint      NOT NULL,
    currency               char(3)     NOT NULL,
    capture_method         text        NOT NULL,
    -- processing (asked, no answer yet) → requires_action (3-D Secure) → requires_capture
    -- (authorized) → succeeded; or failed (declined), canceled
    status                 text        NOT NULL,
    amount_capturable      bigint      NOT NULL DEFAULT 0,
    amount_received        bigint      NOT NULL DEFAULT 0,
    amount_refunded        bigint      NOT NULL DEFAULT 0,
    client_secret          text,
    next_action            text,
    next_action_url        text,
    failure_code           text,
    decline_code           text,
    failure_message        text,
    -- a Connect destination charge: the host's account and what the platform keeps
    destination_account    text,
    application_fee_minor  bigint,
    -- the client's Idempotency-Key (or one we made) and the request it came with
    idempotency_key        text        NOT NULL,
    request_hash           bytea       NOT NULL,
    -- the ledger: the top-up posting of the money received by card, the wallet hold
    ledger_posting_id      uuid,
    ledger_hold_id         uuid,
    -- when the provider last told us (event time), so older news never overwrites newer
    state_as_of            timestamptz NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CONSTRAINT payments_pkey PRIMARY KEY (id),
    CONSTRAINT payments_idempotency_key UNIQUE (user_id, idempotency_key),
    CONSTRAINT payments_provider_payment_key UNIQUE (provider_payment_id),
    CONSTRAINT payments_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT payments_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id),
    CONSTRAINT payments_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES charging_sessions (id),
    CONSTRAINT payments_payment_method_id_fkey FOREIGN KEY (payment_method_id)
        REFERENCES payment_methods (id),
    CONSTRAINT payments_ledger_posting_id_fkey FOREIGN KEY (ledger_posting_id)
        REFERENCES ledger_postings (id),
    CONSTRAINT payments_ledger_hold_id_fkey FOREIGN KEY (ledger_hold_id)
        REFERENCES ledger_holds (id),
    CONSTRAINT payments_purpose_check CHECK (purpose IN ('booking', 'session', 'topup')),
    CONSTRAINT payments_target_check CHECK (
        (purpose = 'booking') = (booking_id IS NOT NULL)
        AND (purpose = 'session') = (session_id IS NOT NULL)),
    CONSTRAINT payments_method_check CHECK (method IN ('card', 'wallet')),
    CONSTRAINT payments_card_check CHECK ((method = 'card') = (payment_method_id IS NOT NULL)),
    CONSTRAINT payments_wallet_provider_check CHECK ((method = 'wallet') = (provider = 'wallet')),
    CONSTRAINT payments_topup_check CHECK (purpose <> 'topup' OR method = 'card'),
    CONSTRAINT payments_capture_method_check CHECK (capture_method IN ('automatic', 'manual')),
    CONSTRAINT payments_status_check CHECK (status IN ('processing', 'requires_action',
        'requires_capture', 'succeeded', 'canceled', 'failed')),
    CONSTRAINT payments_amount_check CHECK (amount_minor > 0),
    CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT payments_amounts_check CHECK (amount_capturable >= 0 AND amount_received >= 0
        AND amount_received <= amount_minor AND amount_refunded >= 0
        AND amount_refunded <= amount_received),
    CONSTRAINT payments_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 255)
);
-- one live payment per booking and per session: paying twice is refused (409), under any
-- concurrency
CREATE UNIQUE INDEX payments_booking_live_key ON payments (booking_id)
    WHERE status IN ('processing', 'requires_action', 'requires_capture', 'succeeded');
CREATE UNIQUE INDEX payments_session_live_key ON payments (session_id)
    WHERE status IN ('processing', 'requires_action', 'requires_capture', 'succeeded');
CREATE INDEX payments_user_idx ON payments (user_id, created_at DESC);

-- Money back: to the card (a provider refund) or into the wallet (a ledger posting).
-- `origin` = provider: a refund made at the provider (its dashboard) that a webhook told us.
CREATE TABLE payment_refunds (
    id                  uuid        NOT NULL,
    payment_id          uuid        NOT NULL,
    destination         text        NOT NULL,
    origin              text        NOT NULL DEFAULT 'api',
    provider_refund_id  text,
    amount_minor        bigint      NOT NULL,
    currency            char(3)     NOT NULL,
    status              text        NOT NULL,
    reason              text        NOT NULL DEFAULT '',
    -- admin or the driver (policy); NULL when the provider told us
    requested_by        uuid,
    -- `policy` (the booking's refund decision) or `admin`
    basis               text        NOT NULL,
    idempotency_key     text        NOT NULL,
    ledger_posting_id   uuid,
    -- the reversal of the ledger posting of a refund the provider later failed
    ledger_reversal_id  uuid,
    failure_reason      text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CONSTRAINT payment_refunds_pkey PRIMARY KEY (id),
    CONSTRAINT payment_refunds_idempotency_key UNIQUE (payment_id, idempotency_key),
    CONSTRAINT payment_refunds_provider_id_key UNIQUE (provider_refund_id),
    CONSTRAINT payment_refunds_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES payments (id),
    CONSTRAINT payment_refunds_requested_by_fkey FOREIGN KEY (requested_by) REFERENCES users (id),
    CONSTRAINT payment_refunds_ledger_posting_id_fkey FOREIGN KEY (ledger_posting_id)
        REFERENCES ledger_postings (id),
    CONSTRAINT payment_refunds_ledger_reversal_id_fkey FOREIGN KEY (ledger_reversal_id)
        REFERENCES ledger_postings (id),
    CONSTRAINT payment_refunds_destination_check
        CHECK (destination IN ('original_method', 'wallet')),
    CONSTRAINT payment_refunds_origin_check CHECK (origin IN ('api', 'provider')),
    CONSTRAINT payment_refunds_basis_check CHECK (basis IN ('policy', 'admin', 'provider')),
    CONSTRAINT payment_refunds_status_check CHECK (status IN ('pending', 'requires_action',
        'succeeded', 'failed', 'canceled')),
    CONSTRAINT payment_refunds_amount_check CHECK (amount_minor > 0)
);
CREATE INDEX payment_refunds_payment_idx ON payment_refunds (payment_id);

-- Every webhook event we accepted, once: the UNIQUE key is what makes a redelivery a no-op.
CREATE TABLE provider_events (
    provider      text        NOT NULL,
    event_id      text        NOT NULL,
    event_type    text        NOT NULL,
    -- when the provider made the event
    created_at    timestamptz NOT NULL,
    received_at   timestamptz NOT NULL,
    -- what processing did (`applied`, `unknown_object`, `ignored`)
    outcome       text        NOT NULL,
    payload       jsonb       NOT NULL,
    CONSTRAINT provider_events_pkey PRIMARY KEY (provider, event_id)
);
CREATE INDEX provider_events_received_idx ON provider_events (received_at);

-- A host's account for being paid (Stripe Connect Express), kept up to date by
-- account.updated webhooks.
CREATE TABLE host_payout_accounts (
    host_id              uuid        NOT NULL,
    provider             text        NOT NULL,
    provider_account_id  text        NOT NULL,
    country              char(2),
    charges_enabled      boolean     NOT NULL DEFAULT false,
    payouts_enabled      boolean     NOT NULL DEFAULT false,
    details_submitted    boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT host_payout_accounts_pkey PRIMARY KEY (host_id, provider),
    CONSTRAINT host_payout_accounts_account_key UNIQUE (provider, provider_account_id),
    CONSTRAINT host_payout_accounts_host_id_fkey FOREIGN KEY (host_id) REFERENCES users (id)
);

-- Payouts from a host's connected account to their bank.
CREATE TABLE host_payouts (
    id                  uuid        NOT NULL,
    host_id             uuid        NOT NULL,
    provider            text        NOT NULL,
    provider_payout_id  text,
    amount_minor        bigint      NOT NULL,
    currency            char(3)     NOT NULL,
    status              text        NOT NULL,
    arrival_date        timestamptz,
    failure_code        text,
    idempotency_key     text        NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CONSTRAINT host_payouts_pkey PRIMARY KEY (id),
    CONSTRAINT host_payouts_idempotency_key UNIQUE (host_id, idempotency_key),
    CONSTRAINT host_payouts_provider_id_key UNIQUE (provider, provider_payout_id),
    CONSTRAINT host_payouts_host_id_fkey FOREIGN KEY (host_id) REFERENCES users (id),
    CONSTRAINT host_payouts_amount_check CHECK (amount_minor > 0),
    CONSTRAINT host_payouts_status_check CHECK (status IN ('pending', 'in_transit', 'paid',
        'failed', 'canceled'))
);
