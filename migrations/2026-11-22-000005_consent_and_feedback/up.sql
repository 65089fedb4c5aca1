-- Consent (toestemming): recorded by the organisation that holds the child's record, for a
-- purpose and a recipient. Decisions are append-only; a consent changes only when withdrawn.
CREATE TABLE consents (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    child_id uuid NOT NULL REFERENCES children (id),
    purpose text NOT NULL CHECK (purpose IN ('feedback_to_school', 'information_sharing', 'case_conference')),
    recipient_organisation_id uuid NOT NULL REFERENCES organisations (id),
    scope text[] NOT NULL DEFAULT '{}',
    handoff_id uuid REFERENCES handoffs (id),
    valid_until date NOT NULL,
    withdrawn_at timestamptz,
    withdrawn_by_party text,
    withdrawal_reason text,
    withdrawal_recorded_by_sub text,
    created_by_sub text NOT NULL,
    created_by_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (organisation_id <> recipient_organisation_id)
);
CREATE INDEX consents_organisation ON consents (organisation_id, id);
CREATE INDEX consents_child ON consents (child_id);
CREATE INDEX consents_recipient ON consents (recipient_organisation_id);
CREATE INDEX consents_handoff ON consents (handoff_id);

CREATE FUNCTION consents_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER consents_guard BEFORE UPDATE OR DELETE ON consents
    FOR EACH ROW EXECUTE FUNCTION consents_guard();

CREATE TABLE consent_decisions (
    id uuid PRIMARY KEY,
    consent_id uuid NOT NULL REFERENCES consents (id),
    -- `child`, or the guardian's id.
    party text NOT NULL,
    guardian_id uuid REFERENCES guardians (id),
    decision text NOT NULL CHECK (decision IN ('granted', 'refused')),
    method text NOT NULL CHECK (method IN ('verbal', 'written', 'digital')),
    decided_at timestamptz NOT NULL,
    recorded_by_sub text NOT NULL,
    recorded_by_name text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consent_id, party),
    CHECK ((party = 'child') = (guardian_id IS NULL))
);
CREATE INDEX consent_decisions_guardian ON consent_decisions (guardian_id);

CREATE TRIGGER consent_decisions_append_only BEFORE UPDATE OR DELETE ON consent_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

ALTER TABLE handoffs ADD CONSTRAINT handoffs_consent_id_fkey
    FOREIGN KEY (consent_id) REFERENCES consents (id);
CREATE INDEX handoffs_consent ON handoffs (consent_id);

-- Feedback (terugkoppeling) from a handoff's recipient to its sender. Never changed.
CREATE TABLE feedback (
    id uuid PRIMARY KEY,
    handoff_id uuid NOT NULL REFERENCES handoffs (id),
    from_organisation_id uuid NOT NULL REFERENCES organisations (id),
    to_organisation_id uuid NOT NULL REFERENCES organisations (id),
    category text NOT NULL CHECK (category IN ('received', 'safety_assessment_decided',
        'involvement_ended', 'outcome', 'guidance_for_school', 'help_in_place', 'contact_person')),
    outcome text CHECK (outcome IN ('vt_investigates', 'handed_to_local_team',
        'handed_to_existing_help', 'raad_voor_de_kinderbescherming', 'no_further_action')),
    message text NOT NULL CHECK (length(message) BETWEEN 1 AND 10000),
    do_not_discuss_with_parents boolean NOT NULL DEFAULT false,
    do_not_discuss_explanation text,
    audience text NOT NULL CHECK (audience IN ('care_coordinators', 'school_staff')),
    consent_id uuid REFERENCES consents (id),
    legal_basis text NOT NULL CHECK (legal_basis IN ('statutory', 'consent')),
    sent_by_sub text NOT NULL,
    sent_by_name text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((legal_basis = 'consent') = (consent_id IS NOT NULL))
);
CREATE INDEX feedback_handoff ON feedback (handoff_id, sent_at);
CREATE INDEX feedback_inbox ON feedback (to_organisation_id, id);
CREATE INDEX feedback_sender ON feedback (from_organisation_id);
CREATE INDEX feedback_consent ON feedback (consent_id);

CREATE TRIGGER feedback_append_only BEFORE UPDATE OR DELETE ON feedback
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Read receipts: who at the receiving organisation read a feedback item, and when.
CREATE TABLE feedback_reads (
    id uuid PRIMARY KEY,
    feedback_id uuid NOT NULL REFERENCES feedback (id),
    reader_sub text NOT NULL,
    reader_name text NOT NULL,
    reader_organisation_id uuid NOT NULL REFERENCES organisations (id),
    read_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (feedback_id, reader_sub)
);
CREATE INDEX feedback_reads_organisation ON feedback_reads (reader_organisation_id);

CREATE TRIGGER feedback_reads_append_only BEFORE UPDATE OR DELETE ON feedback_reads
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
