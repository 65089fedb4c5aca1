-- A rotated-out signing secret stays in use beside the new one until it expires, so receivers
-- can switch without losing deliveries (Standard Webhooks: several signatures in one header).
-- Both are stored encrypted by the application (`v1:<key id>:…`), never in the clear.
ALTER TABLE webhook_subscriptions
    ADD COLUMN previous_secret text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    ADD CONSTRAINT webhook_subscriptions_previous_secret_expires
        CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL));
