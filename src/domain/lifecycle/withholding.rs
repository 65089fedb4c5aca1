//! What a subject-access export may withhold from the data subject, and why (AVG art. 15(4)
//! and 23; Jeugdwet art. 7.3.11 lid 4): the identity of a reporter who asked not to be named
//! to the family, and information about third parties. What is withheld is marked, never
//! silently left out.

use uuid::Uuid;

use super::Requester;
use crate::{domain::signal::SignalSource, labelled};

/// Why something is withheld.
#[derive(
    poem_openapi::Enum,
    serde::Serialize,
    serde::Deserialize,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum WithheldReason {
    /// The reporter (melder) asked not to be named to the family.
    ReporterIdentity,
    /// It is about someone else than the data subject.
    ThirdParty,
}

labelled!(WithheldReason {
    ReporterIdentity => ("reporter_identity", "Identiteit van de melder", "Reporter's identity",
        "The professional who reported asked not to be named to the family (melder anoniem naar het gezin)."),
    ThirdParty => ("third_party", "Gegevens over een ander", "About a third party",
        "Information about someone other than the data subject, whose privacy the law protects as well."),
});

/// Where the marker stands in place of what is withheld.
pub const WITHHELD: &str = "[achtergehouden]";

/// A reporter's identity is withheld when they did not consent to being named.
pub fn reporter_withheld(melder_identity_disclosable: bool) -> Option<WithheldReason> {
    (!melder_identity_disclosable).then_some(WithheldReason::ReporterIdentity)
}

/// Who told a third-party signal is about that third party.
pub fn source_withheld(source: SignalSource) -> Option<WithheldReason> {
    (source == SignalSource::ThirdParty).then_some(WithheldReason::ThirdParty)
}

/// A guardian's contact details are theirs: shown only to that guardian asking. (A guardian
/// who fled a violent partner must not find their number in the other's copy.)
pub fn contact_withheld(
    guardian: Option<Uuid>,
    asking: Option<Requester>,
) -> Option<WithheldReason> {
    match (guardian, asking) {
        (Some(guardian), Some(Requester::Guardian(asking))) if guardian == asking => None,
        _ => Some(WithheldReason::ThirdParty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_withheld_and_why() {
        assert_eq!(reporter_withheld(true), None);
        assert_eq!(
            reporter_withheld(false),
            Some(WithheldReason::ReporterIdentity)
        );
        for source in <SignalSource as crate::domain::reference::Labelled>::ALL {
            let expected =
                (*source == SignalSource::ThirdParty).then_some(WithheldReason::ThirdParty);
            assert_eq!(source_withheld(*source), expected, "{source:?}");
        }
        let mother = Uuid::from_u128(1);
        let father = Uuid::from_u128(2);
        let cases = [
            (Some(mother), Some(Requester::Guardian(mother)), None),
            (
                Some(father),
                Some(Requester::Guardian(mother)),
                Some(WithheldReason::ThirdParty),
            ),
            (
                Some(mother),
                Some(Requester::Child),
                Some(WithheldReason::ThirdParty),
            ),
            (Some(mother), None, Some(WithheldReason::ThirdParty)),
            // A snapshot's guardian has no id: never shown.
            (
                None,
                Some(Requester::Guardian(mother)),
                Some(WithheldReason::ThirdParty),
            ),
        ];
        for (guardian, asking, expected) in cases {
            assert_eq!(
                contact_withheld(guardian, asking),
                expected,
                "{guardian:?} {asking:?}"
            );
        }
    }
}
