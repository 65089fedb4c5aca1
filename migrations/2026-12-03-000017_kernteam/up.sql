-- Knowing each other (issue 17): fixed faces per school (partner links) and the kernteam.

-- A partner organisation's assigned contact in a school's care structure. The school proposes,
-- the partner confirms (or names someone else); either side ends it.
CREATE TABLE partner_links (
    id uuid PRIMARY KEY,
    school_id uuid NOT NULL REFERENCES organisations (id),
    partner_id uuid NOT NULL REFERENCES organisations (id),
    role text NOT NULL CHECK (role IN ('cjg_coach', 'ggd_nurse', 'school_doctor',
        'attendance_officer', 'schoolconsulent', 'schakelfunctionaris')),
    contact_name text NOT NULL CHECK (length(contact_name) BETWEEN 1 AND 200),
    contact_phone text CHECK (contact_phone ~ '^\+?[0-9 ()-]{6,20}$'),
    contact_email text CHECK (length(contact_email) BETWEEN 3 AND 254),
    status text NOT NULL CHECK (status IN ('proposed', 'confirmed', 'ended')),
    proposed_by_sub text NOT NULL,
    confirmed_by_sub text,
    confirmed_at timestamptz,
    ended_by_organisation_id uuid REFERENCES organisations (id),
    ended_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (school_id <> partner_id),
    CHECK ((status = 'ended') = (ended_at IS NOT NULL))
);
CREATE INDEX partner_links_school ON partner_links (school_id);
CREATE INDEX partner_links_partner ON partner_links (partner_id);
CREATE INDEX partner_links_ended_by ON partner_links (ended_by_organisation_id);
-- One schakelfunctionaris per school at a time (the domain refuses first; this holds races).
CREATE UNIQUE INDEX partner_links_one_schakelfunctionaris ON partner_links (school_id)
    WHERE role = 'schakelfunctionaris' AND status <> 'ended';

-- A school's kernteam: its care coordinator and the partners' professionals.
CREATE TABLE kernteams (
    id uuid PRIMARY KEY,
    school_id uuid NOT NULL REFERENCES organisations (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_by_sub text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kernteams_school ON kernteams (school_id);

CREATE TABLE kernteam_meetings (
    id uuid PRIMARY KEY,
    kernteam_id uuid NOT NULL REFERENCES kernteams (id),
    held_on date NOT NULL,
    kind text NOT NULL CHECK (kind IN ('introduction', 'casuistry')),
    created_by_sub text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kernteam_meetings_kernteam ON kernteam_meetings (kernteam_id, held_on);

-- Members act with their own organisation's token (organisation + sub). A guest is a member for
-- one meeting only (meeting_id set).
CREATE TABLE kernteam_members (
    id uuid PRIMARY KEY,
    kernteam_id uuid NOT NULL REFERENCES kernteams (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    sub text NOT NULL CHECK (length(sub) BETWEEN 1 AND 200),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    team_role text NOT NULL CHECK (team_role IN ('chair', 'care_coordinator', 'cjg_coach',
        'ggd_nurse', 'school_doctor', 'attendance_officer', 'schoolconsulent',
        'schakelfunctionaris', 'veilig_thuis', 'beschermtafel', 'other')),
    meeting_id uuid REFERENCES kernteam_meetings (id),
    added_by_sub text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz
);
CREATE INDEX kernteam_members_kernteam ON kernteam_members (kernteam_id);
CREATE INDEX kernteam_members_organisation ON kernteam_members (organisation_id, sub);
CREATE INDEX kernteam_members_meeting ON kernteam_members (meeting_id);
CREATE UNIQUE INDEX kernteam_members_once ON kernteam_members
    (kernteam_id, organisation_id, sub, coalesce(meeting_id, '00000000-0000-0000-0000-000000000000'))
    WHERE removed_at IS NULL;

-- An agenda item: anonymous (no child; age band, group, concerns, question) or identified (a
-- child of the presenting organisation, under consent for a case conference).
CREATE TABLE kernteam_items (
    id uuid PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES kernteam_meetings (id),
    presenting_organisation_id uuid NOT NULL REFERENCES organisations (id),
    child_id uuid REFERENCES children (id),
    age_band text CHECK (age_band IN ('0-3', '4-11', '12-15', '16-17', '18-23')),
    school_group text CHECK (length(school_group) BETWEEN 1 AND 50),
    concerns text[] NOT NULL CHECK (cardinality(concerns) BETWEEN 1 AND 20),
    question text NOT NULL CHECK (length(question) BETWEEN 1 AND 2000),
    advice text CHECK (length(advice) BETWEEN 1 AND 4000),
    presented_by_sub text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kernteam_items_meeting ON kernteam_items (meeting_id);
CREATE INDEX kernteam_items_presenting ON kernteam_items (presenting_organisation_id);
CREATE INDEX kernteam_items_child ON kernteam_items (child_id);

-- Each member organisation's perspective on an item.
CREATE TABLE kernteam_perspectives (
    item_id uuid NOT NULL REFERENCES kernteam_items (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    notes text NOT NULL CHECK (length(notes) BETWEEN 1 AND 4000),
    recorded_by_sub text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, organisation_id)
);
CREATE INDEX kernteam_perspectives_organisation ON kernteam_perspectives (organisation_id);

-- What the team agreed; open actions carry over to the next meeting until done.
CREATE TABLE kernteam_actions (
    id uuid PRIMARY KEY,
    kernteam_id uuid NOT NULL REFERENCES kernteams (id),
    item_id uuid NOT NULL REFERENCES kernteam_items (id),
    owner_organisation_id uuid NOT NULL REFERENCES organisations (id),
    owner_name text NOT NULL CHECK (length(owner_name) BETWEEN 1 AND 200),
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
    due_on date NOT NULL,
    done_at timestamptz,
    done_by_sub text,
    created_by_sub text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kernteam_actions_kernteam ON kernteam_actions (kernteam_id, due_on);
CREATE INDEX kernteam_actions_item ON kernteam_actions (item_id);
CREATE INDEX kernteam_actions_owner ON kernteam_actions (owner_organisation_id);
