-- The sessions a booking's card authorization pays are looked up by booking on every tick of
-- the card-authorizations job (its candidates, then its claim); the live-only unique index
-- cannot answer that for ended sessions.
CREATE INDEX charging_sessions_booking_idx ON charging_sessions (booking_id)
    WHERE booking_id IS NOT NULL;
