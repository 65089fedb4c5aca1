ALTER TABLE access_log DROP COLUMN trace_id;
