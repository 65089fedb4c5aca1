-- Seals are signed (Ed25519) by the sealer with a key the database never sees, so a database
-- writer who re-computes the SHA-256 chain after tampering cannot make the signatures match.
-- Seals made before this migration stay unsigned; the first signed seal chains to them and so
-- anchors them.
ALTER TABLE access_log_seals
    ADD COLUMN key_id text CHECK (key_id ~ '^[0-9a-f]{16}$'),
    ADD COLUMN signature text CHECK (signature ~ '^[A-Za-z0-9+/]{86}==$'),
    ADD CONSTRAINT access_log_seals_signed_with_key CHECK ((key_id IS NULL) = (signature IS NULL));

-- The filters a read of the access log itself used (NEN 7513: what was looked for), as a
-- canonical query string.
ALTER TABLE access_log
    ADD COLUMN filters text CHECK (length(filters) <= 2000);
