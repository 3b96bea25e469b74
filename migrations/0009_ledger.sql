-- The money ledger (issue 7): double-entry, append-only, integer minor units, one currency per
-- posting. Constraint names are part of the API: marketplace::ledger maps them.
--
-- Sign convention: an entry's `amount_minor` is what flows INTO its account (a credit is
-- positive, a debit negative), and every posting's entries sum to zero. So the accounts the
-- platform owes or earns (driver wallets and holds, host payables, commission, insurance
-- reserve, tax payable) have positive balances, and the accounts money comes from (payment-
-- provider clearing: cash the providers collected for us; refunds expense; a driver's
-- receivable: what the driver owes) have negative ones. The sum of all accounts is zero.

CREATE TABLE ledger_accounts (
    id          uuid        NOT NULL,
    kind        text        NOT NULL,
    -- the user whose account it is (drivers' and hosts' accounts); NULL for the platform's
    owner_id    uuid,
    currency    char(3)     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_accounts_pkey PRIMARY KEY (id),
    -- for the entries' composite key: an entry's currency is its account's
    CONSTRAINT ledger_accounts_id_currency_key UNIQUE (id, currency),
    CONSTRAINT ledger_accounts_kind_owner_currency_key
        UNIQUE NULLS NOT DISTINCT (kind, owner_id, currency),
    CONSTRAINT ledger_accounts_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id),
    CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('driver_wallet', 'driver_hold',
        'driver_receivable', 'host_payable', 'platform_commission', 'insurance_reserve',
        'tax_payable', 'provider_clearing', 'platform_refunds')),
    CONSTRAINT ledger_accounts_owner_check CHECK ((kind IN ('driver_wallet', 'driver_hold',
        'driver_receivable', 'host_payable')) = (owner_id IS NOT NULL)),
    CONSTRAINT ledger_accounts_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);

-- A hold on a driver's wallet (for a booking): its money sits in the driver's driver_hold
-- account; what is left of it is the sum of its postings' entries there (`hold_id`). Only
-- `status` changes, once, from open to closed (captured and/or released in full).
CREATE TABLE ledger_holds (
    id            uuid        NOT NULL,
    driver_id     uuid        NOT NULL,
    booking_id    uuid,
    currency      char(3)     NOT NULL,
    amount_minor  bigint      NOT NULL,
    status        text        NOT NULL DEFAULT 'open',
    created_at    timestamptz NOT NULL,
    closed_at     timestamptz,
    CONSTRAINT ledger_holds_pkey PRIMARY KEY (id),
    CONSTRAINT ledger_holds_driver_id_fkey FOREIGN KEY (driver_id) REFERENCES users (id),
    CONSTRAINT ledger_holds_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id),
    CONSTRAINT ledger_holds_amount_check CHECK (amount_minor > 0),
    CONSTRAINT ledger_holds_status_check CHECK (status IN ('open', 'closed')),
    CONSTRAINT ledger_holds_closed_check CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
-- one hold per booking at a time
CREATE UNIQUE INDEX ledger_holds_booking_open_key ON ledger_holds (booking_id)
    WHERE status = 'open';
CREATE INDEX ledger_holds_driver_idx ON ledger_holds (driver_id, created_at DESC);

CREATE FUNCTION ledger_holds_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'open' AND NEW.status = 'closed'
       AND to_jsonb(NEW) - 'status' - 'closed_at' = to_jsonb(OLD) - 'status' - 'closed_at' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger_holds rows only close' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ledger_holds_guard BEFORE UPDATE OR DELETE ON ledger_holds
    FOR EACH ROW EXECUTE FUNCTION ledger_holds_guard();

-- One money movement. Who/what caused it is kept in columns for the audit trail.
CREATE TABLE ledger_postings (
    id                 uuid        NOT NULL,
    kind               text        NOT NULL,
    currency           char(3)     NOT NULL,
    -- a retried posting is a no-op: the service derives the key from what caused it
    -- (`booking_refund:<id>`, `session_bill:<id>`, `provider:<name>:<event>`, ...)
    idempotency_key    text        NOT NULL,
    memo               text        NOT NULL DEFAULT '',
    -- the user who asked for it (driver, host, admin); NULL for the system (sweeps, stations)
    user_id            uuid,
    booking_id         uuid,
    booking_refund_id  uuid,
    session_id         uuid,
    session_bill_id    uuid,
    hold_id            uuid,
    -- a payment provider's event or payment (`<provider>:<id>`), for reconciliation
    provider_event_id  text,
    -- a reversing posting names the posting it reverses (at most once)
    reverses           uuid,
    created_at         timestamptz NOT NULL,
    CONSTRAINT ledger_postings_pkey PRIMARY KEY (id),
    CONSTRAINT ledger_postings_id_currency_key UNIQUE (id, currency),
    CONSTRAINT ledger_postings_idempotency_key UNIQUE (idempotency_key),
    CONSTRAINT ledger_postings_provider_event_key UNIQUE (provider_event_id),
    CONSTRAINT ledger_postings_reverses_key UNIQUE (reverses),
    CONSTRAINT ledger_postings_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ledger_postings_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id),
    CONSTRAINT ledger_postings_booking_refund_id_fkey FOREIGN KEY (booking_refund_id)
        REFERENCES booking_refunds (id),
    CONSTRAINT ledger_postings_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES charging_sessions (id),
    CONSTRAINT ledger_postings_session_bill_id_fkey FOREIGN KEY (session_bill_id)
        REFERENCES session_bills (id),
    CONSTRAINT ledger_postings_hold_id_fkey FOREIGN KEY (hold_id) REFERENCES ledger_holds (id),
    CONSTRAINT ledger_postings_reverses_fkey FOREIGN KEY (reverses)
        REFERENCES ledger_postings (id),
    CONSTRAINT ledger_postings_kind_check CHECK (kind IN ('topup', 'hold', 'release',
        'capture', 'refund', 'settlement', 'adjustment', 'reversal')),
    CONSTRAINT ledger_postings_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 400),
    CONSTRAINT ledger_postings_reversal_check CHECK ((kind = 'reversal') = (reverses IS NOT NULL))
);
CREATE INDEX ledger_postings_created_idx ON ledger_postings (created_at, id);
CREATE INDEX ledger_postings_booking_idx ON ledger_postings (booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX ledger_postings_hold_idx ON ledger_postings (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX ledger_postings_bill_idx ON ledger_postings (session_bill_id)
    WHERE session_bill_id IS NOT NULL;

-- The entries of a posting: one per account (merged), never zero, in the posting's currency
-- and in the account's (the composite foreign keys).
CREATE TABLE ledger_entries (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    posting_id    uuid        NOT NULL,
    account_id    uuid        NOT NULL,
    currency      char(3)     NOT NULL,
    amount_minor  bigint      NOT NULL,
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (id),
    CONSTRAINT ledger_entries_posting_account_key UNIQUE (posting_id, account_id),
    CONSTRAINT ledger_entries_posting_fkey FOREIGN KEY (posting_id, currency)
        REFERENCES ledger_postings (id, currency),
    CONSTRAINT ledger_entries_account_fkey FOREIGN KEY (account_id, currency)
        REFERENCES ledger_accounts (id, currency),
    CONSTRAINT ledger_entries_amount_check CHECK (amount_minor <> 0)
);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, posting_id);

-- Balance, checked when the transaction commits: every posting has at least two entries and
-- they sum to zero. Fired by a new posting (one without entries is refused) and by every new
-- entry (so an entry added to an older posting is refused too).
CREATE FUNCTION ledger_check_balanced(pid uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
    n integer;
BEGIN
    SELECT coalesce(sum(amount_minor), 0), count(*) INTO total, n
      FROM ledger_entries WHERE posting_id = pid;
    IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'posting % is not balanced: % entries summing to %', pid, n, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_postings_balanced';
    END IF;
END;
$$;
CREATE FUNCTION ledger_postings_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_balanced(NEW.id);
    RETURN NULL;
END;
$$;
CREATE FUNCTION ledger_entries_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_check_balanced(NEW.posting_id);
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_postings_balanced();
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entries_balanced();

-- Append-only: corrections are reversing postings.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: corrections are reversing postings', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Cached balances of drivers' wallets and holds, kept by the entries' trigger in the same
-- transaction. The CHECK is what makes a wallet never go negative under any concurrency: the
-- second of two spends racing for the last balance waits on the row and then fails it.
CREATE TABLE wallet_balances (
    account_id     uuid        NOT NULL,
    balance_minor  bigint      NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wallet_balances_pkey PRIMARY KEY (account_id),
    CONSTRAINT wallet_balances_account_id_fkey FOREIGN KEY (account_id)
        REFERENCES ledger_accounts (id),
    CONSTRAINT wallet_balances_non_negative CHECK (balance_minor >= 0)
);

-- every driver wallet and hold account has its cache row from the start
CREATE FUNCTION wallet_balances_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wallet_balances (account_id) VALUES (NEW.id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER wallet_balances_open AFTER INSERT ON ledger_accounts FOR EACH ROW
    WHEN (NEW.kind IN ('driver_wallet', 'driver_hold'))
    EXECUTE FUNCTION wallet_balances_open();

CREATE FUNCTION wallet_balances_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wallet_balances SET balance_minor = balance_minor + NEW.amount_minor,
        updated_at = now()
     WHERE account_id = NEW.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER wallet_balances_apply AFTER INSERT ON ledger_entries FOR EACH ROW
    EXECUTE FUNCTION wallet_balances_apply();

-- The cache changes only through entries (from inside the trigger above).
CREATE FUNCTION wallet_balances_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
       AND NEW.account_id = OLD.account_id THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'wallet_balances changes only through ledger entries'
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER wallet_balances_guard BEFORE UPDATE OR DELETE ON wallet_balances
    FOR EACH ROW EXECUTE FUNCTION wallet_balances_guard();

-- A driver's wallet settings: below the threshold the wallet is "low" (the notifications
-- issue sends the alert).
CREATE TABLE wallet_settings (
    user_id                      uuid        NOT NULL,
    low_balance_threshold_minor  bigint,
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wallet_settings_pkey PRIMARY KEY (user_id),
    CONSTRAINT wallet_settings_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT wallet_settings_threshold_check CHECK (low_balance_threshold_minor >= 0)
);
