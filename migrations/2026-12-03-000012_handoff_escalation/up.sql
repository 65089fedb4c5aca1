-- Handoffs that never get lost (issue 16): an overdue deadline is announced once to both sides,
-- and the sender can remind the recipient.

-- When each deadline's overdue notice went out (once per deadline).
ALTER TABLE handoffs
    ADD COLUMN acknowledgement_overdue_at timestamptz,
    ADD COLUMN assessment_overdue_at timestamptz;
-- What the escalation worker looks for, and nothing more.
CREATE INDEX handoffs_acknowledgement_unnoticed ON handoffs (acknowledgement_due_at)
    WHERE status = 'sent' AND acknowledgement_overdue_at IS NULL;
CREATE INDEX handoffs_assessment_unnoticed ON handoffs (assessment_due_at)
    WHERE kind = 'report' AND assessment_decided_at IS NULL AND assessment_overdue_at IS NULL;

-- A sender's reminder to the recipient, on the handoff's history.
CREATE TABLE handoff_reminders (
    id uuid PRIMARY KEY,
    handoff_id uuid NOT NULL REFERENCES handoffs (id),
    note text CHECK (length(note) BETWEEN 1 AND 2000),
    by_sub text NOT NULL,
    by_name text NOT NULL,
    by_organisation_id uuid NOT NULL REFERENCES organisations (id),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoff_reminders_handoff ON handoff_reminders (handoff_id, at);
CREATE INDEX handoff_reminders_organisation ON handoff_reminders (by_organisation_id);

CREATE TRIGGER handoff_reminders_append_only BEFORE UPDATE OR DELETE ON handoff_reminders
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();
