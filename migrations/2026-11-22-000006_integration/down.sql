DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
DROP TABLE idempotency_keys;
