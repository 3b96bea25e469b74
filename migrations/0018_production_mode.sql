-- Production is the default mode (issue 12).
-- A station row states its security profile: there is no silent default of 0 (no
-- authentication). Unknown stations are recorded at the profile they proved on connecting.
ALTER TABLE stations ALTER COLUMN security_profile DROP DEFAULT;

-- The access-token key lives in configuration or a 0600 file under the data folder, never in
-- the database (a dump would be enough to forge an admin's token). Forget the old one.
DELETE FROM server_secrets WHERE name = 'jwt_hs256';
