-- Bookings: a driver holds one port of a listing for [starts_at, ends_at).
-- The database itself makes double booking impossible (bookings_no_overlap), under any
-- concurrency. Constraint names are part of the API: marketplace::bookings maps them.

-- btree_gist lets one GiST index combine `port_id WITH =` and `period WITH &&`.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Per-listing booking rules. No row: the defaults of marketplace::bookings::rules apply
-- (and the default refund tiers). With a row, the listing's refund tiers are exactly the
-- rows of listing_refund_tiers (none at all: cancellations are never refunded).
CREATE TABLE listing_booking_rules (
    listing_id             uuid        NOT NULL,
    min_duration_minutes   integer     NOT NULL,
    max_duration_minutes   integer     NOT NULL,
    -- how long before its start a booking must be made
    lead_time_minutes      integer     NOT NULL,
    -- how far ahead a booking may start
    max_advance_days       integer     NOT NULL,
    -- arrival window: check-in from start - grace to start + grace; not checked in by
    -- start + grace is a no-show
    arrival_grace_minutes  integer     NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT listing_booking_rules_pkey PRIMARY KEY (listing_id),
    CONSTRAINT listing_booking_rules_listing_id_fkey FOREIGN KEY (listing_id)
        REFERENCES listings (id) ON DELETE CASCADE,
    CONSTRAINT listing_booking_rules_duration_check
        CHECK (min_duration_minutes >= 5 AND max_duration_minutes >= min_duration_minutes
               AND max_duration_minutes <= 10080),
    CONSTRAINT listing_booking_rules_lead_check CHECK (lead_time_minutes BETWEEN 0 AND 10080),
    CONSTRAINT listing_booking_rules_advance_check CHECK (max_advance_days BETWEEN 1 AND 365),
    CONSTRAINT listing_booking_rules_grace_check CHECK (arrival_grace_minutes BETWEEN 5 AND 120)
);

-- The refund policy as data: cancelled by the driver MORE than min_notice_minutes before
-- the start refunds refund_percent (the tier with the largest notice that applies wins).
CREATE TABLE listing_refund_tiers (
    listing_id          uuid     NOT NULL,
    min_notice_minutes  integer  NOT NULL,
    refund_percent      smallint NOT NULL,
    CONSTRAINT listing_refund_tiers_pkey PRIMARY KEY (listing_id, min_notice_minutes),
    CONSTRAINT listing_refund_tiers_listing_id_fkey FOREIGN KEY (listing_id)
        REFERENCES listing_booking_rules (listing_id) ON DELETE CASCADE,
    CONSTRAINT listing_refund_tiers_notice_check CHECK (min_notice_minutes BETWEEN 0 AND 43200),
    CONSTRAINT listing_refund_tiers_percent_check CHECK (refund_percent BETWEEN 0 AND 100)
);

-- OCPP ReserveNow ids are int32: one sequence, so an id never names two bookings.
CREATE SEQUENCE bookings_reservation_id_seq AS integer MINVALUE 1 MAXVALUE 2147483647;

CREATE TABLE bookings (
    id                  uuid        NOT NULL,
    listing_id          uuid        NOT NULL,
    port_id             uuid        NOT NULL,
    driver_id           uuid        NOT NULL,
    status              text        NOT NULL,
    starts_at           timestamptz NOT NULL,
    ends_at             timestamptz NOT NULL,
    period              tstzrange   GENERATED ALWAYS AS (tstzrange(starts_at, ends_at, '[)')) STORED,
    emergency           boolean     NOT NULL DEFAULT false,
    -- a pending booking holds its slot until then (created + 10 min) unless confirmed
    expires_at          timestamptz,
    confirmed_at        timestamptz,
    checked_in_at       timestamptz,
    charging_at         timestamptz,
    completed_at        timestamptz,
    cancelled_at        timestamptz,
    cancelled_by        text,
    cancel_reason       text,
    -- the emergency booking that moved or preempted this one
    preempted_by        uuid,
    -- set when an emergency moved this booking to another port of the listing
    moved_from_port     uuid,
    -- what the booking costs (the reservation fee the payment hold will cover), in minor
    -- units, estimated from the listing's price summary until tariffs exist
    amount_cents        bigint      NOT NULL,
    currency            char(3)     NOT NULL,
    -- OCPP seam: the ReserveNow id, and where the station's reservation stands, so the CSMS
    -- dispatcher picks due work from this table durably (see bookings::reservations)
    reservation_id      integer     NOT NULL DEFAULT nextval('bookings_reservation_id_seq'),
    reservation_state   text        NOT NULL DEFAULT 'none',
    reservation_at      timestamptz,
    -- the OCPP transaction that charged on this booking
    transaction_id      text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookings_pkey PRIMARY KEY (id),
    CONSTRAINT bookings_listing_id_fkey FOREIGN KEY (listing_id) REFERENCES listings (id),
    CONSTRAINT bookings_port_id_fkey FOREIGN KEY (port_id) REFERENCES listing_ports (id),
    CONSTRAINT bookings_driver_id_fkey FOREIGN KEY (driver_id) REFERENCES users (id),
    -- deferred: an emergency booking preempts others before it is inserted itself
    CONSTRAINT bookings_preempted_by_fkey FOREIGN KEY (preempted_by) REFERENCES bookings (id)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT bookings_moved_from_port_fkey FOREIGN KEY (moved_from_port)
        REFERENCES listing_ports (id),
    CONSTRAINT bookings_reservation_id_key UNIQUE (reservation_id),
    CONSTRAINT bookings_status_check CHECK (status IN ('pending', 'confirmed', 'checked_in',
        'charging', 'completed', 'cancelled', 'expired', 'preempted', 'no_show')),
    CONSTRAINT bookings_period_check CHECK (ends_at > starts_at),
    CONSTRAINT bookings_pending_expiry_check CHECK (status <> 'pending' OR expires_at IS NOT NULL),
    CONSTRAINT bookings_cancelled_by_check CHECK (cancelled_by IN ('driver', 'host', 'system')),
    CONSTRAINT bookings_cancelled_check
        CHECK ((status IN ('cancelled', 'preempted')) = (cancelled_at IS NOT NULL)),
    CONSTRAINT bookings_amount_check CHECK (amount_cents >= 0),
    CONSTRAINT bookings_reservation_state_check CHECK (reservation_state IN ('none', 'due',
        'sent', 'accepted', 'rejected', 'cancel_due', 'cancel_sent', 'cancelled', 'expired',
        'used')),
    -- The invariant: two live bookings never hold the same port at the same instant.
    -- Half-open ranges, so one booking may end exactly when the next starts.
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (port_id WITH =, period WITH &&)
        WHERE (status IN ('pending', 'confirmed', 'checked_in', 'charging'))
);

-- Writes of live bookings take a per-port advisory lock first. Without it, two transactions
-- writing overlapping rows of one port at once each wait in the EXCLUDE check for the other
-- to finish: a deadlock, broken only after deadlock_timeout. With it they queue, and the
-- second one sees the first one's committed row. (Rows leaving the live statuses need no
-- lock: their new versions are outside the constraint.)
CREATE FUNCTION bookings_port_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- (classid, objid): 'bk' for bookings, and the port
    PERFORM pg_advisory_xact_lock(25195, hashtext(NEW.port_id::text));
    RETURN NEW;
END;
$$;
CREATE TRIGGER bookings_port_lock BEFORE INSERT OR UPDATE ON bookings FOR EACH ROW
    WHEN (NEW.status IN ('pending', 'confirmed', 'checked_in', 'charging'))
    EXECUTE FUNCTION bookings_port_lock();

CREATE INDEX bookings_driver_idx ON bookings (driver_id, starts_at DESC);
CREATE INDEX bookings_listing_idx ON bookings (listing_id, starts_at DESC);
-- the sweeps: pending past expiry, confirmed past the arrival window, checked-in past the end
CREATE INDEX bookings_pending_expiry_idx ON bookings (expires_at) WHERE status = 'pending';
CREATE INDEX bookings_confirmed_start_idx ON bookings (starts_at) WHERE status = 'confirmed';
CREATE INDEX bookings_checked_in_end_idx ON bookings (ends_at) WHERE status = 'checked_in';
-- a station's session back to its booking
CREATE INDEX bookings_transaction_idx ON bookings (transaction_id) WHERE transaction_id IS NOT NULL;
-- the OCPP dispatcher's queue
CREATE INDEX bookings_reservation_work_idx ON bookings (starts_at)
    WHERE reservation_state IN ('due', 'sent', 'cancel_due', 'cancel_sent');

-- Append-only audit trail of everything that happened to a booking.
CREATE TABLE booking_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    booking_id  uuid        NOT NULL,
    at          timestamptz NOT NULL,
    kind        text        NOT NULL,
    -- who did it: a user, or the system (sweeps, stations) when NULL
    actor_id    uuid,
    actor       text        NOT NULL,
    data        jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT booking_events_pkey PRIMARY KEY (id),
    CONSTRAINT booking_events_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id),
    CONSTRAINT booking_events_actor_check
        CHECK (actor IN ('driver', 'host', 'admin', 'system', 'station'))
);
CREATE INDEX booking_events_booking_idx ON booking_events (booking_id, id);

CREATE FUNCTION booking_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'booking_events is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER booking_events_append_only BEFORE UPDATE OR DELETE ON booking_events
    FOR EACH ROW EXECUTE FUNCTION booking_events_append_only();

-- One refund decision per cancelled or preempted booking, waiting for the ledger (issue 7)
-- to post it to the driver's wallet and set posted_at.
CREATE TABLE booking_refunds (
    id            uuid        NOT NULL,
    booking_id    uuid        NOT NULL,
    amount_cents  bigint      NOT NULL,
    currency      char(3)     NOT NULL,
    percent       smallint    NOT NULL,
    reason        text        NOT NULL,
    cancelled_by  text        NOT NULL,
    decided_at    timestamptz NOT NULL,
    posted_at     timestamptz,
    CONSTRAINT booking_refunds_pkey PRIMARY KEY (id),
    CONSTRAINT booking_refunds_booking_id_key UNIQUE (booking_id),
    CONSTRAINT booking_refunds_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id),
    CONSTRAINT booking_refunds_amount_check CHECK (amount_cents >= 0),
    CONSTRAINT booking_refunds_percent_check CHECK (percent BETWEEN 0 AND 100),
    CONSTRAINT booking_refunds_cancelled_by_check
        CHECK (cancelled_by IN ('driver', 'host', 'system'))
);
CREATE INDEX booking_refunds_unposted_idx ON booking_refunds (decided_at) WHERE posted_at IS NULL;

-- Idempotency-Key: the first successful answer to (user, scope, key) is kept and replayed to
-- retries; the same key with another request body is refused. The row is claimed at the
-- start of the request's transaction (so a concurrent retry waits on it) and the answer is
-- filled in before that transaction commits: a committed row always has one.
CREATE TABLE idempotency_keys (
    user_id       uuid        NOT NULL,
    scope         text        NOT NULL,
    key           text        NOT NULL,
    request_hash  bytea       NOT NULL,
    status_code   smallint,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, scope, key),
    CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_hash_length CHECK (octet_length(request_hash) = 32)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
