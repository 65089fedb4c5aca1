-- The timeline is append-only; undoing this migration removes the case entries it allowed.
ALTER TABLE timeline_entries DISABLE TRIGGER timeline_entries_append_only;
DELETE FROM timeline_entries WHERE visibility = 'case';
ALTER TABLE timeline_entries ENABLE TRIGGER timeline_entries_append_only;
ALTER TABLE timeline_entries DROP CONSTRAINT timeline_entries_visibility_check;
ALTER TABLE timeline_entries ADD CONSTRAINT timeline_entries_visibility_check
    CHECK (visibility IN ('organisation', 'recorder'));

DROP TABLE case_actions;
DROP TABLE case_lead_changes;
DROP TABLE case_steps;
DROP TABLE cases;
