-- Idempotency keys are written only in the transaction of the write they answer, so a row is
-- always a settled outcome: nothing is ever "in progress" in the table any more (a request that
-- runs holds a transaction-scoped advisory lock instead, which PostgreSQL releases when the
-- request's connection dies). Keys left in progress by the old scheme are dropped: their
-- requests either never committed or committed without an outcome that could be replayed.
DELETE FROM idempotency_keys WHERE completed_at IS NULL;
ALTER TABLE idempotency_keys
    DROP COLUMN completed_at,
    ALTER COLUMN response_status SET NOT NULL,
    ALTER COLUMN response_headers SET NOT NULL,
    ALTER COLUMN response_body SET NOT NULL,
    -- The records the first request logged access to; a replay logs a read of each.
    ADD COLUMN accessed jsonb NOT NULL DEFAULT '[]';
-- `principal` now names the whole principal — organisation, sub, roles and acting client — so a
-- token with other roles never replays a response it could not have read.
