-- Issue 12, "money only moves when it was collected".
--
-- 1. A session started without a booking (from the app on a free port, or by a driver's own
--    card at the station) has its own hold on the driver's wallet. While it charges the hold
--    may grow from the wallet (never shrink: money leaves a hold only through its postings).
ALTER TABLE ledger_holds ADD COLUMN session_id uuid;
ALTER TABLE ledger_holds ADD CONSTRAINT ledger_holds_session_id_fkey FOREIGN KEY (session_id)
    REFERENCES charging_sessions (id);
ALTER TABLE ledger_holds ADD CONSTRAINT ledger_holds_one_purpose_check
    CHECK (booking_id IS NULL OR session_id IS NULL);
CREATE UNIQUE INDEX ledger_holds_session_open_key ON ledger_holds (session_id)
    WHERE status = 'open';

CREATE OR REPLACE FUNCTION ledger_holds_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'open' AND NEW.status = 'closed'
       AND to_jsonb(NEW) - 'status' - 'closed_at' = to_jsonb(OLD) - 'status' - 'closed_at' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'open' AND NEW.status = 'open'
       AND NEW.amount_minor > OLD.amount_minor
       AND to_jsonb(NEW) - 'amount_minor' = to_jsonb(OLD) - 'amount_minor' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger_holds rows only grow while open, then close'
        USING ERRCODE = 'restrict_violation';
END;
$$;

-- 2. Why the platform stopped a session itself (the station's own stoppedReason stays in
--    end_reason). Set once.
ALTER TABLE charging_sessions ADD COLUMN stop_reason text;
ALTER TABLE charging_sessions ADD CONSTRAINT charging_sessions_stop_reason_check
    CHECK (stop_reason IN ('funds_exhausted'));

-- 3. A host's share of what a driver was left owing waits in `host_pending` until the driver
--    pays; only then does it become `host_payable` (what transfers pay out).
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN (
    'driver_wallet', 'driver_hold', 'driver_receivable', 'host_payable', 'host_pending',
    'platform_commission', 'insurance_reserve', 'tax_payable', 'provider_clearing',
    'platform_refunds', 'platform_subscriptions', 'provider_fees'));
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_owner_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_owner_check CHECK ((kind IN (
    'driver_wallet', 'driver_hold', 'driver_receivable', 'host_payable', 'host_pending'))
    = (owner_id IS NOT NULL));

-- One withheld share: the posting that left `owed_minor` of a bill unpaid, and the host's
-- `share_minor` of it. As the driver pays off debt (oldest share first) `paid_minor` grows
-- and `released_minor` follows it pro rata; a corrected bill can shrink both. The open
-- remainder (share - released) is exactly the host_pending balance (reconciliation checks).
CREATE TABLE ledger_pending_shares (
    id              uuid        NOT NULL,
    driver_id       uuid        NOT NULL,
    host_id         uuid        NOT NULL,
    currency        char(3)     NOT NULL,
    posting_id      uuid        NOT NULL,
    session_id      uuid,
    owed_minor      bigint      NOT NULL,
    share_minor     bigint      NOT NULL,
    paid_minor      bigint      NOT NULL DEFAULT 0,
    released_minor  bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    settled_at      timestamptz,
    CONSTRAINT ledger_pending_shares_pkey PRIMARY KEY (id),
    CONSTRAINT ledger_pending_shares_driver_fkey FOREIGN KEY (driver_id) REFERENCES users (id),
    CONSTRAINT ledger_pending_shares_host_fkey FOREIGN KEY (host_id) REFERENCES users (id),
    CONSTRAINT ledger_pending_shares_posting_fkey FOREIGN KEY (posting_id)
        REFERENCES ledger_postings (id),
    CONSTRAINT ledger_pending_shares_session_fkey FOREIGN KEY (session_id)
        REFERENCES charging_sessions (id),
    CONSTRAINT ledger_pending_shares_posting_host_key UNIQUE (posting_id, host_id),
    CONSTRAINT ledger_pending_shares_amounts_check CHECK (owed_minor >= 0 AND share_minor >= 0
        AND paid_minor BETWEEN 0 AND owed_minor AND released_minor BETWEEN 0 AND share_minor),
    CONSTRAINT ledger_pending_shares_settled_check
        CHECK ((settled_at IS NOT NULL) = (released_minor = share_minor AND paid_minor = owed_minor))
);
CREATE INDEX ledger_pending_shares_open_idx ON ledger_pending_shares (driver_id, currency, created_at)
    WHERE settled_at IS NULL;

-- host_pending → host_payable once the driver paid.
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_kind_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_kind_check CHECK (kind IN ('topup',
    'hold', 'release', 'capture', 'refund', 'settlement', 'adjustment', 'reversal',
    'subscription', 'share_release'));

-- A dispute's fee the provider reports only in a later event than the withdrawal (the
-- balance transaction was not expanded yet): posted then, by difference, once per new total.
ALTER TABLE payment_disputes ADD COLUMN fee_later_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE payment_disputes ADD CONSTRAINT payment_disputes_fee_later_check
    CHECK (fee_later_minor >= 0);
