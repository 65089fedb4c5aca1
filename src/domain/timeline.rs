//! A child's chronology (tijdlijn): who of the organisation sees an entry.

/// Who of the organisation sees an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone of the organisation who may see the child.
    Organisation,
    /// The organisation's casework roles and the professional who made the entry.
    Recorder,
    /// Whoever may see the child's cases: casework roles and teachers who recorded a signal
    /// about the child.
    Case,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Recorder => "recorder",
            Self::Case => "case",
        }
    }
}
