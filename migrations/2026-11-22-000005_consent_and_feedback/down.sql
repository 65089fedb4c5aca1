DROP TABLE feedback_reads;
DROP TABLE feedback;
DROP INDEX handoffs_consent;
ALTER TABLE handoffs DROP CONSTRAINT handoffs_consent_id_fkey;
DROP TABLE consent_decisions;
DROP TABLE consents;
DROP FUNCTION consents_guard();
