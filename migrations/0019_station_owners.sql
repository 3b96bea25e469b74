-- Stations belong to someone (issue 12). A host may bind a listing only to a station they own,
-- proved by a claim (the station's Basic auth password, or an operator's approval); a station
-- is bound to at most one listing.

ALTER TABLE stations ADD COLUMN owner_id uuid REFERENCES users (id);
CREATE INDEX stations_owner_idx ON stations (owner_id) WHERE owner_id IS NOT NULL;

-- Stations already bound to listings belong to those listings' hosts (one host each; where
-- several hosts named the same station, nobody owns it until an operator decides).
UPDATE stations s SET owner_id = b.host_id
FROM (SELECT device_id, min(host_id::text)::uuid AS host_id
      FROM listings WHERE device_kind = 'ocpp' GROUP BY device_id
      HAVING count(DISTINCT host_id) = 1) b
WHERE b.device_id = s.id;

CREATE TABLE station_claims (
    id          uuid PRIMARY KEY,
    station_id  text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
    host_id     uuid NOT NULL REFERENCES users (id),
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected')),
    -- how it was proved: the station's password (approved at once) or an operator's decision
    proof       text NOT NULL CHECK (proof IN ('password', 'operator')),
    note        text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    decided_by  uuid REFERENCES users (id),
    decided_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT station_claims_decided CHECK ((status = 'pending') = (decided_at IS NULL))
);
-- One open claim per host and station.
CREATE UNIQUE INDEX station_claims_one_pending ON station_claims (station_id, host_id)
    WHERE status = 'pending';
CREATE INDEX station_claims_pending ON station_claims (created_at) WHERE status = 'pending';

-- A device drives one listing. Where duplicates exist already, every listing but the newest
-- loses its device (becomes a plain socket) rather than failing the migration.
UPDATE listings l SET device_kind = 'plain', device_id = NULL
WHERE device_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM listings o WHERE o.device_kind = l.device_kind AND o.device_id = l.device_id
      AND (o.created_at, o.id) > (l.created_at, l.id));
DROP INDEX listings_device_idx;
CREATE UNIQUE INDEX listings_one_per_device ON listings (device_kind, device_id)
    WHERE device_id IS NOT NULL;

-- An OCPP listing's station must belong to the listing's host.
CREATE FUNCTION listings_station_owned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.device_kind = 'ocpp' AND NOT EXISTS (
        SELECT 1 FROM stations WHERE id = NEW.device_id AND owner_id = NEW.host_id) THEN
        RAISE EXCEPTION 'station % does not belong to the listing''s host', NEW.device_id
            USING ERRCODE = '23514', CONSTRAINT = 'listings_station_owned';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER listings_station_owned_insert BEFORE INSERT ON listings
    FOR EACH ROW EXECUTE FUNCTION listings_station_owned();
-- Only when the binding changes: a listing bound before owners existed stays editable.
CREATE TRIGGER listings_station_owned_update BEFORE UPDATE OF device_kind, device_id, host_id
    ON listings FOR EACH ROW
    WHEN (OLD.device_kind IS DISTINCT FROM NEW.device_kind
          OR OLD.device_id IS DISTINCT FROM NEW.device_id
          OR OLD.host_id IS DISTINCT FROM NEW.host_id)
    EXECUTE FUNCTION listings_station_owned();

-- A station bound to a host's listing cannot be handed to someone else under it.
CREATE FUNCTION stations_owner_keeps_listings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.owner_id IS DISTINCT FROM OLD.owner_id AND EXISTS (
        SELECT 1 FROM listings WHERE device_kind = 'ocpp' AND device_id = NEW.id
          AND host_id IS DISTINCT FROM NEW.owner_id) THEN
        RAISE EXCEPTION 'station % is bound to a listing of its current owner', NEW.id
            USING ERRCODE = '23514', CONSTRAINT = 'stations_owner_has_listing';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER stations_owner_keeps_listings BEFORE UPDATE OF owner_id ON stations
    FOR EACH ROW EXECUTE FUNCTION stations_owner_keeps_listings();
