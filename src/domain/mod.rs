//! Pure rules of the domain: no IO, exhaustively table-tested.

pub mod calendar;
pub mod case_review;
pub mod child;
pub mod consent;
pub mod directory;
pub mod feedback;
pub mod figures;
pub mod handoff;
pub mod kernteam;
pub mod lifecycle;
pub mod meldcode;
pub mod organisation;
pub mod partner_link;
pub mod reference;
pub mod refusal;
pub mod signal;
pub mod timeline;
pub mod webhook;

/// A rule violation on one field, in words an integrator understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The property path, e.g. `codes.brin`.
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Text a person reads (names, references): not blank, not padded with whitespace.
pub fn check_text(field: &'static str, value: &str) -> Option<FieldError> {
    if value.trim().is_empty() {
        Some(FieldError::new(field, "must not be blank"))
    } else if value.trim() != value {
        Some(FieldError::new(
            field,
            "must not start or end with whitespace",
        ))
    } else {
        None
    }
}
