-- Handoffs: explicit disclosures from one organisation to another, with their legal basis and a
-- snapshot of exactly what crossed. What was sent never changes; only its status moves on, and
-- every move is a transition record.
CREATE TABLE handoffs (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('advice_request', 'report', 'information_request',
                                       'information_response', 'referral', 'signal_to_school')),
    status text NOT NULL DEFAULT 'sent'
        CHECK (status IN ('sent', 'received', 'accepted', 'declined', 'closed', 'withdrawn')),
    from_organisation_id uuid NOT NULL REFERENCES organisations (id),
    to_organisation_id uuid NOT NULL REFERENCES organisations (id),
    -- The sender's own records; never shown to the recipient.
    child_id uuid REFERENCES children (id),
    case_id uuid REFERENCES cases (id),
    in_response_to uuid REFERENCES handoffs (id),
    consent_id uuid,
    legal_basis text NOT NULL CHECK (legal_basis IN ('anonymous', 'meldrecht', 'statutory', 'consent')),
    snapshot jsonb NOT NULL,
    age_band text CHECK (age_band IN ('0-3', '4-11', '12-15', '16-17', '18-23')),
    message text NOT NULL CHECK (length(message) BETWEEN 1 AND 10000),
    urgency text NOT NULL CHECK (urgency IN ('acute', 'regular')),
    requests_guidance boolean NOT NULL DEFAULT false,
    parents_informed_at timestamptz,
    parents_not_informed_reason text
        CHECK (parents_not_informed_reason IN ('safety_child', 'safety_others', 'risk_contact_break', 'urgency')),
    parents_not_informed_explanation text,
    melder_identity_disclosable boolean NOT NULL DEFAULT true,
    melder_identity_reason text,
    sent_by_sub text NOT NULL,
    sent_by_name text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    acknowledgement_due_at timestamptz NOT NULL,
    -- For reports: Veilig Thuis's safety assessment, due after receipt.
    assessment_due_at timestamptz,
    assessment_decided_at timestamptz,
    -- The recipient's own child record, once taken in.
    intake_child_id uuid REFERENCES children (id),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (from_organisation_id <> to_organisation_id),
    CHECK (child_id IS NOT NULL OR (kind = 'advice_request' AND age_band IS NOT NULL))
);
CREATE INDEX handoffs_outgoing ON handoffs (from_organisation_id, id);
CREATE INDEX handoffs_incoming ON handoffs (to_organisation_id, id);
CREATE INDEX handoffs_child ON handoffs (child_id);
CREATE INDEX handoffs_case ON handoffs (case_id);
CREATE INDEX handoffs_in_response_to ON handoffs (in_response_to);
CREATE INDEX handoffs_intake_child ON handoffs (intake_child_id);

CREATE FUNCTION handoffs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER handoffs_guard BEFORE UPDATE OR DELETE ON handoffs
    FOR EACH ROW EXECUTE FUNCTION handoffs_guard();

CREATE TABLE handoff_transitions (
    id uuid PRIMARY KEY,
    handoff_id uuid NOT NULL REFERENCES handoffs (id),
    transition text NOT NULL
        CHECK (transition IN ('acknowledgement', 'acceptance', 'declination', 'closure', 'withdrawal')),
    from_status text NOT NULL,
    to_status text NOT NULL,
    -- The reason of a declination or withdrawal, the outcome of a closure.
    note text,
    by_sub text NOT NULL,
    by_name text NOT NULL,
    by_organisation_id uuid NOT NULL REFERENCES organisations (id),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoff_transitions_handoff ON handoff_transitions (handoff_id, at);
CREATE INDEX handoff_transitions_organisation ON handoff_transitions (by_organisation_id);

CREATE TRIGGER handoff_transitions_append_only BEFORE UPDATE OR DELETE ON handoff_transitions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A child taken in from a handoff points back at it.
ALTER TABLE children ADD COLUMN source_handoff_id uuid REFERENCES handoffs (id);
CREATE INDEX children_source_handoff ON children (source_handoff_id);

-- A disclosure names the organisation it went to.
ALTER TABLE access_log ADD COLUMN recipient_organisation_id uuid REFERENCES organisations (id);
CREATE INDEX access_log_recipient ON access_log (recipient_organisation_id)
    WHERE recipient_organisation_id IS NOT NULL;
