-- Organisations: schools, wijkteams, Veilig Thuis regions and kernteam partners, plus the one
-- platform organisation that manages them.
CREATE TABLE organisations (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('school', 'wijkteam', 'veilig_thuis', 'ggd', 'leerplicht',
                                       'samenwerkingsverband', 'platform')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    brin text CHECK (brin ~ '^[0-9]{2}[A-Z]{2}$'),
    branch text CHECK (branch ~ '^[0-9]{2}$'),
    region text CHECK (length(region) BETWEEN 1 AND 100),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- There is exactly one platform organisation (created by `schakel bootstrap`).
CREATE UNIQUE INDEX organisations_single_platform ON organisations (kind) WHERE kind = 'platform';
-- A school location (BRIN + vestiging) is registered once.
CREATE UNIQUE INDEX organisations_brin_branch ON organisations (brin, coalesce(branch, ''))
    WHERE brin IS NOT NULL;
-- The directory lists by name (keyset pagination on (lower(name), id)).
CREATE INDEX organisations_directory ON organisations (lower(name), id);

-- Access log (NEN 7513 style): who did what to which record of which child, on what basis.
-- Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE.
CREATE TABLE access_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_sub text NOT NULL,
    actor_name text NOT NULL,
    acting_client text,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    roles text[] NOT NULL,
    action text NOT NULL CHECK (action IN ('create', 'read', 'update', 'export', 'disclose', 'purge')),
    resource_type text NOT NULL,
    resource_id uuid,
    child_id uuid,
    legal_basis text,
    consent_id uuid,
    outcome text NOT NULL CHECK (outcome IN ('allowed', 'denied')),
    request_id text NOT NULL,
    client_address text
);
CREATE INDEX access_log_organisation ON access_log (organisation_id, id);
CREATE INDEX access_log_child ON access_log (child_id) WHERE child_id IS NOT NULL;

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Entries waiting to be sealed. Filled by a trigger in the writer's transaction, drained by the
-- background sealer; requests never wait for each other to chain hashes.
CREATE TABLE access_log_unsealed (
    entry_id bigint PRIMARY KEY REFERENCES access_log (id)
);

CREATE FUNCTION access_log_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO access_log_unsealed (entry_id) VALUES (NEW.id);
    RETURN NEW;
END
$$;

CREATE TRIGGER access_log_enqueue AFTER INSERT ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_enqueue();

-- Seals: each covers a batch of committed entries and chains to the previous seal.
-- seal_hash = sha256(prev_hash || digests of the covered entries, in id order).
CREATE TABLE access_log_seals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sealed_at timestamptz NOT NULL DEFAULT now(),
    entry_ids bigint[] NOT NULL CHECK (cardinality(entry_ids) > 0),
    prev_hash text NOT NULL,
    seal_hash text NOT NULL UNIQUE
);

CREATE TRIGGER access_log_seals_append_only BEFORE UPDATE OR DELETE ON access_log_seals
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER access_log_seals_no_truncate BEFORE TRUNCATE ON access_log_seals
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Outbox: thin events (ids and types, never personal data), written in the same transaction as
-- the change. Readers page by (tx_id, id) and only see transactions older than every running
-- one, so an event committed late is never skipped by a cursor that moved past it.
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_type text NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    resource_type text NOT NULL,
    resource_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_feed ON events (organisation_id, tx_id, id);
