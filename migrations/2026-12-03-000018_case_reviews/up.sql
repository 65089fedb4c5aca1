-- The joint case review (casusbespreking) of a closed report: the school that sent it and the
-- Veilig Thuis that received it each bring a pseudonymised chronology generated from their own
-- records (relative days, roles, codes — no names, BSN, dates of birth or free text) and their
-- reflections; nothing is shared before both agreed, and a side's part only once it released it.
CREATE TABLE case_reviews (
    id uuid PRIMARY KEY,
    handoff_id uuid NOT NULL REFERENCES handoffs (id),
    school_id uuid NOT NULL REFERENCES organisations (id),
    veilig_thuis_id uuid NOT NULL REFERENCES organisations (id),
    proposed_by_organisation_id uuid NOT NULL REFERENCES organisations (id),
    proposed_by_sub text NOT NULL,
    proposed_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL CHECK (status IN ('proposed', 'declined', 'agreed', 'released', 'withdrawn')),
    answered_by_sub text,
    answered_at timestamptz,
    withdrawn_by_organisation_id uuid REFERENCES organisations (id),
    withdrawn_at timestamptz,
    released_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (school_id <> veilig_thuis_id)
);
CREATE INDEX case_reviews_handoff ON case_reviews (handoff_id);
-- One review of a report at a time (a declined or withdrawn one may be proposed again).
CREATE UNIQUE INDEX case_reviews_one_open ON case_reviews (handoff_id)
    WHERE status IN ('proposed', 'agreed', 'released');
CREATE INDEX case_reviews_school ON case_reviews (school_id, id);
CREATE INDEX case_reviews_veilig_thuis ON case_reviews (veilig_thuis_id, id);
CREATE INDEX case_reviews_proposed_by ON case_reviews (proposed_by_organisation_id);
CREATE INDEX case_reviews_withdrawn_by ON case_reviews (withdrawn_by_organisation_id);

-- Each side's part: its chronology, generated when the review is agreed, and its reflections.
CREATE TABLE case_review_parts (
    review_id uuid NOT NULL REFERENCES case_reviews (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    side text NOT NULL CHECK (side IN ('school', 'veilig_thuis')),
    chronology jsonb NOT NULL,
    went_well text CHECK (length(went_well) <= 4000),
    could_be_better text CHECK (length(could_be_better) <= 4000),
    themes text[] NOT NULL DEFAULT '{}',
    written_by_sub text,
    released_by_sub text,
    released_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, organisation_id)
);
CREATE INDEX case_review_parts_organisation ON case_review_parts (organisation_id);
