DROP INDEX access_log_recipient;
ALTER TABLE access_log DROP COLUMN recipient_organisation_id;
DROP INDEX children_source_handoff;
ALTER TABLE children DROP COLUMN source_handoff_id;
DROP TABLE handoff_transitions;
DROP TABLE handoffs;
DROP FUNCTION handoffs_guard();
