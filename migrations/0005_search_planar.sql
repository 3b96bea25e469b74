-- Faster search, same answers.
--
-- 1. A planar GiST index on the listed points in lon/lat degrees. Its KNN walk is about
--    seven times cheaper than the geography index's (no sphere distance per step), but the
--    order is planar, not spherical: `marketplace::search::planar` over-fetches candidates
--    and proves from a bound that the sphere's nearest are among them, or falls back to the
--    geography KNN (near a pole or across the antimeridian). A map box is a lon/lat
--    rectangle, so `&&` on this index is also the exact test for `area`.
-- 2. `has_calendar`: whether a listing has any opening hours or blackout days. Most
--    listings have neither and are simply open; search evaluates the calendar only for the
--    others. Kept by triggers, so no writer can forget it.

CREATE INDEX listings_listed_geom_gist ON listings USING gist ((location::geometry))
    WHERE status = 'listed';

ALTER TABLE listings ADD COLUMN has_calendar boolean NOT NULL DEFAULT false;

UPDATE listings l SET has_calendar = true
WHERE EXISTS (SELECT 1 FROM listing_opening_hours h WHERE h.listing_id = l.id)
   OR EXISTS (SELECT 1 FROM listing_blackouts b WHERE b.listing_id = l.id);

CREATE FUNCTION listings_refresh_has_calendar() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.listing_id ELSE NEW.listing_id END;
BEGIN
    UPDATE listings l
    SET has_calendar = EXISTS (SELECT 1 FROM listing_opening_hours h WHERE h.listing_id = l.id)
                    OR EXISTS (SELECT 1 FROM listing_blackouts b WHERE b.listing_id = l.id)
    WHERE l.id = target;
    RETURN NULL;
END
$$;

CREATE TRIGGER listing_opening_hours_has_calendar
    AFTER INSERT OR UPDATE OR DELETE ON listing_opening_hours
    FOR EACH ROW EXECUTE FUNCTION listings_refresh_has_calendar();

CREATE TRIGGER listing_blackouts_has_calendar
    AFTER INSERT OR UPDATE OR DELETE ON listing_blackouts
    FOR EACH ROW EXECUTE FUNCTION listings_refresh_has_calendar();
