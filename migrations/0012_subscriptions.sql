-- Subscriptions and business products (issue 7): drivers' plans (Basic, Premium, Pro),
-- premium insurance coverage, and hosts' products (featured listing, real-time availability
-- API, analytics). Paid monthly from the subscriber's wallet; every charge and credit is a
-- ledger posting (0009). Constraint names are part of the API: marketplace::subscriptions
-- maps them.

-- The ledger learns where subscription money goes, and the posting kind that moves it.
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN (
    'driver_wallet', 'driver_hold', 'driver_receivable', 'host_payable', 'platform_commission',
    'insurance_reserve', 'tax_payable', 'provider_clearing', 'platform_refunds',
    'platform_subscriptions'));
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_kind_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_kind_check CHECK (kind IN ('topup',
    'hold', 'release', 'capture', 'refund', 'settlement', 'adjustment', 'reversal',
    'subscription'));

-- The catalogue. A product belongs to one group; a subscriber has at most one live
-- subscription per group (per listing for featured listings), so changing plan is a change
-- of product within the group.
CREATE TABLE subscription_products (
    code              text     NOT NULL,
    name              text     NOT NULL,
    audience          text     NOT NULL,
    product_group     text     NOT NULL,
    -- off the charging lines of session bills (driver plans)
    discount_percent  smallint NOT NULL DEFAULT 0,
    priority_booking  boolean  NOT NULL DEFAULT false,
    -- display order within the group (cheapest first)
    position          smallint NOT NULL,
    CONSTRAINT subscription_products_pkey PRIMARY KEY (code),
    CONSTRAINT subscription_products_audience_check CHECK (audience IN ('driver', 'host')),
    CONSTRAINT subscription_products_group_check CHECK (product_group IN ('driver_plan',
        'insurance', 'featured_listing', 'availability_api', 'analytics')),
    CONSTRAINT subscription_products_discount_check CHECK (discount_percent BETWEEN 0 AND 100)
);

CREATE TABLE subscription_prices (
    product_code  text     NOT NULL,
    currency      char(3)  NOT NULL,
    amount_minor  bigint   NOT NULL,
    CONSTRAINT subscription_prices_pkey PRIMARY KEY (product_code, currency),
    CONSTRAINT subscription_prices_product_fkey FOREIGN KEY (product_code)
        REFERENCES subscription_products (code),
    CONSTRAINT subscription_prices_amount_check CHECK (amount_minor >= 0),
    CONSTRAINT subscription_prices_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);

INSERT INTO subscription_products
    (code, name, audience, product_group, discount_percent, priority_booking, position) VALUES
    ('basic', 'Basic', 'driver', 'driver_plan', 0, false, 1),
    ('premium', 'Premium', 'driver', 'driver_plan', 10, false, 2),
    ('pro', 'Pro', 'driver', 'driver_plan', 20, true, 3),
    ('insurance', 'Premium insurance coverage', 'driver', 'insurance', 0, false, 1),
    ('featured_listing', 'Featured listing', 'host', 'featured_listing', 0, false, 1),
    ('availability_api', 'Real-time availability API', 'host', 'availability_api', 0, false, 1),
    ('analytics', 'Analytics dashboard', 'host', 'analytics', 0, false, 1);

INSERT INTO subscription_prices (product_code, currency, amount_minor)
SELECT p.code, c.currency, p.amount FROM (VALUES ('basic', 0::bigint), ('premium', 999),
    ('pro', 2499), ('insurance', 499), ('featured_listing', 9900), ('availability_api', 19900),
    ('analytics', 4900)) AS p(code, amount)
CROSS JOIN (VALUES ('USD'), ('EUR')) AS c(currency);

-- A subscription: monthly periods anchored on `anchor_at` (period n is anchor + n-1 months to
-- anchor + n months, clamped at month ends). `price_minor` is what the current product costs
-- for the current period (proration credits it back).
--
-- active → past_due (a renewal the wallet could not cover: retried after 1, 3 and 7 days,
-- benefits continue) → active again when paid, or ended (unpaid). Cancelling ends it at the
-- period end (cancelled); a subscription of a listing that no longer exists ends at renewal.
CREATE TABLE subscriptions (
    id                    uuid        NOT NULL,
    user_id               uuid        NOT NULL,
    product_code          text        NOT NULL,
    product_group         text        NOT NULL,
    -- featured listings only: the host's listing (no foreign key: a deleted listing's
    -- subscription simply ends at its next renewal)
    listing_id            uuid,
    currency              char(3)     NOT NULL,
    price_minor           bigint      NOT NULL,
    status                text        NOT NULL DEFAULT 'active',
    end_reason            text,
    anchor_at             timestamptz NOT NULL,
    period_number         integer     NOT NULL DEFAULT 1,
    current_period_start  timestamptz NOT NULL,
    current_period_end    timestamptz NOT NULL,
    cancel_at_period_end  boolean     NOT NULL DEFAULT false,
    cancel_requested_at   timestamptz,
    past_due_since        timestamptz,
    next_attempt_at       timestamptz,
    ended_at              timestamptz,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT subscriptions_pkey PRIMARY KEY (id),
    CONSTRAINT subscriptions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT subscriptions_product_fkey FOREIGN KEY (product_code)
        REFERENCES subscription_products (code),
    CONSTRAINT subscriptions_status_check CHECK (status IN ('active', 'past_due', 'ended')),
    CONSTRAINT subscriptions_end_reason_check CHECK (end_reason IN ('cancelled', 'unpaid',
        'replaced')),
    CONSTRAINT subscriptions_ended_check CHECK ((status = 'ended') = (end_reason IS NOT NULL)
        AND (status = 'ended') = (ended_at IS NOT NULL)),
    CONSTRAINT subscriptions_past_due_check CHECK ((status = 'past_due')
        = (past_due_since IS NOT NULL) AND (status = 'past_due') = (next_attempt_at IS NOT NULL)),
    CONSTRAINT subscriptions_listing_check CHECK ((product_group = 'featured_listing')
        = (listing_id IS NOT NULL)),
    CONSTRAINT subscriptions_period_check CHECK (current_period_end > current_period_start
        AND period_number >= 1),
    CONSTRAINT subscriptions_price_check CHECK (price_minor >= 0)
);
-- one live subscription per (user, group[, listing]), under any concurrency
CREATE UNIQUE INDEX subscriptions_live_key ON subscriptions
    (user_id, product_group, listing_id) NULLS NOT DISTINCT WHERE status <> 'ended';
CREATE INDEX subscriptions_user_idx ON subscriptions (user_id, created_at DESC);
-- the renewal job's work list
CREATE INDEX subscriptions_due_idx ON subscriptions (current_period_end) WHERE status = 'active';
CREATE INDEX subscriptions_retry_idx ON subscriptions (next_attempt_at) WHERE status = 'past_due';

-- What a subscriber was entitled to, and when: one span per product held, closed when the
-- product changes or the subscription ends. Bills ask for the plan at a session's start, so
-- a bill restated later still gets the discount the driver had when charging.
CREATE TABLE subscription_spans (
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    subscription_id  uuid        NOT NULL,
    user_id          uuid        NOT NULL,
    product_code     text        NOT NULL,
    product_group    text        NOT NULL,
    listing_id       uuid,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz,
    CONSTRAINT subscription_spans_pkey PRIMARY KEY (id),
    CONSTRAINT subscription_spans_subscription_fkey FOREIGN KEY (subscription_id)
        REFERENCES subscriptions (id),
    CONSTRAINT subscription_spans_product_fkey FOREIGN KEY (product_code)
        REFERENCES subscription_products (code),
    CONSTRAINT subscription_spans_order_check CHECK (ends_at >= starts_at)
);
CREATE UNIQUE INDEX subscription_spans_open_key ON subscription_spans (subscription_id)
    WHERE ends_at IS NULL;
CREATE INDEX subscription_spans_user_idx ON subscription_spans (user_id, product_group, starts_at);
CREATE INDEX subscription_spans_listing_idx ON subscription_spans (listing_id, starts_at)
    WHERE listing_id IS NOT NULL;

-- Every charge attempt and credit. A paid one names its ledger posting (invoices are issued
-- from these rows); a failed one moved no money. A retried job run finds its row and posts
-- nothing twice: one row per (subscription, period start, kind, attempt).
CREATE TABLE subscription_charges (
    id                 uuid        NOT NULL,
    subscription_id    uuid        NOT NULL,
    user_id            uuid        NOT NULL,
    product_code       text        NOT NULL,
    kind               text        NOT NULL,
    period_start       timestamptz NOT NULL,
    period_end         timestamptz NOT NULL,
    -- what the subscriber paid (initial, renewal, proration) or got back (proration_credit)
    amount_minor       bigint      NOT NULL,
    currency           char(3)     NOT NULL,
    status             text        NOT NULL,
    attempt            smallint    NOT NULL DEFAULT 1,
    ledger_posting_id  uuid,
    failure_code       text,
    created_at         timestamptz NOT NULL,
    CONSTRAINT subscription_charges_pkey PRIMARY KEY (id),
    CONSTRAINT subscription_charges_once_key UNIQUE (subscription_id, period_start, kind, attempt),
    CONSTRAINT subscription_charges_posting_key UNIQUE (ledger_posting_id),
    CONSTRAINT subscription_charges_subscription_fkey FOREIGN KEY (subscription_id)
        REFERENCES subscriptions (id),
    CONSTRAINT subscription_charges_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT subscription_charges_product_fkey FOREIGN KEY (product_code)
        REFERENCES subscription_products (code),
    CONSTRAINT subscription_charges_posting_fkey FOREIGN KEY (ledger_posting_id)
        REFERENCES ledger_postings (id),
    CONSTRAINT subscription_charges_kind_check CHECK (kind IN ('initial', 'renewal', 'proration',
        'proration_credit')),
    CONSTRAINT subscription_charges_status_check CHECK (status IN ('paid', 'failed')),
    CONSTRAINT subscription_charges_amount_check CHECK (amount_minor > 0),
    CONSTRAINT subscription_charges_attempt_check CHECK (attempt >= 1),
    CONSTRAINT subscription_charges_posted_check CHECK ((status = 'paid')
        = (ledger_posting_id IS NOT NULL) AND (status = 'failed') = (failure_code IS NOT NULL)),
    CONSTRAINT subscription_charges_period_check CHECK (period_end > period_start)
);
CREATE INDEX subscription_charges_subscription_idx ON subscription_charges
    (subscription_id, created_at);

-- Charges are money history: never changed, never removed.
CREATE FUNCTION subscription_charges_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'subscription_charges is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER subscription_charges_append_only BEFORE UPDATE OR DELETE ON subscription_charges
    FOR EACH ROW EXECUTE FUNCTION subscription_charges_append_only();
