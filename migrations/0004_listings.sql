-- Listings: chargers hosts offer, their ports, opening hours and blackout dates.
-- Search reads only `listings` (one GiST KNN scan): the port facts it filters on
-- (connector types, max power, ports free) are kept on the listing row by the service.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE listings (
    id                  uuid        NOT NULL,
    host_id             uuid        NOT NULL,
    title               text        NOT NULL,
    description         text        NOT NULL DEFAULT '',
    photos              text[]      NOT NULL DEFAULT '{}',
    address             text        NOT NULL,
    location            geography(Point, 4326) NOT NULL,
    time_zone           text        NOT NULL,
    amenities           text[]      NOT NULL DEFAULT '{}',
    access_instructions text        NOT NULL DEFAULT '',
    -- how the charger is driven: an OCPP station (device_id = stationId), an MQTT device, or
    -- nothing (a plain socket the host switches by hand)
    device_kind         text        NOT NULL DEFAULT 'plain',
    device_id           text,
    -- price summary until tariffs exist (issue 6 replaces the source, not the columns)
    currency            char(3)     NOT NULL DEFAULT 'USD',
    price_per_kwh       numeric(10, 4),
    price_per_hour      numeric(10, 2),
    rating_avg          numeric(3, 2) NOT NULL DEFAULT 0,
    rating_count        integer     NOT NULL DEFAULT 0,
    status              text        NOT NULL DEFAULT 'draft',
    rejection_reason    text,
    submitted_at        timestamptz,
    decided_at          timestamptz,
    -- denormalised from listing_ports for search
    connector_types     text[]      NOT NULL DEFAULT '{}',
    max_power_kw        numeric(6, 1) NOT NULL DEFAULT 0,
    ports_total         integer     NOT NULL DEFAULT 0,
    ports_available     integer     NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT listings_pkey PRIMARY KEY (id),
    CONSTRAINT listings_host_id_fkey FOREIGN KEY (host_id) REFERENCES users (id),
    CONSTRAINT listings_title_length CHECK (char_length(title) BETWEEN 3 AND 120),
    CONSTRAINT listings_description_length CHECK (char_length(description) <= 5000),
    CONSTRAINT listings_address_length CHECK (char_length(address) BETWEEN 3 AND 300),
    CONSTRAINT listings_status_check
        CHECK (status IN ('draft', 'submitted', 'rejected', 'listed', 'unlisted')),
    CONSTRAINT listings_device_kind_check CHECK (device_kind IN ('plain', 'ocpp', 'mqtt')),
    CONSTRAINT listings_device_id_check CHECK ((device_kind = 'plain') = (device_id IS NULL)),
    CONSTRAINT listings_price_per_kwh_range CHECK (price_per_kwh IS NULL OR price_per_kwh BETWEEN 0.05 AND 1.00),
    CONSTRAINT listings_price_per_hour_range CHECK (price_per_hour IS NULL OR price_per_hour >= 0),
    CONSTRAINT listings_rating_range CHECK (rating_avg BETWEEN 0 AND 5 AND rating_count >= 0),
    CONSTRAINT listings_ports_check CHECK (ports_available BETWEEN 0 AND ports_total)
);

-- Only listed chargers are searched; the partial index keeps the KNN scan tight.
CREATE INDEX listings_listed_location_gist ON listings USING gist (location) WHERE status = 'listed';
CREATE INDEX listings_host_id_idx ON listings (host_id);
CREATE INDEX listings_status_idx ON listings (status) WHERE status = 'submitted';
CREATE INDEX listings_device_idx ON listings (device_kind, device_id) WHERE device_id IS NOT NULL;

CREATE TABLE listing_ports (
    id              uuid        NOT NULL,
    listing_id      uuid        NOT NULL,
    label           text        NOT NULL DEFAULT '',
    connector_type  text        NOT NULL,
    power_kw        numeric(6, 1) NOT NULL,
    current_type    text        NOT NULL,
    -- for OCPP-bound listings: which EVSE/connector of the station this port is
    evse_id         integer,
    connector_id    integer,
    -- live status as the device last reported it (OCPP ConnectorStatus or MQTT status)
    live_status     text        NOT NULL DEFAULT 'Unknown',
    live_status_at  timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT listing_ports_pkey PRIMARY KEY (id),
    CONSTRAINT listing_ports_listing_id_fkey FOREIGN KEY (listing_id)
        REFERENCES listings (id) ON DELETE CASCADE,
    CONSTRAINT listing_ports_connector_type_check
        CHECK (connector_type IN ('CCS1', 'CCS2', 'CHAdeMO', 'Type1', 'Type2', 'NACS', 'Schuko')),
    CONSTRAINT listing_ports_power_range CHECK (power_kw > 0 AND power_kw <= 1000),
    CONSTRAINT listing_ports_current_type_check CHECK (current_type IN ('AC', 'DC')),
    CONSTRAINT listing_ports_live_status_check
        CHECK (live_status IN ('Available', 'Occupied', 'Reserved', 'Unavailable', 'Faulted', 'Unknown')),
    CONSTRAINT listing_ports_evse_key UNIQUE (listing_id, evse_id, connector_id)
);
CREATE INDEX listing_ports_listing_id_idx ON listing_ports (listing_id);

-- Weekly opening hours in the listing's local time. No row for a weekday: closed that day.
-- A listing with no rows at all is open around the clock. closes_at '24:00' ends the day.
CREATE TABLE listing_opening_hours (
    listing_id  uuid     NOT NULL,
    weekday     smallint NOT NULL,
    opens_at    time     NOT NULL,
    closes_at   time     NOT NULL,
    CONSTRAINT listing_opening_hours_listing_id_fkey FOREIGN KEY (listing_id)
        REFERENCES listings (id) ON DELETE CASCADE,
    -- ISO weekday: 1 = Monday ... 7 = Sunday
    CONSTRAINT listing_opening_hours_weekday_check CHECK (weekday BETWEEN 1 AND 7),
    CONSTRAINT listing_opening_hours_order_check CHECK (closes_at > opens_at),
    CONSTRAINT listing_opening_hours_pkey PRIMARY KEY (listing_id, weekday, opens_at)
);

-- Whole local days on which the listing cannot be booked (holidays, maintenance).
CREATE TABLE listing_blackouts (
    listing_id  uuid NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    reason      text NOT NULL DEFAULT '',
    CONSTRAINT listing_blackouts_listing_id_fkey FOREIGN KEY (listing_id)
        REFERENCES listings (id) ON DELETE CASCADE,
    CONSTRAINT listing_blackouts_order_check CHECK (ends_on >= starts_on),
    CONSTRAINT listing_blackouts_pkey PRIMARY KEY (listing_id, starts_on)
);
