//! Reference data: every enumeration of the domain with Dutch and English labels, so clients
//! show professionals the words they know.

/// An enumeration value with its labels.
pub trait Labelled: Sized + Copy + 'static {
    /// Every value, in the order to show them.
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn label_nl(self) -> &'static str;
    fn label_en(self) -> &'static str;
    fn description(self) -> &'static str;

    fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }
}

/// Declares `Labelled` for an enum: `Variant => ("code", "label nl", "label en", "description")`.
#[macro_export]
macro_rules! labelled {
    ($ty:ty { $($variant:ident => ($code:literal, $nl:literal, $en:literal, $description:literal)),+ $(,)? }) => {
        impl $crate::domain::reference::Labelled for $ty {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }
            fn label_nl(self) -> &'static str {
                match self { $(Self::$variant => $nl),+ }
            }
            fn label_en(self) -> &'static str {
                match self { $(Self::$variant => $en),+ }
            }
            fn description(self) -> &'static str {
                match self { $(Self::$variant => $description),+ }
            }
        }
    };
}
