-- Cases: a meldcode path for one child, led by a regiehouder, in five append-only steps.
CREATE TABLE cases (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    child_id uuid NOT NULL REFERENCES children (id),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    lead_sub text NOT NULL,
    lead_name text NOT NULL,
    opened_by_sub text NOT NULL,
    opened_by_name text NOT NULL,
    opened_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    closed_by_sub text,
    closed_by_name text,
    closure_note text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX cases_organisation ON cases (organisation_id, id);
CREATE INDEX cases_child ON cases (child_id);

-- Step records. Never changed: a correction is a new record that supersedes an earlier one of
-- the same kind (each record is superseded at most once).
CREATE TABLE case_steps (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    kind text NOT NULL CHECK (kind IN ('signals_mapped', 'consultation', 'conversation',
                                       'weighing', 'decision')),
    details jsonb NOT NULL,
    supersedes uuid UNIQUE REFERENCES case_steps (id),
    correction_reason text,
    recorded_by_sub text NOT NULL,
    recorded_by_name text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((supersedes IS NULL) = (correction_reason IS NULL))
);
CREATE INDEX case_steps_case ON case_steps (case_id, recorded_at, id);

CREATE TRIGGER case_steps_append_only BEFORE UPDATE OR DELETE ON case_steps
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Who held the lead, and when it changed hands.
CREATE TABLE case_lead_changes (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    from_sub text NOT NULL,
    from_name text NOT NULL,
    to_sub text NOT NULL,
    to_name text NOT NULL,
    reason text,
    changed_by_sub text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_lead_changes_case ON case_lead_changes (case_id, changed_at);

CREATE TRIGGER case_lead_changes_append_only BEFORE UPDATE OR DELETE ON case_lead_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Agreements (afspraken): who does what, by when.
CREATE TABLE case_actions (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    owner_name text NOT NULL,
    owner_sub text,
    owner_organisation_id uuid REFERENCES organisations (id),
    due_date date NOT NULL,
    done_at timestamptz,
    decision_step_id uuid REFERENCES case_steps (id),
    created_by_sub text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (owner_sub IS NOT NULL OR owner_organisation_id IS NOT NULL)
);
CREATE INDEX case_actions_case ON case_actions (case_id, id);
CREATE INDEX case_actions_owner_organisation ON case_actions (owner_organisation_id);
CREATE INDEX case_actions_decision_step ON case_actions (decision_step_id);
CREATE INDEX case_actions_overdue ON case_actions (due_date) WHERE done_at IS NULL;

-- Case entries on the timeline are visible to the case's participants: casework roles and the
-- teachers who recorded a signal about the child.
ALTER TABLE timeline_entries DROP CONSTRAINT timeline_entries_visibility_check;
ALTER TABLE timeline_entries ADD CONSTRAINT timeline_entries_visibility_check
    CHECK (visibility IN ('organisation', 'recorder', 'case'));
