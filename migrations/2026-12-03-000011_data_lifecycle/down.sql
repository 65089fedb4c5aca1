DROP TABLE destruction_requests;
DROP TABLE legal_holds;

CREATE OR REPLACE FUNCTION consents_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consents is append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.organisation_id, NEW.child_id, NEW.purpose, NEW.recipient_organisation_id,
        NEW.scope, NEW.handoff_id, NEW.valid_until, NEW.created_by_sub, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.organisation_id, OLD.child_id, OLD.purpose, OLD.recipient_organisation_id,
        OLD.scope, OLD.handoff_id, OLD.valid_until, OLD.created_by_sub, OLD.created_at)
       OR (OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at) THEN
        RAISE EXCEPTION 'consents is append-only: only a withdrawal may be recorded'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION handoffs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'handoffs is append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.kind, NEW.from_organisation_id, NEW.to_organisation_id, NEW.child_id,
        NEW.case_id, NEW.in_response_to, NEW.consent_id, NEW.legal_basis, NEW.snapshot,
        NEW.age_band, NEW.message, NEW.urgency, NEW.requests_guidance, NEW.parents_informed_at,
        NEW.parents_not_informed_reason, NEW.parents_not_informed_explanation,
        NEW.melder_identity_disclosable, NEW.melder_identity_reason, NEW.sent_by_sub,
        NEW.sent_by_name, NEW.sent_at)
       IS DISTINCT FROM
       (OLD.id, OLD.kind, OLD.from_organisation_id, OLD.to_organisation_id, OLD.child_id,
        OLD.case_id, OLD.in_response_to, OLD.consent_id, OLD.legal_basis, OLD.snapshot,
        OLD.age_band, OLD.message, OLD.urgency, OLD.requests_guidance, OLD.parents_informed_at,
        OLD.parents_not_informed_reason, OLD.parents_not_informed_explanation,
        OLD.melder_identity_disclosable, OLD.melder_identity_reason, OLD.sent_by_sub,
        OLD.sent_by_name, OLD.sent_at) THEN
        RAISE EXCEPTION 'handoffs is append-only: what was sent cannot change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER feedback_append_only ON feedback;
CREATE TRIGGER feedback_append_only BEFORE UPDATE OR DELETE ON feedback
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP TRIGGER handoff_transitions_append_only ON handoff_transitions;
CREATE TRIGGER handoff_transitions_append_only BEFORE UPDATE OR DELETE ON handoff_transitions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP TRIGGER case_lead_changes_append_only ON case_lead_changes;
CREATE TRIGGER case_lead_changes_append_only BEFORE UPDATE OR DELETE ON case_lead_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP TRIGGER case_steps_append_only ON case_steps;
CREATE TRIGGER case_steps_append_only BEFORE UPDATE OR DELETE ON case_steps
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP TRIGGER timeline_entries_append_only ON timeline_entries;
CREATE TRIGGER timeline_entries_append_only BEFORE UPDATE OR DELETE ON timeline_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP TRIGGER signal_revisions_append_only ON signal_revisions;
CREATE TRIGGER signal_revisions_append_only BEFORE UPDATE OR DELETE ON signal_revisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
DROP FUNCTION refuse_change_unless_purging();

ALTER TABLE feedback DROP COLUMN recipient_purged_at, DROP COLUMN sender_purged_at;
ALTER TABLE handoffs DROP COLUMN recipient_purged_at, DROP COLUMN sender_purged_at;

DROP INDEX children_retention;
ALTER TABLE children
    DROP COLUMN purged_at,
    DROP COLUMN care_ended_on,
    DROP COLUMN left_on;
