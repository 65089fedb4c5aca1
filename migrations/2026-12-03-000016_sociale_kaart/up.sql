-- The sociale kaart (issue 17): each organisation describes the help questions it takes, the
-- area it serves and how to reach it. No child data.
CREATE TABLE organisation_services (
    organisation_id uuid PRIMARY KEY REFERENCES organisations (id),
    help_questions text[] NOT NULL CHECK (
        cardinality(help_questions) BETWEEN 1 AND 20
        AND help_questions <@ ARRAY['parenting', 'growth_and_development', 'behaviour',
            'home_situation', 'absenteeism', 'safety_and_violence', 'learning_support',
            'mental_wellbeing', 'health', 'money_and_housing']::text[]),
    municipalities text[] NOT NULL CHECK (cardinality(municipalities) <= 100),
    neighbourhoods text[] NOT NULL CHECK (cardinality(neighbourhoods) <= 200),
    -- Four-digit postcode ranges, "1011-1019".
    postcode_ranges text[] NOT NULL CHECK (cardinality(postcode_ranges) <= 200),
    intake_route text NOT NULL CHECK (length(intake_route) BETWEEN 1 AND 2000),
    opening_hours text NOT NULL CHECK (length(opening_hours) BETWEEN 1 AND 500),
    phone text CHECK (phone ~ '^\+?[0-9 ()-]{6,20}$'),
    email text CHECK (length(email) BETWEEN 3 AND 254),
    updated_by_sub text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
