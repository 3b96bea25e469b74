-- Charging sessions: a driver's charge on a port, tied to a booking (or started ad hoc) and to
-- the OCPP transaction that delivered the energy. The session's energy comes from its own
-- register readings (written as the station reports them, in any order); its bill is computed
-- once, when the transaction ends, and is immutable: a correction is a new revision.
-- Constraint names are part of the API: marketplace::sessions maps them.

-- OCPP ids are int32: the session number is the RequestStartTransaction remoteStartId, the
-- central token `SESSION-<number>`, and the id of the pause charging profile.
CREATE SEQUENCE charging_sessions_number_seq AS integer MINVALUE 1 MAXVALUE 2147483647;

CREATE TABLE charging_sessions (
    id                 uuid        NOT NULL,
    number             integer     NOT NULL DEFAULT nextval('charging_sessions_number_seq'),
    driver_id          uuid        NOT NULL,
    listing_id         uuid        NOT NULL,
    port_id            uuid        NOT NULL,
    booking_id         uuid,
    -- the OCPP side: the station (listings.device_id), its EVSE, the transaction once known
    station_id         text        NOT NULL,
    evse_id            integer     NOT NULL,
    connector_id       integer,
    id_token           text        NOT NULL,
    id_token_type      text        NOT NULL,
    transaction_id     text,
    -- start → active ↔ paused → completed; cancelled: never started (rejected, stopped or
    -- timed out before the station reported a transaction)
    status             text        NOT NULL,
    -- who started it: the app (`app`) or the station (`station`: a card or a booked EVSE)
    origin             text        NOT NULL,
    -- priced with the host's emergency multiplier (an emergency booking)
    emergency          boolean     NOT NULL DEFAULT false,
    requested_at       timestamptz NOT NULL,
    -- the station's clock: when the transaction started / ended for this session
    started_at         timestamptz,
    ended_at           timestamptz,
    end_reason         text,
    stop_requested_at  timestamptz,
    -- the transaction's events seen (seqNo), to know when all of them have arrived
    seq_nos            integer[]   NOT NULL DEFAULT '{}',
    started_seq        integer,
    ended_seq          integer,
    -- caches of the readings, for lists and live views
    energy_wh          numeric(14, 3) NOT NULL DEFAULT 0,
    power_w            numeric(12, 3),
    soc_percent        numeric(5, 2),
    last_reading_at    timestamptz,
    charging_state     text,
    -- the last running cost sent to the station (CostUpdated)
    cost_sent          numeric(14, 4),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT charging_sessions_pkey PRIMARY KEY (id),
    CONSTRAINT charging_sessions_number_key UNIQUE (number),
    CONSTRAINT charging_sessions_driver_id_fkey FOREIGN KEY (driver_id) REFERENCES users (id),
    CONSTRAINT charging_sessions_listing_id_fkey FOREIGN KEY (listing_id) REFERENCES listings (id),
    CONSTRAINT charging_sessions_port_id_fkey FOREIGN KEY (port_id) REFERENCES listing_ports (id),
    CONSTRAINT charging_sessions_booking_id_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id),
    CONSTRAINT charging_sessions_transaction_key UNIQUE (station_id, transaction_id),
    CONSTRAINT charging_sessions_status_check
        CHECK (status IN ('start', 'active', 'paused', 'completed', 'cancelled')),
    CONSTRAINT charging_sessions_origin_check CHECK (origin IN ('app', 'station')),
    CONSTRAINT charging_sessions_transaction_check
        CHECK (status IN ('start', 'cancelled') OR transaction_id IS NOT NULL),
    CONSTRAINT charging_sessions_ended_check CHECK ((status = 'completed') = (ended_at IS NOT NULL)),
    CONSTRAINT charging_sessions_energy_check CHECK (energy_wh >= 0)
);

-- One live session per port and per booking, under any concurrency.
CREATE UNIQUE INDEX charging_sessions_port_live_key ON charging_sessions (port_id)
    WHERE status IN ('start', 'active', 'paused');
CREATE UNIQUE INDEX charging_sessions_booking_live_key ON charging_sessions (booking_id)
    WHERE status IN ('start', 'active', 'paused');
CREATE INDEX charging_sessions_driver_idx ON charging_sessions (driver_id, requested_at DESC);
CREATE INDEX charging_sessions_listing_idx ON charging_sessions (listing_id, started_at);
-- matching a station's events to a session started from the app
CREATE INDEX charging_sessions_waiting_idx ON charging_sessions (station_id, evse_id)
    WHERE transaction_id IS NULL;
-- the jobs: live sessions (cost updates), ended but not billed yet, starts that timed out
CREATE INDEX charging_sessions_live_idx ON charging_sessions (station_id)
    WHERE status IN ('active', 'paused');

-- Register readings of a session, one per measurand and instant. A repeated instant keeps the
-- larger value, so the result never depends on the order events arrive in.
CREATE TABLE session_readings (
    session_id  uuid        NOT NULL,
    measurand   text        NOT NULL,
    sampled_at  timestamptz NOT NULL,
    value       numeric(16, 3) NOT NULL,
    CONSTRAINT session_readings_pkey PRIMARY KEY (session_id, measurand, sampled_at),
    CONSTRAINT session_readings_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES charging_sessions (id),
    CONSTRAINT session_readings_measurand_check
        CHECK (measurand IN ('energy_wh', 'power_w', 'soc_percent'))
);

-- Pauses asked for by the driver (a 0 A charging profile), tracked apart from charging.
CREATE TABLE session_pauses (
    session_id  uuid        NOT NULL,
    paused_at   timestamptz NOT NULL,
    resumed_at  timestamptz,
    CONSTRAINT session_pauses_pkey PRIMARY KEY (session_id, paused_at),
    CONSTRAINT session_pauses_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES charging_sessions (id),
    CONSTRAINT session_pauses_order_check CHECK (resumed_at IS NULL OR resumed_at >= paused_at)
);
CREATE UNIQUE INDEX session_pauses_open_key ON session_pauses (session_id) WHERE resumed_at IS NULL;

-- The bills: revision 1 is computed when the transaction ends; a later revision restates the
-- whole bill (late station data, an admin correction) and names the one it supersedes. Rows
-- are never updated or deleted, except that the ledger (issue 7) sets posted_at once.
-- Amounts are in minor units of `currency` (`minor_digits` decimals).
CREATE TABLE session_bills (
    id                         uuid        NOT NULL,
    session_id                 uuid        NOT NULL,
    revision                   integer     NOT NULL,
    supersedes                 uuid,
    reason                     text        NOT NULL,
    currency                   char(3)     NOT NULL,
    minor_digits               smallint    NOT NULL,
    total_cents                bigint      NOT NULL,
    -- tax: `vat_included` (inside the lines) or `sales_tax` (a line of its own)
    tax_kind                   text        NOT NULL,
    tax_percent                numeric(6, 3) NOT NULL,
    taxable_cents              bigint      NOT NULL,
    tax_cents                  bigint      NOT NULL,
    -- the split: commission + host share + insurance + tax = total
    commission_base_cents      bigint      NOT NULL,
    platform_commission_cents  bigint      NOT NULL,
    host_share_cents           bigint      NOT NULL,
    insurance_cents            bigint      NOT NULL,
    -- what was priced: the tariff version in force at the start (NULL: summary prices)
    tariff_id                  uuid,
    tariff_version             integer,
    session_start              timestamptz NOT NULL,
    session_end                timestamptz NOT NULL,
    energy_wh                  numeric(14, 3) NOT NULL,
    charging_seconds           bigint      NOT NULL,
    idle_seconds               bigint      NOT NULL,
    paused_seconds             bigint      NOT NULL,
    ocpi_totals                jsonb       NOT NULL,
    computed_at                timestamptz NOT NULL,
    -- the seam for the ledger (issue 7): set once when the amounts are posted
    posted_at                  timestamptz,
    CONSTRAINT session_bills_pkey PRIMARY KEY (id),
    CONSTRAINT session_bills_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES charging_sessions (id),
    CONSTRAINT session_bills_supersedes_fkey FOREIGN KEY (supersedes) REFERENCES session_bills (id),
    CONSTRAINT session_bills_revision_key UNIQUE (session_id, revision),
    CONSTRAINT session_bills_supersedes_key UNIQUE (supersedes),
    CONSTRAINT session_bills_revision_check
        CHECK (revision >= 1 AND (revision = 1) = (supersedes IS NULL)),
    CONSTRAINT session_bills_split_check CHECK (
        platform_commission_cents + host_share_cents + insurance_cents + tax_cents = total_cents
        AND commission_base_cents = platform_commission_cents + host_share_cents),
    CONSTRAINT session_bills_tax_kind_check CHECK (tax_kind IN ('vat_included', 'sales_tax')),
    CONSTRAINT session_bills_times_check CHECK (session_end >= session_start),
    CONSTRAINT session_bills_digits_check CHECK (minor_digits BETWEEN 0 AND 4)
);
CREATE INDEX session_bills_unposted_idx ON session_bills (computed_at) WHERE posted_at IS NULL;

CREATE TABLE session_bill_lines (
    bill_id       uuid     NOT NULL,
    position      smallint NOT NULL,
    kind          text     NOT NULL,
    description   text     NOT NULL,
    quantity      numeric(16, 4),
    unit          text,
    unit_price    numeric(16, 6),
    amount_cents  bigint   NOT NULL,
    CONSTRAINT session_bill_lines_pkey PRIMARY KEY (bill_id, position),
    CONSTRAINT session_bill_lines_bill_id_fkey FOREIGN KEY (bill_id) REFERENCES session_bills (id)
);

-- The bill in force of each session: its highest revision.
CREATE VIEW session_bills_current AS
    SELECT DISTINCT ON (session_id) * FROM session_bills ORDER BY session_id, revision DESC;

-- Immutability: no UPDATE or DELETE, except posting (posted_at from NULL to a time, nothing
-- else changed).
CREATE FUNCTION session_bills_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.posted_at IS NULL AND NEW.posted_at IS NOT NULL
           AND to_jsonb(NEW) - 'posted_at' = to_jsonb(OLD) - 'posted_at' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'session_bills is immutable: corrections are new revisions'
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER session_bills_immutable BEFORE UPDATE OR DELETE ON session_bills
    FOR EACH ROW EXECUTE FUNCTION session_bills_immutable();

CREATE FUNCTION session_bill_lines_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'session_bill_lines is immutable: corrections are new revisions'
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER session_bill_lines_immutable BEFORE UPDATE OR DELETE ON session_bill_lines
    FOR EACH ROW EXECUTE FUNCTION session_bill_lines_immutable();

-- A bill's total is the sum of its lines, checked when the inserting transaction commits.
CREATE FUNCTION session_bills_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lines bigint;
BEGIN
    SELECT coalesce(sum(amount_cents), 0) INTO lines FROM session_bill_lines WHERE bill_id = NEW.id;
    IF lines <> NEW.total_cents THEN
        RAISE EXCEPTION 'bill %: lines sum to %, total is %', NEW.id, lines, NEW.total_cents
            USING ERRCODE = 'check_violation', CONSTRAINT = 'session_bills_balanced';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER session_bills_balanced AFTER INSERT ON session_bills
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION session_bills_balanced();
