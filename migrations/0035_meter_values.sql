-- One row per sampled moment (an OCPP meterValue) with its sampled values as a JSON array,
-- instead of one row per value: a row and an index entry per value cost most of what
-- storing a MeterValues took (a 3-phase meter reports 10 or more values per moment).
-- `meter_samples` stays as a view with its old columns, one row per value.
CREATE TABLE meter_values (
    station_id      text NOT NULL,
    evse_id         integer NOT NULL,
    transaction_id  text,
    sampled_at      timestamptz NOT NULL,
    -- [{"measurand", "phase"?, "location"?, "context"?, "value" (base units), "unit"?}]
    sampled_values  jsonb NOT NULL CHECK (jsonb_typeof(sampled_values) = 'array')
);

INSERT INTO meter_values (station_id, evse_id, transaction_id, sampled_at, sampled_values)
SELECT station_id, evse_id, transaction_id, sampled_at,
       jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'measurand', measurand, 'phase', phase, 'location', location, 'context', context,
           'value', value, 'unit', unit)))
FROM meter_samples
GROUP BY station_id, evse_id, transaction_id, sampled_at;

DROP TABLE meter_samples;

CREATE INDEX meter_values_tx ON meter_values (station_id, transaction_id, sampled_at);

CREATE VIEW meter_samples AS
SELECT m.station_id, m.evse_id, m.transaction_id, m.sampled_at,
       s.measurand, s.phase, s.location, s.context, s.value, s.unit
FROM meter_values m
CROSS JOIN LATERAL jsonb_to_recordset(m.sampled_values)
    AS s(measurand text, phase text, location text, context text, value double precision, unit text);
