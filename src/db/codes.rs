//! Enumerations stored as their codes in `text` columns (a CHECK constraint admits the known
//! codes): written with `code()`, read with `parse()`, and an unknown code read back is an error,
//! never a silent fallback to some other value.

/// Implements diesel's `ToSql`/`FromSql` for `text` on enums that derive `AsExpression` and
/// `FromSqlRow` and have codes ([`crate::domain::reference::Labelled`]).
macro_rules! text_codes {
    ($($ty:ty),+ $(,)?) => {$(
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                let code = crate::domain::reference::Labelled::code(*self);
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    code,
                    &mut out.reborrow(),
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let code = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(value)?;
                <$ty as crate::domain::reference::Labelled>::parse(&code).ok_or_else(|| {
                    format!("unknown {} code {code:?}", stringify!($ty)).into()
                })
            }
        }
    )+};
}

use crate::domain::{
    case_review::{ReviewStatus, Side, Theme},
    child::{AuthoritySource, ParentalAuthority, Relationship},
    consent::{ConsentDecision, ConsentMethod, ConsentPurpose},
    feedback::{AssessmentOutcome, Audience, FeedbackCategory},
    handoff::{
        AgeBand, HandoffKind, HandoffStatus, LegalBasis, ParentsNotInformedReason, Transition,
        Urgency,
    },
    kernteam::{MeetingKind, TeamRole},
    lifecycle::{
        DestructionScope, DestructionStatus, HearingOutcome, RefusalGround, RequesterKind,
    },
    meldcode::{
        CaseStatus, Step,
        approval::{ApprovalVerdict, ProposalSubject},
    },
    organisation::OrganisationKind,
    partner_link::{LinkStatus, PartnerRole},
    signal::{SignalCategory, SignalDirection, SignalSource},
    webhook::DeliveryStatus,
};

text_codes!(
    HandoffKind,
    HandoffStatus,
    LegalBasis,
    AgeBand,
    Urgency,
    ParentsNotInformedReason,
    Transition,
    ProposalSubject,
    ApprovalVerdict,
);

/// Like [`text_codes`], for enums that spell their codes with `as_str` and `FromStr`.
macro_rules! text_codes_from_str {
    ($($ty:ty),+ $(,)?) => {$(
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    &mut out.reborrow(),
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let code = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(value)?;
                code.parse::<$ty>().map_err(|_| {
                    format!("unknown {} code {code:?}", stringify!($ty)).into()
                })
            }
        }
    )+};
}

text_codes!(
    Relationship,
    ParentalAuthority,
    AuthoritySource,
    SignalCategory,
    SignalSource,
    SignalDirection,
    FeedbackCategory,
    AssessmentOutcome,
    Audience,
    ConsentPurpose,
    ConsentDecision,
    ConsentMethod,
    Step,
    CaseStatus,
    DeliveryStatus,
    RequesterKind,
    DestructionScope,
    DestructionStatus,
    RefusalGround,
    HearingOutcome,
    PartnerRole,
    LinkStatus,
    TeamRole,
    MeetingKind,
    ReviewStatus,
    Side,
    Theme,
);

text_codes_from_str!(OrganisationKind);
