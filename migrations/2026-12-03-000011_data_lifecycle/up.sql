-- The data lifecycle (issue 15): when the organisation's involvement with a child ended, legal
-- holds, destruction requests, and the purge that leaves a tombstone (ids, kinds, dates,
-- categories, statuses) where the personal data was.

-- A school: the day the pupil left. Youth care and Veilig Thuis: the day care (involvement)
-- ended. Retention counts from these; without one, records are kept.
ALTER TABLE children
    ADD COLUMN left_on date,
    ADD COLUMN care_ended_on date,
    ADD COLUMN purged_at timestamptz;
CREATE INDEX children_retention ON children (organisation_id)
    WHERE purged_at IS NULL AND (left_on IS NOT NULL OR care_ended_on IS NOT NULL);

-- A handoff and its feedback are the record of both sides. When one side purges its record of
-- the child (retention, a granted destruction request), the handoff leaves that side's view;
-- its content goes only once no side holds it any more.
ALTER TABLE handoffs
    ADD COLUMN sender_purged_at timestamptz,
    ADD COLUMN recipient_purged_at timestamptz;
ALTER TABLE feedback
    ADD COLUMN sender_purged_at timestamptz,
    ADD COLUMN recipient_purged_at timestamptz;

-- Record tables are append-only; the purge alone may overwrite their personal data, inside a
-- transaction that says so (`SET LOCAL schakel.purge = 'on'`). Deletes stay refused: the
-- tombstone remains. The access log and its seals keep `refuse_change` and are never purged.
CREATE FUNCTION refuse_change_unless_purging() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('schakel.purge', true) = 'on' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER signal_revisions_append_only ON signal_revisions;
CREATE TRIGGER signal_revisions_append_only BEFORE UPDATE OR DELETE ON signal_revisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();
DROP TRIGGER timeline_entries_append_only ON timeline_entries;
CREATE TRIGGER timeline_entries_append_only BEFORE UPDATE OR DELETE ON timeline_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();
DROP TRIGGER case_steps_append_only ON case_steps;
CREATE TRIGGER case_steps_append_only BEFORE UPDATE OR DELETE ON case_steps
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();
DROP TRIGGER case_lead_changes_append_only ON case_lead_changes;
CREATE TRIGGER case_lead_changes_append_only BEFORE UPDATE OR DELETE ON case_lead_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();
DROP TRIGGER handoff_transitions_append_only ON handoff_transitions;
CREATE TRIGGER handoff_transitions_append_only BEFORE UPDATE OR DELETE ON handoff_transitions
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();
DROP TRIGGER feedback_append_only ON feedback;
CREATE TRIGGER feedback_append_only BEFORE UPDATE OR DELETE ON feedback
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();

CREATE OR REPLACE FUNCTION handoffs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'handoffs is append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF current_setting('schakel.purge', true) = 'on' AND NEW.id = OLD.id THEN
        RETURN NEW;
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

CREATE OR REPLACE FUNCTION consents_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consents is append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF current_setting('schakel.purge', true) = 'on' AND NEW.id = OLD.id THEN
        RETURN NEW;
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

-- A legal hold: while one is active (not lifted, `until` not passed) nothing about the child is
-- purged or destroyed. Lifted holds stay as history.
CREATE TABLE legal_holds (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    child_id uuid NOT NULL REFERENCES children (id),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    until date,
    placed_by_sub text NOT NULL,
    placed_by_name text NOT NULL,
    placed_at timestamptz NOT NULL DEFAULT now(),
    lifted_at timestamptz,
    lifted_by_sub text,
    lifted_by_name text,
    CHECK ((lifted_at IS NULL) = (lifted_by_sub IS NULL))
);
CREATE UNIQUE INDEX legal_holds_current ON legal_holds (child_id) WHERE lifted_at IS NULL;
CREATE INDEX legal_holds_organisation ON legal_holds (organisation_id, placed_at);

-- A destruction request (vernietigingsverzoek, AVG art. 17; Jeugdwet art. 7.3.9).
CREATE TABLE destruction_requests (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    child_id uuid NOT NULL REFERENCES children (id),
    requester text NOT NULL CHECK (requester IN ('guardian', 'child')),
    requester_guardian_id uuid REFERENCES guardians (id),
    received_on date NOT NULL,
    -- [{"type": "signal", "id": "…"}, …]; empty when everything is asked.
    scope text NOT NULL CHECK (scope IN ('everything', 'records')),
    records jsonb NOT NULL DEFAULT '[]',
    -- Whether the other guardian(s) with parental authority were heard, and the note saying so
    -- or why not.
    hearing text CHECK (hearing IN ('heard', 'not_heard')),
    hearing_note text CHECK (length(hearing_note) BETWEEN 1 AND 2000),
    due_on date NOT NULL,
    -- The AVG's month may be extended once, by two months, with a reason told to the requester.
    extended_at timestamptz,
    extension_reason text CHECK (length(extension_reason) BETWEEN 1 AND 2000),
    status text NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'granted', 'partially_granted', 'refused')),
    granted_records jsonb,
    weighing text CHECK (length(weighing) BETWEEN 1 AND 10000),
    refusal_ground text CHECK (refusal_ground IN ('third_party_interest', 'legal_duty')),
    legal_duty text CHECK (length(legal_duty) BETWEEN 1 AND 500),
    decided_at timestamptz,
    decided_by_sub text,
    decided_by_name text,
    executed_at timestamptz,
    created_by_sub text NOT NULL,
    created_by_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((requester = 'guardian') = (requester_guardian_id IS NOT NULL)),
    CHECK ((status = 'received') = (decided_at IS NULL)),
    CHECK ((status = 'refused') = (refusal_ground IS NOT NULL))
);
CREATE INDEX destruction_requests_organisation ON destruction_requests (organisation_id, status, due_on);
CREATE INDEX destruction_requests_child ON destruction_requests (child_id);
CREATE INDEX destruction_requests_guardian ON destruction_requests (requester_guardian_id);
