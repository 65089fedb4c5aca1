-- Four-eyes decisions (vier-ogenprincipe, issue 16): where the organisation says so, the
-- meldcode decision (step 5) and a case closure are proposals until a second professional
-- approves them. Both tables are append-only; rejected proposals stay in the record.
CREATE TABLE case_proposals (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    subject text NOT NULL CHECK (subject IN ('decision', 'closure')),
    -- The step-5 record a decision proposal is about.
    step_id uuid UNIQUE REFERENCES case_steps (id),
    closure_note text CHECK (length(closure_note) <= 5000),
    proposed_by_sub text NOT NULL,
    proposed_by_name text NOT NULL,
    proposed_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((subject = 'decision') = (step_id IS NOT NULL)),
    CHECK (subject = 'closure' OR closure_note IS NULL)
);
CREATE INDEX case_proposals_case ON case_proposals (case_id, proposed_at);

-- The second pair of eyes: one verdict per proposal.
CREATE TABLE case_approvals (
    proposal_id uuid PRIMARY KEY REFERENCES case_proposals (id),
    verdict text NOT NULL CHECK (verdict IN ('approved', 'rejected')),
    comment text CHECK (length(comment) BETWEEN 1 AND 5000),
    by_sub text NOT NULL,
    by_name text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER case_proposals_append_only BEFORE UPDATE OR DELETE ON case_proposals
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();
CREATE TRIGGER case_approvals_append_only BEFORE UPDATE OR DELETE ON case_approvals
    FOR EACH ROW EXECUTE FUNCTION refuse_change_unless_purging();
