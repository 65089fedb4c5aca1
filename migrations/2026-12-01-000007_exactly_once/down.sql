ALTER TABLE idempotency_keys
    DROP COLUMN accessed,
    ALTER COLUMN response_status DROP NOT NULL,
    ALTER COLUMN response_headers DROP NOT NULL,
    ALTER COLUMN response_body DROP NOT NULL,
    ADD COLUMN completed_at timestamptz;
UPDATE idempotency_keys SET completed_at = created_at;
