-- Children: each organisation's own records (there is no national child index).
CREATE TABLE children (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    -- The organisation's own pupil or client number: how a school system finds its child.
    external_ref text NOT NULL CHECK (length(external_ref) BETWEEN 1 AND 64),
    given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
    date_of_birth date NOT NULL,
    -- Optional everywhere: schools may hold it only for statutory use. 11-proef checked by the API.
    bsn text CHECK (bsn ~ '^[0-9]{9}$'),
    school_group text CHECK (length(school_group) BETWEEN 1 AND 50),
    created_by_sub text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, external_ref)
);
CREATE INDEX children_organisation ON children (organisation_id, id);

CREATE TABLE guardians (
    id uuid PRIMARY KEY,
    child_id uuid NOT NULL REFERENCES children (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    relationship text NOT NULL CHECK (relationship IN ('mother', 'father', 'parent', 'step_parent',
        'foster_parent', 'legal_guardian', 'grandparent', 'other')),
    parental_authority text NOT NULL CHECK (parental_authority IN ('yes', 'no', 'unknown')),
    authority_source text NOT NULL CHECK (authority_source IN ('gezagsregister', 'stated', 'unknown')),
    phone text CHECK (length(phone) BETWEEN 1 AND 30),
    email text CHECK (length(email) BETWEEN 3 AND 254),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX guardians_child ON guardians (child_id, id);

-- Signals (meldcode step 1). Court-safe: a signal and its revisions are never changed or deleted;
-- a correction is a new revision with a reason. Revision 1 is the original.
CREATE TABLE signals (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    child_id uuid NOT NULL REFERENCES children (id),
    recorded_by_sub text NOT NULL,
    recorded_by_name text NOT NULL,
    recorded_by_role text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signals_child ON signals (child_id, recorded_at DESC, id DESC);
CREATE INDEX signals_organisation ON signals (organisation_id);

CREATE TABLE signal_revisions (
    id uuid PRIMARY KEY,
    signal_id uuid NOT NULL REFERENCES signals (id),
    revision integer NOT NULL CHECK (revision >= 1),
    observed_at timestamptz NOT NULL,
    category text NOT NULL,
    source text NOT NULL CHECK (source IN ('own_observation', 'child', 'parent', 'third_party')),
    source_description text,
    facts text NOT NULL CHECK (length(facts) BETWEEN 1 AND 10000),
    interpretation text CHECK (length(interpretation) <= 10000),
    direction text NOT NULL CHECK (direction IN ('raises_concern', 'reduces_concern')),
    -- Why this revision corrects the one before; absent on the original.
    reason text CHECK ((revision = 1) = (reason IS NULL)),
    recorded_by_sub text NOT NULL,
    recorded_by_name text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (signal_id, revision)
);

CREATE TRIGGER signals_append_only BEFORE UPDATE OR DELETE ON signals
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER signal_revisions_append_only BEFORE UPDATE OR DELETE ON signal_revisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- A child's chronology, written with every change, newest first when read.
-- visibility: 'organisation' — everyone of the organisation who may see the child;
--             'recorder' — the full-access roles and the professional who made the entry.
CREATE TABLE timeline_entries (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    child_id uuid NOT NULL REFERENCES children (id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    entry_type text NOT NULL,
    resource_type text NOT NULL,
    resource_id uuid NOT NULL,
    actor_sub text NOT NULL,
    actor_name text NOT NULL,
    summary text NOT NULL,
    visibility text NOT NULL CHECK (visibility IN ('organisation', 'recorder'))
);
CREATE INDEX timeline_entries_child ON timeline_entries (child_id, occurred_at DESC, id DESC);
CREATE INDEX timeline_entries_organisation ON timeline_entries (organisation_id);

CREATE TRIGGER timeline_entries_append_only BEFORE UPDATE OR DELETE ON timeline_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
