-- The CSMS side: stations, their connectors, id tokens, transactions and what stations report.
-- Station identity is the OCPP stationId string; the protocol of a connection is not a property
-- of the station (1.6 / 2.1 adapters will feed the same tables).

CREATE TABLE stations (
    id                  text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9*_=+.|@-]{1,48}$'),
    security_profile    smallint NOT NULL DEFAULT 0 CHECK (security_profile BETWEEN 0 AND 3),
    password_hash       text,
    registration_status text NOT NULL DEFAULT 'Pending'
                        CHECK (registration_status IN ('Accepted', 'Pending', 'Rejected')),
    vendor_name         text,
    model               text,
    serial_number       text,
    firmware_version    text,
    iccid               text,
    imsi                text,
    boot_reason         text,
    last_boot_at        timestamptz,
    last_heartbeat_at   timestamptz,
    last_seen_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stations_basic_auth_needs_password
        CHECK (security_profile NOT IN (1, 2) OR password_hash IS NOT NULL)
);

CREATE TABLE connector_status (
    station_id   text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id      integer NOT NULL,
    connector_id integer NOT NULL,
    status       text NOT NULL,
    reported_at  timestamptz NOT NULL,
    PRIMARY KEY (station_id, evse_id, connector_id)
);

CREATE TABLE connector_status_history (
    id           bigserial PRIMARY KEY,
    station_id   text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    evse_id      integer NOT NULL,
    connector_id integer NOT NULL,
    status       text NOT NULL,
    reported_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connector_status_history_station ON connector_status_history (station_id, reported_at);

CREATE TABLE id_tokens (
    id          uuid PRIMARY KEY,
    id_token    text NOT NULL CHECK (length(id_token) BETWEEN 1 AND 36),
    token_type  text NOT NULL DEFAULT 'ISO14443',
    status      text NOT NULL DEFAULT 'Accepted'
                CHECK (status IN ('Accepted', 'Blocked', 'Expired', 'Invalid', 'NoCredit', 'NotAllowedTypeEVSE', 'NotAtThisLocation', 'NotAtThisTime')),
    expires_at  timestamptz,
    group_id    text,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT id_tokens_token_type_key UNIQUE (id_token, token_type)
);

CREATE TABLE transactions (
    id               uuid PRIMARY KEY,
    station_id       text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    transaction_id   text NOT NULL,
    evse_id          integer,
    connector_id     integer,
    id_token         text,
    id_token_type    text,
    charging_state   text,
    remote_start_id  integer,
    reservation_id   integer,
    started_at       timestamptz,
    ended_at         timestamptz,
    stopped_reason   text,
    meter_start_wh   double precision,
    meter_start_at   timestamptz,
    meter_last_wh    double precision,
    meter_last_at    timestamptz,
    last_seq_no      integer NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transactions_station_tx_key UNIQUE (station_id, transaction_id)
);
CREATE INDEX transactions_active ON transactions (station_id) WHERE ended_at IS NULL;
CREATE INDEX transactions_started ON transactions (started_at DESC);

-- The raw events, one per (station, transaction, seqNo): retries and offline replays are
-- deduplicated here, and everything derived (meter samples, transaction state) can be rebuilt.
CREATE TABLE transaction_events (
    station_id     text NOT NULL,
    transaction_id text NOT NULL,
    seq_no         integer NOT NULL,
    event_type     text NOT NULL,
    trigger_reason text NOT NULL,
    event_at       timestamptz NOT NULL,
    offline        boolean NOT NULL DEFAULT false,
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, transaction_id, seq_no)
);

CREATE TABLE meter_samples (
    station_id     text NOT NULL,
    evse_id        integer NOT NULL,
    transaction_id text,
    sampled_at     timestamptz NOT NULL,
    measurand      text NOT NULL,
    phase          text,
    location       text,
    context        text,
    value          double precision NOT NULL,
    unit           text
);
CREATE INDEX meter_samples_tx ON meter_samples (station_id, transaction_id, sampled_at);

CREATE TABLE station_reports (
    id          bigserial PRIMARY KEY,
    station_id  text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('SecurityEvent', 'Event', 'FirmwareStatus', 'DataTransfer', 'Report', 'LogStatus')),
    reported_at timestamptz NOT NULL,
    payload     jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX station_reports_station ON station_reports (station_id, kind, reported_at DESC);
