-- Idempotency keys: the first response to a key is stored and replayed for retries.
CREATE TABLE idempotency_keys (
    -- Whose key: the organisation and the professional (retries may carry a refreshed token).
    principal text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- Method, path and a hash of the body: a reused key with another request is refused.
    fingerprint text NOT NULL,
    response_status integer,
    response_headers jsonb,
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Null while the first request with the key runs.
    completed_at timestamptz,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Webhook subscriptions of an organisation; the signing secret is returned once.
CREATE TABLE webhook_subscriptions (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
    description text,
    secret text NOT NULL,
    -- Set when a run of failures disabled it; it delivers while this is null.
    disabled_at timestamptz,
    disabled_reason text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    -- Events up to this feed position have been fanned out into deliveries.
    cursor_tx bigint NOT NULL,
    cursor_id bigint NOT NULL,
    created_by_sub text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX webhook_subscriptions_organisation ON webhook_subscriptions (organisation_id, id);

-- One delivery per subscription and event; claimed by workers with FOR UPDATE SKIP LOCKED.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
    event_id bigint NOT NULL REFERENCES events (id),
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'in_flight', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    last_attempt_at timestamptz,
    last_status_code integer,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'in_flight');
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
