-- Tariffs: every price change of a listing is a new version; none is ever updated or deleted
-- while its listing exists, so a session is always priced with the version in force when it
-- started (the latest valid_from at or before the start). The OCPI 2.2.1 Tariff object is
-- what the engine prices with; a host's simple settings, when the version came from them,
-- are kept beside it to show the host what they typed. listings.price_per_kwh/price_per_hour
-- stay as the search summary of the version in force (the service updates them).

CREATE TABLE listing_tariffs (
    id                    uuid        NOT NULL,
    listing_id            uuid        NOT NULL,
    version               integer     NOT NULL,
    valid_from            timestamptz NOT NULL DEFAULT now(),
    -- 'simple': built from `settings`; 'ocpi': a full OCPI tariff the host sent
    source                text        NOT NULL,
    settings              jsonb,
    tariff                jsonb       NOT NULL,
    currency              char(3)     NOT NULL,
    -- instant (emergency) bookings pay ENERGY and TIME × this
    emergency_multiplier  numeric(4, 2) NOT NULL DEFAULT 2,
    -- sales-tax countries only: the combined local rate the host must charge
    sales_tax_percent     numeric(5, 3),
    created_by            uuid        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT listing_tariffs_pkey PRIMARY KEY (id),
    CONSTRAINT listing_tariffs_listing_id_fkey FOREIGN KEY (listing_id)
        REFERENCES listings (id) ON DELETE CASCADE,
    CONSTRAINT listing_tariffs_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id),
    CONSTRAINT listing_tariffs_version_key UNIQUE (listing_id, version),
    CONSTRAINT listing_tariffs_valid_from_key UNIQUE (listing_id, valid_from),
    CONSTRAINT listing_tariffs_version_check CHECK (version >= 1),
    CONSTRAINT listing_tariffs_source_check CHECK (source IN ('simple', 'ocpi')),
    CONSTRAINT listing_tariffs_settings_check
        CHECK ((source = 'simple') = (settings IS NOT NULL AND jsonb_typeof(settings) = 'object')),
    CONSTRAINT listing_tariffs_tariff_check
        CHECK (jsonb_typeof(tariff) = 'object' AND jsonb_typeof(tariff -> 'elements') = 'array'),
    CONSTRAINT listing_tariffs_emergency_check CHECK (emergency_multiplier BETWEEN 1 AND 3),
    CONSTRAINT listing_tariffs_sales_tax_check
        CHECK (sales_tax_percent IS NULL OR sales_tax_percent BETWEEN 0 AND 25)
);

-- "The version in force at t": the newest valid_from <= t of one listing.
CREATE INDEX listing_tariffs_in_force_idx ON listing_tariffs (listing_id, valid_from DESC);
