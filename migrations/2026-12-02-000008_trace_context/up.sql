-- The W3C trace id of the request an access happened in, so an organisation's own logs
-- (e.g. under Logius' "Logboek dataverwerkingen") can be joined to this log.
ALTER TABLE access_log
    ADD COLUMN trace_id text CHECK (trace_id ~ '^[0-9a-f]{32}$');
