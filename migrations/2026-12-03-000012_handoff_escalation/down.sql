DROP TABLE handoff_reminders;
DROP INDEX handoffs_assessment_unnoticed;
DROP INDEX handoffs_acknowledgement_unnoticed;
ALTER TABLE handoffs
    DROP COLUMN assessment_overdue_at,
    DROP COLUMN acknowledgement_overdue_at;
