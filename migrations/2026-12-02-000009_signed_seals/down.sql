ALTER TABLE access_log DROP COLUMN filters;
ALTER TABLE access_log_seals
    DROP CONSTRAINT access_log_seals_signed_with_key,
    DROP COLUMN signature,
    DROP COLUMN key_id;
