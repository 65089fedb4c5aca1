DROP TABLE events;
DROP TABLE access_log_seals;
DROP TABLE access_log_unsealed;
DROP TABLE access_log;
DROP FUNCTION access_log_enqueue();
DROP FUNCTION refuse_change();
DROP TABLE organisations;
