//! Webhook deliveries: where one event's delivery to a subscription stands.

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;

use crate::labelled;

/// Where a delivery stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt at `nextAttemptAt`.
    Pending,
    /// An attempt is under way.
    InFlight,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; ask for a redelivery when the receiver works again.
    Failed,
}

labelled!(DeliveryStatus {
    Pending => ("pending", "Wachtend", "Pending", "Waiting for its (next) attempt."),
    InFlight => ("in_flight", "Onderweg", "In flight", "An attempt is under way."),
    Delivered => ("delivered", "Afgeleverd", "Delivered", "The receiver answered 2xx."),
    Failed => ("failed", "Mislukt", "Failed", "Every attempt failed."),
});
